package account

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error code. The API families map codes to their own
// statuses and messages (one table per family); codes never change meaning once released.
type Code string

const (
	CodeInvalidInput         Code = "invalid_input"         // a field failed validation; see Field and Reason
	CodeRegistrationDisabled Code = "registration_disabled" // self-service sign-up is switched off
	CodeUsernameTaken        Code = "username_taken"
	CodeEmailTaken           Code = "email_taken"
	CodeInvalidCredentials   Code = "invalid_credentials" // unknown account or wrong secret: one code for both
	CodeNoPassword           Code = "no_password"         // the account has no password (token-only admin account)
	CodeNotFound             Code = "not_found"           // no such account
	CodeNoEmail              Code = "no_email"            // the account has no email to send a code to
	CodeMailFailed           Code = "mail_failed"         // the mail could not be handed to the mail service
	CodeInvalidRequest       Code = "invalid_request"     // an OTP request id unknown or not issued for this account
	CodeInvalidOTP           Code = "invalid_otp"         // wrong one-time password
	CodeOTPExpired           Code = "otp_expired"         // expired, used, or out of attempts
	CodeNotAuthenticated     Code = "not_authenticated"   // no, unknown or expired session
	CodeTokenNotFound        Code = "token_not_found"     // reset token unknown or already used
	CodeTokenExpired         Code = "token_expired"       // reset token exists but is past its expiry
	CodeTooManyAttempts      Code = "too_many_attempts"   // throttled; see RetryAfter
	CodeConflict             Code = "conflict"            // a concurrent change won; the caller may retry
	CodeForbidden            Code = "forbidden"           // authenticated but not allowed
	CodeCannotDeleteSelf     Code = "cannot_delete_self"  // an admin deleting its own account
	CodeInternal             Code = "internal"            // anything unexpected; detail is logged, never returned
	CodeLastAdmin            Code = "last_admin"          // the change would leave no admin
)

// Reason says why a field is invalid (with CodeInvalidInput).
type Reason string

const (
	ReasonEmpty      Reason = "empty"      // "" (an absent field is the API family's concern)
	ReasonWhitespace Reason = "whitespace" // usernames only
	ReasonLength     Reason = "length"     // outside the field's length range, in code points
	ReasonFormat     Reason = "format"     // anything else: bad syntax, invalid UTF-8, control characters
)

// Field names used in validation errors.
const (
	FieldUsername  = "username"
	FieldEmail     = "email"
	FieldPassword  = "password"
	FieldToken     = "token"
	FieldName      = "name"
	FieldBio       = "bio"
	FieldWebsite   = "website"
	FieldPronounce = "pronounce"
)

// Error is the one error type of the domain. Message is safe to show; Err is internal detail
// for logs only.
type Error struct {
	Code       Code
	Field      string        // with CodeInvalidInput
	Reason     Reason        // with CodeInvalidInput
	RetryAfter time.Duration // with CodeTooManyAttempts
	Err        error         // cause, logged not returned
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Field != "" {
		msg += ": " + e.Field
		if e.Reason != "" {
			msg += " " + string(e.Reason)
		}
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Field == "" || t.Field == e.Field) && (t.Reason == "" || t.Reason == e.Reason)
}

// Sentinels for errors.Is; construct new values with E or Invalid when detail matters.
var (
	ErrRegistrationDisabled = &Error{Code: CodeRegistrationDisabled}
	ErrUsernameTaken        = &Error{Code: CodeUsernameTaken}
	ErrEmailTaken           = &Error{Code: CodeEmailTaken}
	ErrInvalidCredentials   = &Error{Code: CodeInvalidCredentials}
	ErrNoPassword           = &Error{Code: CodeNoPassword}
	ErrNotFound             = &Error{Code: CodeNotFound}
	ErrNoEmail              = &Error{Code: CodeNoEmail}
	ErrMailFailed           = &Error{Code: CodeMailFailed}
	ErrInvalidRequest       = &Error{Code: CodeInvalidRequest}
	ErrInvalidOTP           = &Error{Code: CodeInvalidOTP}
	ErrOTPExpired           = &Error{Code: CodeOTPExpired}
	ErrNotAuthenticated     = &Error{Code: CodeNotAuthenticated}
	ErrTokenNotFound        = &Error{Code: CodeTokenNotFound}
	ErrTokenExpired         = &Error{Code: CodeTokenExpired}
	ErrTooManyAttempts      = &Error{Code: CodeTooManyAttempts}
	ErrConflict             = &Error{Code: CodeConflict}
	ErrForbidden            = &Error{Code: CodeForbidden}
	ErrCannotDeleteSelf     = &Error{Code: CodeCannotDeleteSelf}
	ErrLastAdmin            = &Error{Code: CodeLastAdmin}
)

// E returns a new error with the code and an internal cause.
func E(code Code, cause error) *Error { return &Error{Code: code, Err: cause} }

// Invalid returns a validation error for field.
func Invalid(field string, reason Reason) *Error {
	return &Error{Code: CodeInvalidInput, Field: field, Reason: reason}
}

// Internal wraps an unexpected error, keeping the cause for the log.
func Internal(format string, args ...any) *Error {
	return &Error{Code: CodeInternal, Err: fmt.Errorf(format, args...)}
}

// ErrorOf returns err as an *Error, treating anything else as internal.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Err: err}
}

// ErrorCode is the code of err (CodeInternal for foreign errors, "" for nil).
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	return ErrorOf(err).Code
}

package user

import (
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Messages of the family, word for word from the seed document (API.md, "User family"),
// and the Decisions of docs/API.md where the seed has none.
const (
	msgCreated              = "User created successfully"
	msgUsernameLength       = "Username cannot be less than 3 or over 100 characters"
	msgPasswordLength       = "Password cannot be less than 8 or over 200 characters"
	msgNameLength           = "Name cannot be less than 3 or over 150 characters"
	msgBioLength            = "Bio cannot be over 200 characters"
	msgInvalidEmail         = "Invalid email"
	msgUsernameWhitespace   = "Username cannot contain white space"
	msgUsernameNull         = "Username cannot be null"
	msgUsernameEmpty        = "Username cannot be empty"
	msgEmailNull            = "Email cannot be null"
	msgEmailEmpty           = "Email cannot be empty"
	msgPasswordNull         = "Password cannot be null"
	msgPasswordEmpty        = "Password cannot be empty"
	msgNameEmpty            = "name cannot be empty" // sic: the seed's lower case
	msgBioEmpty             = "Bio cannot be empty"  // the seed's "Password cannot be bio" (API.md Decision)
	msgWebsiteEmpty         = "Website cannot be empty"
	msgPronounceEmpty       = "Pronounce cannot be empty"
	msgUserExists           = "User already exists"
	msgEmailExists          = "Email already exists"
	msgRegistrationDisabled = "User registration is disabled"
	msgUsernameInvalid      = "Username is invalid"
	msgAuthenticated        = "Authenticated"
	msgAuthFailed           = "Authenticated failed" // sic
	msgValidation           = "Validation"
	msgSessionNotFound      = "TOKEN was not found"
	msgNoAuthInfo           = "No auth info found"
	msgUserNotFound         = "User not found"
	msgResetTokenGenerated  = "Password reset token generated"
	msgEmailUserNotFound    = "User with this email not found"
	msgEmailNotSent         = "Email could not be sent"
	msgPasswordSet          = "New password has been set successfully"
	msgTokenExpired         = "Token is expired"
	msgTokenNotFound        = "Token not found"
	msgUUIDNull             = "UUID cannot be null"
	msgUUIDEmpty            = "UUID cannot be empty"
	msgLoggedOut            = "Logged out"
	msgTooManyAttempts      = "Too many attempts"
	msgInvalidBody          = "Invalid request body"

	// Decisions (docs/API.md, "User family"): cases the seed and API.md leave open.
	msgWebsiteLength    = "Website cannot be over 200 characters"
	msgPronounceLength  = "Pronounce cannot be over 100 characters"
	msgPasswordInvalid  = "Password is invalid"
	msgNameInvalid      = "Name is invalid"
	msgBioInvalid       = "Bio is invalid"
	msgWebsiteInvalid   = "Website is invalid"
	msgPronounceInvalid = "Pronounce is invalid"
	msgRequestTooLarge  = "Request body too large"
	msgInternal         = "Internal server error"

	// Account lifecycle (API.md, "Account lifecycle"; the 400s are docs/API.md Decisions).
	msgProfileUpdated  = "Profile updated"
	msgAccountDeleted  = "Account deleted"
	msgUsernameFixed   = "Username cannot be changed"
	msgLastAdminDelete = "The last admin cannot be deleted"
	// Sessions a user sees and ends (sessions.go).
	msgSessions            = "Sessions"
	msgSessionIDNotFound   = "Session not found"
	msgLoggedOutEverywhere = "Logged out everywhere"
)

// data values that are not documents.
const (
	dataNull  = "null"
	dataTrue  = "true"
	dataFalse = "false"
)

// body is every answer of the family: three string members.
type body struct {
	StatusCode string `json:"statusCode"`
	Message    string `json:"message"`
	Data       string `json:"data"`
}

// Profile is the public profile, sent JSON-encoded as data by GET /user/profile and
func serverError() apigw.Response {
	return answer(http.StatusInternalServerError, msgInternal, dataNull)
}

// answer builds a response whose body carries the HTTP status as text.
func answer(status int, msg, data string, opts ...apigw.Option) apigw.Response {
	return apigw.JSON(status, body{StatusCode: strconv.Itoa(status), Message: msg, Data: data}, opts...)
}

func fail(status int, msg string, opts ...apigw.Option) apigw.Response {
	return answer(status, msg, dataNull, opts...)
}

func badBody() apigw.Response { return fail(http.StatusBadRequest, msgInvalidBody) }

// refuse is a route's own refusal, answered by the family's table.
func refuse(r apigw.Response) (apigw.Response, error) { return apigw.Response{}, family.Refuse(r) }

// fieldMessages maps a field's validation failure to its answer, per reason.
type fieldMessages struct {
	empty, whitespace, length, format string
}

var invalidField = map[string]fieldMessages{
	account.FieldUsername:  {empty: msgUsernameEmpty, whitespace: msgUsernameWhitespace, length: msgUsernameLength, format: msgUsernameInvalid},
	account.FieldEmail:     {empty: msgEmailEmpty, length: msgInvalidEmail, format: msgInvalidEmail},
	account.FieldPassword:  {empty: msgPasswordEmpty, length: msgPasswordLength, format: msgPasswordInvalid},
	account.FieldName:      {empty: msgNameEmpty, length: msgNameLength, format: msgNameInvalid},
	account.FieldBio:       {empty: msgBioEmpty, length: msgBioLength, format: msgBioInvalid},
	account.FieldWebsite:   {empty: msgWebsiteEmpty, length: msgWebsiteLength, format: msgWebsiteInvalid},
	account.FieldPronounce: {empty: msgPronounceEmpty, length: msgPronounceLength, format: msgPronounceInvalid},
}

// invalid answers a validation error: 400 for empty, white space and format, 406 for a
// length, and 406 "Invalid email" for any malformed email (the seed's row).
func invalid(e *account.Error) apigw.Response {
	m, ok := invalidField[e.Field]
	if !ok {
		return badBody()
	}
	switch e.Reason {
	case account.ReasonEmpty:
		return fail(http.StatusBadRequest, m.empty)
	case account.ReasonWhitespace:
		if m.whitespace != "" {
			return fail(http.StatusBadRequest, m.whitespace)
		}
	case account.ReasonLength:
		return fail(http.StatusNotAcceptable, m.length)
	}
	if e.Field == account.FieldEmail {
		return fail(http.StatusNotAcceptable, msgInvalidEmail)
	}
	return fail(http.StatusBadRequest, m.format)
}

// answerOf is the family's one table from domain errors to answers. Routes where a code
// means something of their own (an unknown account in /user/profile and
// /user/password-reset-token) refuse it themselves.
func answerOf(e *account.Error) (apigw.Response, bool) {
	switch e.Code {
	case account.CodeInvalidInput:
		return invalid(e), true
	case account.CodeRegistrationDisabled:
		return fail(http.StatusForbidden, msgRegistrationDisabled), true
	case account.CodeUsernameTaken:
		return fail(http.StatusConflict, msgUserExists), true
	case account.CodeEmailTaken:
		return fail(http.StatusConflict, msgEmailExists), true
	case account.CodeInvalidCredentials, account.CodeNoPassword:
		return fail(http.StatusUnauthorized, msgAuthFailed), true
	case account.CodeNotAuthenticated:
		return answer(http.StatusNotFound, msgSessionNotFound, dataFalse), true
	case account.CodeNotFound:
		return fail(http.StatusNotFound, msgUserNotFound), true
	case account.CodeTokenNotFound:
		return fail(http.StatusNotFound, msgTokenNotFound), true
	case account.CodeTokenExpired:
		return fail(http.StatusNotAcceptable, msgTokenExpired), true
	case account.CodeMailFailed:
		return fail(http.StatusInternalServerError, msgEmailNotSent), true
	case account.CodeTooManyAttempts:
		return fail(http.StatusTooManyRequests, msgTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter)), true
	case account.CodeSessionNotFound:
		return fail(http.StatusNotFound, msgSessionIDNotFound), true
	case account.CodeUsernameFixed:
		return fail(http.StatusBadRequest, msgUsernameFixed), true
	case account.CodeLastAdmin:
		return fail(http.StatusBadRequest, msgLastAdminDelete), true
	}
	return apigw.Response{}, false
}

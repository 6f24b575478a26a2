package users

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Message codes of the family (API.md, "Users family"): data.message of an answer.
const (
	msgInvalidPassword    = "INVALID_PASSWORD"
	msgLoginWithPassword  = "LOGIN_WITH_PASSWORD"
	msgRegisterForPW      = "REGISTER_FOR_A_PASSWORD"
	msgUserInsertOK       = "USER_INSERT_OK"
	msgUsernameTaken      = "ERROR_LOGIN_WITH_PASSWORD"
	msgEmailAlreadyUsed   = "ERROR_EMAIL_ALREADY_USED"
	msgCantCreateUser     = "CANT_CREATE_USER"
	msgNoEmailSet         = "ERROR_NO_EMAIL_SET"
	msgInvalidUsername    = "ERROR_INVALID_USERNAME"
	msgEmailSendingFailed = "ERROR_EMAIL_SENDING_FAILED"
	msgPasswordResetOK    = "PASSWORD_RESET_OK"
	msgInvalidRequest     = "ERROR_INVALID_REQUEST"
	msgInvalidOTP         = "ERROR_INVALID_OTP"
	msgOTPExpired         = "ERROR_OTP_EXPIRED"
	msgPleaseLogin        = "PLEASE_LOGIN"
	msgLogoutOK           = "LOGOUT_OK"
	msgInvalidInput       = "INVALID_INPUT"
	msgRequestTooLarge    = "ERROR_REQUEST_TOO_LARGE"
	msgTooManyAttempts    = "ERROR_TOO_MANY_ATTEMPTS"
	msgGeneric            = "ERROR_GENERIC"
)

// body is every answer of the family, MMDL's envelope.
type body struct {
	Success any  `json:"success"` // a JSON boolean; the string "true"/"false" on login
	Data    data `json:"data"`
}

type data struct {
	Message any    `json:"message"`           // a code, or the route's documented object
	Details string `json:"details,omitempty"` // with INVALID_INPUT: "<field>: <reason>"
}

// loginMessage is data.message of a successful login.
type loginMessage struct {
	UserHash string `json:"userhash"`
	SSID     string `json:"ssid"`
}

// otpMessage is data.message of a sent OTP.
type otpMessage struct {
	UserHash string `json:"userhash"`
	ReqID    string `json:"reqid"`
}

// userInfo is data.message of /users/info: MMDL's field names up to level, then the
// profile. Never a hash or secret.
type userInfo struct {
	UsersID   int64  `json:"users_id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	UserHash  string `json:"userhash"`
	Created   string `json:"created"` // unix seconds, as MMDL stores it
	Level     string `json:"level"`   // "1" for an admin, else "0"
	Name      string `json:"name"`
	Bio       string `json:"bio"`
	Website   string `json:"website"`
	Pronounce string `json:"pronounce"`
	// EmailVerified is beyond the seed (API.md, "Account lifecycle"); MMDL ignores it.
	EmailVerified bool `json:"email_verified"`
}

// reply is an answer before it is encoded, because the login routes encode "success" as
// a string (MMDL's login route does, and its front end tests body.success === "true")
// while every other route encodes a boolean.
type reply struct {
	status  int
	ok      bool
	message any
	details string
	opts    []apigw.Option
}

func (r reply) response() apigw.Response      { return r.encode(r.ok) }
func (r reply) loginResponse() apigw.Response { return r.encode(strconv.FormatBool(r.ok)) }

func (r reply) encode(success any) apigw.Response {
	return apigw.JSON(r.status, body{Success: success, Data: data{Message: r.message, Details: r.details}}, r.opts...)
}

// A refusing reply is the family's Refusal: a route returns it as its error.
func (r *reply) Error() string          { return "refused: " + fmt.Sprint(r.message) }
func (r *reply) Answer() apigw.Response { return r.response() }

func ok(message any) (apigw.Response, error) {
	return reply{status: http.StatusOK, ok: true, message: message}.response(), nil
}

func refuse(status int, msg string, opts ...apigw.Option) *reply {
	return &reply{status: status, message: msg, opts: opts}
}

func invalid(field, reason string) *reply {
	return &reply{status: http.StatusUnprocessableEntity, message: msgInvalidInput, details: field + ": " + reason}
}

func serverError() apigw.Response {
	return refuse(http.StatusInternalServerError, msgGeneric).response()
}

func answer(e *account.Error) (apigw.Response, bool) {
	r := replyOf(e)
	if r == nil {
		return apigw.Response{}, false
	}
	return r.response(), true
}

// replyOf is the family's one table from domain errors to answers; nil for a fault.
func replyOf(e *account.Error) *reply {
	switch e.Code {
	case account.CodeInvalidInput:
		field := e.Field
		if field == "" {
			field = "request"
		}
		return invalid(field, reason(e))
	case account.CodeRegistrationDisabled:
		return refuse(http.StatusUnauthorized, msgCantCreateUser)
	case account.CodeUsernameTaken:
		return refuse(http.StatusOK, msgUsernameTaken)
	case account.CodeEmailTaken:
		return refuse(http.StatusOK, msgEmailAlreadyUsed)
	case account.CodeInvalidCredentials:
		return refuse(http.StatusUnauthorized, msgInvalidPassword)
	case account.CodeNoPassword:
		return refuse(http.StatusUnauthorized, msgRegisterForPW)
	case account.CodeNotFound:
		return refuse(http.StatusForbidden, msgInvalidUsername)
	case account.CodeNoEmail:
		return refuse(http.StatusOK, msgNoEmailSet)
	case account.CodeMailFailed:
		return refuse(http.StatusInternalServerError, msgEmailSendingFailed)
	case account.CodeInvalidRequest:
		return refuse(http.StatusForbidden, msgInvalidRequest)
	case account.CodeInvalidOTP:
		return refuse(http.StatusUnauthorized, msgInvalidOTP)
	case account.CodeOTPExpired:
		return refuse(http.StatusUnauthorized, msgOTPExpired)
	case account.CodeNotAuthenticated:
		return refuse(http.StatusUnauthorized, msgPleaseLogin)
	case account.CodeTooManyAttempts:
		return refuse(http.StatusTooManyRequests, msgTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter))
	}
	return nil
}

// reason words a validation error for data.details.
func reason(e *account.Error) string {
	switch e.Reason {
	case account.ReasonEmpty:
		return "must not be empty"
	case account.ReasonWhitespace:
		return "must not contain white space"
	case account.ReasonLength:
		switch e.Field {
		case account.FieldUsername:
			return fmt.Sprintf("must be %d to %d characters", account.UsernameMin, account.UsernameMax)
		case account.FieldPassword, account.FieldToken:
			return fmt.Sprintf("must be %d to %d characters", account.PasswordMin, account.PasswordMax)
		case account.FieldEmail:
			return fmt.Sprintf("must be at most %d characters", account.EmailMax)
		}
		return "has an invalid length"
	}
	return "invalid"
}

// Package accountv1 is the Account v1 API family (/api/user/v1/*, the Amadis user API;
// docs/API.md, "Account v1 family"): it translates between its wire format — parameters as a
// form (or a JSON object), answers in JSend ({"status":"success"|"fail"|"error",...}) — and
// the account domain.
package accountv1

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// JSend statuses.
const (
	statusSuccess = "success"
	statusFail    = "fail"
	statusError   = "error"
)

// Wire field names of the family (seed 002), and the member that carries a failure that
// belongs to no field.
const (
	fieldName        = "name"
	fieldEmail       = "email"
	fieldPassword    = "password"
	fieldOldPassword = "oldpassword"
	fieldNewPassword = "newpassword"
	fieldMessage     = "message"
)

// Reasons of a "fail" answer (API.md, "Account v1 family", and the decisions of
// docs/API.md).
const (
	reasonRequired         = "required"          // absent or JSON null
	reasonEmpty            = "must not be empty" // ""
	reasonNotString        = "must be a string"  // a JSON number, boolean, object or array
	reasonTooShort         = "too short"
	reasonTooLong          = "too long"
	reasonInvalidChars     = "invalid characters"
	reasonInvalidEmail     = "invalid email address"
	reasonUnsupportedEmail = "unsupported email address" // a valid address that is no valid username
	reasonInvalid          = "invalid"
	reasonBadLength        = "invalid length"
	reasonAlreadyReg       = "already registered"
	reasonWrongPassword    = "wrong password"

	msgRegistrationOff = "registration is disabled"
	msgAuthRequired    = "authorization required"
	msgTooManyAttempts = "too many attempts"
	msgInvalidBody     = "invalid request body"
	msgTooLarge        = "request body too large"
	msgInternal        = "internal server error"
)

// envelope is every answer of the family: JSend. Data is left out when nil (a success
// without data), Message is set only with status "error".
type envelope struct {
	Status  string `json:"status"`
	Data    any    `json:"data,omitempty"`
	Message string `json:"message,omitempty"`
}

type registered struct {
	UserID     int64  `json:"user_id"`
	UserSecret string `json:"user_secret"`
}

type reset struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Handler serves the family's routes.
type Handler struct{ family.Base }

// New returns the family's handler.
func New(svc *account.Service, log *slog.Logger) *Handler {
	return &Handler{family.New(svc, log, answer, serverError)}
}

func serverError() apigw.Response {
	return apigw.JSON(http.StatusInternalServerError, envelope{Status: statusError, Message: msgInternal})
}

func success(status int, data any) apigw.Response {
	return apigw.JSON(status, envelope{Status: statusSuccess, Data: data})
}

// fail answers a client error; data maps a field (or "message") to its reason.
func fail(status int, data map[string]string, opts ...apigw.Option) apigw.Response {
	return apigw.JSON(status, envelope{Status: statusFail, Data: data}, opts...)
}

func failMessage(status int, msg string, opts ...apigw.Option) apigw.Response {
	return fail(status, map[string]string{fieldMessage: msg}, opts...)
}

// wireField names the domain's fields as the family's routes do: a new account's username
// is its email address, and changepassword's password is "newpassword" (the only route
// that sends a password to the domain under another name).
var wireField = map[string]string{account.FieldUsername: fieldEmail, account.FieldPassword: fieldNewPassword}

// answer is the family's one table from domain errors to answers.
func answer(e *account.Error) (apigw.Response, bool) {
	switch e.Code {
	case account.CodeInvalidInput:
		// The handlers validate every field before calling the domain, so this is only a
		// safety net: the reason is the generic one for the domain's reason.
		field := e.Field
		if f, ok := wireField[field]; ok {
			field = f
		}
		return fail(http.StatusBadRequest, map[string]string{field: genericReason(e.Reason)}), true
	case account.CodeRegistrationDisabled:
		return failMessage(http.StatusForbidden, msgRegistrationOff), true
	case account.CodeUsernameTaken, account.CodeEmailTaken:
		// The username of an account made here is its email address, so either key taken
		// means the address is.
		return fail(http.StatusConflict, map[string]string{fieldEmail: reasonAlreadyReg}), true
	case account.CodeInvalidCredentials, account.CodeNoPassword:
		return fail(http.StatusUnprocessableEntity, map[string]string{fieldOldPassword: reasonWrongPassword}), true
	case account.CodeNotAuthenticated, account.CodeForbidden, account.CodeNotFound:
		return failMessage(http.StatusUnauthorized, msgAuthRequired), true
	case account.CodeTooManyAttempts:
		return failMessage(http.StatusTooManyRequests, msgTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter)), true
	}
	return apigw.Response{}, false
}

func genericReason(r account.Reason) string {
	switch r {
	case account.ReasonEmpty:
		return reasonEmpty
	case account.ReasonLength:
		return reasonBadLength
	}
	return reasonInvalid
}

// params decodes the request's parameters, or answers the family's body error.
func params(req *events.APIGatewayV2HTTPRequest) (apigw.Params, error) {
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		return nil, family.Refuse(failMessage(http.StatusRequestEntityTooLarge, msgTooLarge))
	}
	if err != nil {
		return nil, family.Refuse(failMessage(http.StatusBadRequest, msgInvalidBody))
	}
	return p, nil
}

// fieldErrors collects one reason per invalid field; every invalid field is reported.
type fieldErrors map[string]string

// fields decodes the parameters (params) and has read take the route's fields from them;
// the error is the body's, or the one fail answer naming every invalid field.
func fields(req *events.APIGatewayV2HTTPRequest, read func(apigw.Params, fieldErrors)) error {
	p, err := params(req)
	if err != nil {
		return err
	}
	fe := fieldErrors{}
	read(p, fe)
	return fe.err()
}

// text returns the named string parameter, recording why it is unusable when it is absent,
// null, "" or not a string. ok is false when a reason was recorded.
func (fe fieldErrors) text(p apigw.Params, name string) (string, bool) {
	v := p.Get(name)
	switch v.Kind {
	case apigw.Absent, apigw.Null:
		fe[name] = reasonRequired
	case apigw.String:
		if v.Text != "" {
			return v.Text, true
		}
		fe[name] = reasonEmpty
	default:
		fe[name] = reasonNotString
	}
	return "", false
}

// checked is text, with the value's reason under rule recorded too ("" is no reason).
func (fe fieldErrors) checked(p apigw.Params, name string, rule func(string) string) string {
	s, ok := fe.text(p, name)
	if ok {
		if r := rule(s); r != "" {
			fe[name] = r
		}
	}
	return s
}

// err is the refusal naming every invalid field, nil when there is none.
func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return family.Refuse(fail(http.StatusBadRequest, fe))
}

// lengthReason says whether s is under min or over the maximum of its rule.
func lengthReason(s string, min int) string {
	if utf8.RuneCountInString(s) < min {
		return reasonTooShort
	}
	return reasonTooLong
}

// reasonOf turns a domain validation error of value s into the family's reason.
func reasonOf(err error, s string, min int) string {
	if err == nil {
		return ""
	}
	e := account.ErrorOf(err)
	if e.Code != account.CodeInvalidInput {
		return reasonInvalid
	}
	switch e.Reason {
	case account.ReasonEmpty:
		return reasonEmpty
	case account.ReasonLength:
		return lengthReason(s, min)
	}
	return reasonInvalidChars
}

// nameReason checks a name against the shared profile rule (3 to 150 code points).
func nameReason(name string) string {
	return reasonOf(account.Profile{Name: &name}.Validate(), name, account.NameMin)
}

// passwordReason checks a new password against the shared rule (8 to 200 code points).
func passwordReason(pw string) string {
	return reasonOf(account.ValidatePassword(pw), pw, account.PasswordMin)
}

// emailReason checks an address against the shared email rule (at most 254 code points,
// one bare address).
func emailReason(email string) string {
	if _, err := account.ParseEmail(email); err != nil {
		if account.ErrorOf(err).Reason == account.ReasonLength {
			return reasonTooLong
		}
		return reasonInvalidEmail
	}
	return ""
}

// registerEmailReason checks the address of a new account, which is also its username:
// at most 100 code points (the username limit), a valid address, and a valid username
// once lowercased.
func registerEmailReason(email string) string {
	if utf8.RuneCountInString(email) > account.UsernameMax {
		return reasonTooLong
	}
	if r := emailReason(email); r != "" {
		return r
	}
	if _, err := account.ParseUsername(strings.ToLower(email)); err != nil {
		return reasonUnsupportedEmail
	}
	return ""
}

// Register is POST /api/user/v1/register.
func (h *Handler) Register(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	// The switch comes first: a closed registration is the answer whatever the body says.
	if err := h.Svc.RegistrationOpen(); err != nil {
		return apigw.Response{}, err
	}
	var name, email, pw string
	if err := fields(req, func(p apigw.Params, fe fieldErrors) {
		name = fe.checked(p, fieldName, nameReason)
		email = fe.checked(p, fieldEmail, registerEmailReason)
		pw = fe.checked(p, fieldPassword, passwordReason)
	}); err != nil {
		return apigw.Response{}, err
	}
	created, err := h.Svc.Register(ctx, account.NewAccount{
		Username:       strings.ToLower(email),
		Email:          email,
		Password:       pw,
		Profile:        account.Profile{Name: &name},
		WithUserSecret: true,
		SelfService:    true,
	})
	if err != nil {
		return apigw.Response{}, err
	}
	return success(http.StatusCreated, registered{UserID: created.Account.UserID, UserSecret: created.UserSecret}), nil
}

// ChangePassword is PATCH /api/user/v1/changepassword.
func (h *Handler) ChangePassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	var email, oldPW, newPW string
	if err := fields(req, func(p apigw.Params, fe fieldErrors) {
		email = fe.checked(p, fieldEmail, emailReason)
		// Any old password is only checked against the stored one: one that breaks the
		// rule cannot match, and answers like any wrong password.
		oldPW, _ = fe.text(p, fieldOldPassword)
		newPW = fe.checked(p, fieldNewPassword, passwordReason)
	}); err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.ChangePasswordByEmail(ctx, email, oldPW, newPW); err != nil {
		return apigw.Response{}, err
	}
	return success(http.StatusOK, nil), nil
}

// ResetPassword is PATCH /api/user/v1/resetpassword.
func (h *Handler) ResetPassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	var email string
	if err := fields(req, func(p apigw.Params, fe fieldErrors) {
		email = fe.checked(p, fieldEmail, emailReason)
	}); err != nil {
		return apigw.Response{}, err
	}
	a, pw, err := h.Svc.ResetPasswordAuthorized(ctx, email, resetCredentials(req))
	if err != nil {
		return apigw.Response{}, err
	}
	return success(http.StatusOK, reset{Email: a.Email, Password: pw}), nil
}

// resetCredentials reads what the request presents: the account's user_secret as a Bearer
// token, or Basic credentials of an admin.
func resetCredentials(req *events.APIGatewayV2HTTPRequest) account.ResetCredentials {
	var c account.ResetCredentials
	if secret, ok := apigw.Bearer(req); ok {
		c.UserSecret, c.HasUserSecret = secret, true
	} else if user, secret, ok := apigw.Basic(req); ok {
		c.AdminName, c.AdminSecret, c.HasAdmin = user, secret, true
	}
	return c
}

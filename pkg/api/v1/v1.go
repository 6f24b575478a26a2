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
type Handler struct {
	svc *account.Service
	log *slog.Logger
}

// New returns the family's handler.
func New(svc *account.Service, log *slog.Logger) *Handler { return &Handler{svc: svc, log: log} }

// Lambda wraps a route for lambda.Start.
func (h *Handler) Lambda(route apigw.HandlerFunc) apigw.LambdaHandler {
	return apigw.Handle(h.log, serverError, route)
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

// errorResponse is the family's one table from domain errors to answers. fields renames
// the domain's field names to the route's wire names (changepassword's password is
// "newpassword"). Internal detail is logged here and never returned.
func (h *Handler) errorResponse(ctx context.Context, err error, fields map[string]string) apigw.Response {
	e := account.ErrorOf(err)
	switch e.Code {
	case account.CodeInvalidInput:
		// The handlers validate every field before calling the domain, so this is only a
		// safety net: the reason is the generic one for the domain's reason.
		field := e.Field
		if f, ok := fields[field]; ok {
			field = f
		}
		return fail(http.StatusBadRequest, map[string]string{field: genericReason(e.Reason)})
	case account.CodeRegistrationDisabled:
		return failMessage(http.StatusForbidden, msgRegistrationOff)
	case account.CodeUsernameTaken, account.CodeEmailTaken:
		// The username of an account made here is its email address, so either key taken
		// means the address is.
		return fail(http.StatusConflict, map[string]string{fieldEmail: reasonAlreadyReg})
	case account.CodeInvalidCredentials, account.CodeNoPassword:
		return fail(http.StatusUnprocessableEntity, map[string]string{fieldOldPassword: reasonWrongPassword})
	case account.CodeNotAuthenticated, account.CodeForbidden, account.CodeNotFound:
		return failMessage(http.StatusUnauthorized, msgAuthRequired)
	case account.CodeTooManyAttempts:
		return failMessage(http.StatusTooManyRequests, msgTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter))
	}
	h.log.ErrorContext(ctx, "request failed", "code", string(e.Code), "error", e.Error())
	return serverError()
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
func params(req *events.APIGatewayV2HTTPRequest) (apigw.Params, *apigw.Response) {
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		r := failMessage(http.StatusRequestEntityTooLarge, msgTooLarge)
		return nil, &r
	}
	if err != nil {
		r := failMessage(http.StatusBadRequest, msgInvalidBody)
		return nil, &r
	}
	return p, nil
}

// fieldErrors collects one reason per invalid field; every invalid field is reported.
type fieldErrors map[string]string

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

func (fe fieldErrors) add(name string, reason string) bool {
	if reason == "" {
		return true
	}
	fe[name] = reason
	return false
}

func (fe fieldErrors) response() apigw.Response { return fail(http.StatusBadRequest, fe) }

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
func (h *Handler) Register(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	// The switch comes first: a closed registration is the answer whatever the body says.
	if !h.svc.AllowRegistration {
		return failMessage(http.StatusForbidden, msgRegistrationOff)
	}
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	fe := fieldErrors{}
	if name, ok := fe.text(p, fieldName); ok {
		fe.add(fieldName, reasonOf(account.Profile{Name: &name}.Validate(), name, account.NameMin))
	}
	if email, ok := fe.text(p, fieldEmail); ok {
		fe.add(fieldEmail, registerEmailReason(email))
	}
	if pw, ok := fe.text(p, fieldPassword); ok {
		fe.add(fieldPassword, passwordReason(pw))
	}
	if len(fe) > 0 {
		return fe.response()
	}
	name, email, pw := p.Get(fieldName).Text, p.Get(fieldEmail).Text, p.Get(fieldPassword).Text
	created, err := h.svc.Register(ctx, account.NewAccount{
		Username:       strings.ToLower(email),
		Email:          email,
		Password:       pw,
		Profile:        account.Profile{Name: &name},
		WithUserSecret: true,
		SelfService:    true,
	})
	if err != nil {
		return h.errorResponse(ctx, err, map[string]string{account.FieldUsername: fieldEmail})
	}
	return success(http.StatusCreated, registered{UserID: created.Account.UserID, UserSecret: created.UserSecret})
}

// ChangePassword is PATCH /api/user/v1/changepassword.
func (h *Handler) ChangePassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	fe := fieldErrors{}
	email, ok := fe.text(p, fieldEmail)
	if ok {
		fe.add(fieldEmail, emailReason(email))
	}
	// Any old password is only checked against the stored one: one that breaks the rule
	// cannot match, and answers like any wrong password.
	oldPW, _ := fe.text(p, fieldOldPassword)
	newPW, ok := fe.text(p, fieldNewPassword)
	if ok {
		fe.add(fieldNewPassword, passwordReason(newPW))
	}
	if len(fe) > 0 {
		return fe.response()
	}
	if err := h.svc.ChangePasswordByEmail(ctx, email, oldPW, newPW); err != nil {
		return h.errorResponse(ctx, err, map[string]string{account.FieldPassword: fieldNewPassword})
	}
	return success(http.StatusOK, nil)
}

// ResetPassword is PATCH /api/user/v1/resetpassword.
func (h *Handler) ResetPassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	fe := fieldErrors{}
	email, ok := fe.text(p, fieldEmail)
	if ok {
		fe.add(fieldEmail, emailReason(email))
	}
	if len(fe) > 0 {
		return fe.response()
	}
	a, bySecret, err := h.authorizeReset(ctx, req, email)
	if err != nil {
		return h.errorResponse(ctx, err, nil)
	}
	// Only a reset with the account's own user_secret keeps that secret working.
	resetFn := h.svc.ResetPasswordGenerated
	if bySecret {
		resetFn = h.svc.ResetPasswordWithSecret
	}
	pw, err := resetFn(ctx, a)
	if err != nil {
		return h.errorResponse(ctx, err, nil)
	}
	return success(http.StatusOK, reset{Email: a.Email, Password: pw})
}

// dummySecretHash is compared against when the account is unknown, so that the secret
// check costs the same either way.
var dummySecretHash = account.HashSecret("no account has this user_secret")

// authorizeReset returns the account of email, and bySecret, when the request may reset its password:
// it presents that account's user_secret as a Bearer token (then bySecret), or Basic
// credentials of an admin. Every other case (no or other credentials, unknown email, wrong
// secret, a non-admin's credentials) is ErrNotAuthenticated, so the answer does not tell
// them apart.
func (h *Handler) authorizeReset(ctx context.Context, req *events.APIGatewayV2HTTPRequest, email string) (*account.Account, bool, error) {
	if secret, ok := apigw.Bearer(req); ok {
		a, err := h.svc.AccountByEmail(ctx, email)
		if errors.Is(err, account.ErrNotFound) {
			account.SecretMatches(dummySecretHash, secret)
			return nil, false, account.ErrNotAuthenticated
		}
		if err != nil {
			return nil, false, err
		}
		if a.SecretHash == "" {
			account.SecretMatches(dummySecretHash, secret)
			return nil, false, account.ErrNotAuthenticated
		}
		if !account.SecretMatches(a.SecretHash, secret) {
			return nil, false, account.ErrNotAuthenticated
		}
		return a, true, nil
	}
	if user, secret, ok := apigw.Basic(req); ok {
		_, err := h.svc.AuthenticateAdmin(ctx, user, secret)
		switch account.ErrorCode(err) {
		case "":
		case account.CodeInvalidCredentials, account.CodeForbidden, account.CodeNoPassword:
			return nil, false, account.ErrNotAuthenticated
		default:
			return nil, false, err
		}
		a, err := h.svc.AccountByEmail(ctx, email)
		if errors.Is(err, account.ErrNotFound) {
			return nil, false, account.ErrNotAuthenticated
		}
		return a, false, err
	}
	return nil, false, account.ErrNotAuthenticated
}

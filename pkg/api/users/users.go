// Package users is the Users API family (/users/*, seed document 000): it translates
// between its wire format — parameters as JSON or form, answers as
// {"success":bool,"message":CODE,...} — and the account domain.
package users

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Message codes of the family (API.md, "Users family").
const (
	msgLoginOK            = "LOGIN_OK"
	msgInvalidPassword    = "INVALID_PASSWORD"
	msgRegisterForPW      = "REGISTER_FOR_A_PASSWORD"
	msgUserInsertOK       = "USER_INSERT_OK"
	msgLoginWithPassword  = "ERROR_LOGIN_WITH_PASSWORD"
	msgEmailAlreadyUsed   = "ERROR_EMAIL_ALREADY_USED"
	msgCantCreateUser     = "CANT_CREATE_USER"
	msgOTPSent            = "OTP_SENT"
	msgNoEmailSet         = "ERROR_NO_EMAIL_SET"
	msgInvalidUsername    = "ERROR_INVALID_USERNAME"
	msgEmailSendingFailed = "ERROR_EMAIL_SENDING_FAILED"
	msgPasswordModified   = "PASSWORD_MODIFIED"
	msgInvalidRequest     = "ERROR_INVALID_REQUEST"
	msgInvalidOTP         = "ERROR_INVALID_OTP"
	msgOTPExpired         = "ERROR_OTP_EXPIRED"
	msgUserInfo           = "USER_INFO"
	msgNotAuthenticated   = "ERROR_NOT_AUTHENTICATED"
	msgLogoutOK           = "LOGOUT_OK"
	msgMissingParameter   = "ERROR_MISSING_PARAMETER"
	msgBadUsernameFormat  = "ERROR_INVALID_USERNAME_FORMAT"
	msgBadPasswordFormat  = "ERROR_INVALID_PASSWORD_FORMAT"
	msgBadEmailFormat     = "ERROR_INVALID_EMAIL_FORMAT"
	msgTooManyAttempts    = "ERROR_TOO_MANY_ATTEMPTS"
	// Decisions (docs/API.md): a body that cannot be read, one over 64 KiB, and the
	// generic server error.
	msgInvalidBody     = "ERROR_INVALID_BODY"
	msgRequestTooLarge = "ERROR_REQUEST_TOO_LARGE"
	msgInternal        = "ERROR_INTERNAL"
)

// body is every answer of the family; optional members are left out when empty.
type body struct {
	Success  bool      `json:"success"`
	Message  string    `json:"message"`
	UserHash string    `json:"userhash,omitempty"`
	SSID     string    `json:"ssid,omitempty"`
	ReqID    string    `json:"reqid,omitempty"`
	User     *userInfo `json:"user,omitempty"`
}

type userInfo struct {
	UserID    int64  `json:"user_id"`
	Username  string `json:"username"`
	UserHash  string `json:"userhash"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Bio       string `json:"bio"`
	Website   string `json:"website"`
	Pronounce string `json:"pronounce"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at"`
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

func serverError() apigw.Response { return fail(http.StatusInternalServerError, msgInternal) }

func ok(b body, opts ...apigw.Option) apigw.Response {
	b.Success = true
	return apigw.JSON(http.StatusOK, b, opts...)
}

func fail(status int, msg string, opts ...apigw.Option) apigw.Response {
	return apigw.JSON(status, body{Message: msg}, opts...)
}

// errorResponse is the family's one table from domain errors to answers. Internal detail
// is logged here and never returned.
func (h *Handler) errorResponse(ctx context.Context, err error) apigw.Response {
	e := account.ErrorOf(err)
	switch e.Code {
	case account.CodeInvalidInput:
		switch e.Field {
		case account.FieldUsername:
			return fail(http.StatusBadRequest, msgBadUsernameFormat)
		case account.FieldPassword:
			return fail(http.StatusBadRequest, msgBadPasswordFormat)
		case account.FieldEmail:
			return fail(http.StatusBadRequest, msgBadEmailFormat)
		}
		return fail(http.StatusBadRequest, msgMissingParameter)
	case account.CodeRegistrationDisabled:
		return fail(http.StatusUnauthorized, msgCantCreateUser)
	case account.CodeUsernameTaken:
		return fail(http.StatusOK, msgLoginWithPassword)
	case account.CodeEmailTaken:
		return fail(http.StatusOK, msgEmailAlreadyUsed)
	case account.CodeInvalidCredentials:
		return fail(http.StatusUnauthorized, msgInvalidPassword)
	case account.CodeNoPassword:
		return fail(http.StatusUnauthorized, msgRegisterForPW)
	case account.CodeNotFound:
		return fail(http.StatusForbidden, msgInvalidUsername)
	case account.CodeNoEmail:
		return fail(http.StatusOK, msgNoEmailSet)
	case account.CodeMailFailed:
		h.log.ErrorContext(ctx, "mail not sent", "error", e.Error())
		return fail(http.StatusInternalServerError, msgEmailSendingFailed)
	case account.CodeInvalidRequest:
		return fail(http.StatusForbidden, msgInvalidRequest)
	case account.CodeInvalidOTP:
		return fail(http.StatusUnauthorized, msgInvalidOTP)
	case account.CodeOTPExpired:
		return fail(http.StatusUnauthorized, msgOTPExpired)
	case account.CodeNotAuthenticated:
		return fail(http.StatusUnauthorized, msgNotAuthenticated)
	case account.CodeTooManyAttempts:
		return fail(http.StatusTooManyRequests, msgTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter))
	}
	h.log.ErrorContext(ctx, "request failed", "code", string(e.Code), "error", e.Error())
	return serverError()
}

// params decodes the request's parameters, or answers the family's body error.
func params(req *events.APIGatewayV2HTTPRequest) (apigw.Params, *apigw.Response) {
	p, err := apigw.DecodeParams(req)
	if err == apigw.ErrBodyTooLarge {
		r := fail(http.StatusRequestEntityTooLarge, msgRequestTooLarge)
		return nil, &r
	}
	if err != nil {
		r := fail(http.StatusBadRequest, msgInvalidBody)
		return nil, &r
	}
	return p, nil
}

// required returns the named string parameters; ok is false when any is missing: absent,
// null, "" or not a string (a number or object is no username either). Numbers are read
// as their literal for the names in numeric, since a client may well send an OTP as one.
func required(p apigw.Params, names ...string) (vals []string, ok bool) {
	vals = make([]string, len(names))
	for i, n := range names {
		v := p.Get(n)
		switch {
		case v.Missing():
			return nil, false
		case v.Kind == apigw.String:
			vals[i] = v.Text
		case v.Kind == apigw.Number && n == "OTP":
			vals[i] = v.Text
		default:
			return nil, false
		}
	}
	return vals, true
}

func missing() apigw.Response { return fail(http.StatusBadRequest, msgMissingParameter) }

// Login is POST /users/login.
func (h *Handler) Login(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	v, found := required(p, "username", "password")
	if !found {
		return missing()
	}
	a, token, err := h.svc.Login(ctx, v[0], v[1])
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	return ok(body{Message: msgLoginOK, UserHash: a.UserHash(), SSID: token})
}

// Register is POST /users/register.
func (h *Handler) Register(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	// The switch comes first: a closed registration is the answer whatever the body says.
	if !h.svc.AllowRegistration {
		return fail(http.StatusUnauthorized, msgCantCreateUser)
	}
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	v, found := required(p, "username", "password")
	if !found {
		return missing()
	}
	email := p.Get("email")
	if !email.Missing() && email.Kind != apigw.String {
		return fail(http.StatusBadRequest, msgBadEmailFormat)
	}
	_, err := h.svc.Register(ctx, account.NewAccount{
		Username: v[0], Password: v[1], Email: email.Text, SelfService: true,
	})
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	return ok(body{Message: msgUserInsertOK})
}

// RequestOTP is POST /users/requestotp.
func (h *Handler) RequestOTP(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	v, found := required(p, "username")
	if !found {
		return missing()
	}
	a, reqID, err := h.svc.RequestOTP(ctx, v[0])
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	return ok(body{Message: msgOTPSent, UserHash: a.UserHash(), ReqID: reqID})
}

// ModifyPassword is POST /users/modifypassword.
func (h *Handler) ModifyPassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req)
	if bad != nil {
		return *bad
	}
	v, found := required(p, "userhash", "OTP", "reqid", "password")
	if !found {
		return missing()
	}
	userHash, code, reqID, pw := strings.ToLower(v[0]), v[1], v[2], v[3]
	if err := h.svc.ChangePasswordWithOTP(ctx, userHash, reqID, code, pw); err != nil {
		return h.errorResponse(ctx, err)
	}
	return ok(body{Message: msgPasswordModified, UserHash: userHash, ReqID: reqID})
}

// Info is GET /users/info.
func (h *Handler) Info(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	token, _ := apigw.SessionToken(req)
	a, _, err := h.svc.Authorize(ctx, token)
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	return ok(body{Message: msgUserInfo, User: &userInfo{
		UserID:    a.UserID,
		Username:  a.Username,
		UserHash:  a.UserHash(),
		Email:     a.Email,
		Name:      a.Name,
		Bio:       a.Bio,
		Website:   a.Website,
		Pronounce: a.Pronounce,
		Role:      string(a.Role),
		CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339),
	}})
}

// Logout is POST /users/logout: it ends the presented session.
func (h *Handler) Logout(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	token, _ := apigw.SessionToken(req)
	if err := h.svc.Logout(ctx, token); err != nil {
		return h.errorResponse(ctx, err)
	}
	return ok(body{Message: msgLogoutOK})
}

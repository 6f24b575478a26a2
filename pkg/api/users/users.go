// Package users is the Users API family (/users/*, the API of Manage My Damn Life;
// docs/API.md, "Users family"): it translates between its wire format — parameters as JSON, form or query
// string, answers as {"success":bool,"data":{"message":CODE or object}} — and the account
// domain.
package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Handler serves the family's routes.
type Handler struct{ family.Base }

// New returns the family's handler.
func New(svc *account.Service, log *slog.Logger) *Handler {
	return &Handler{family.New(svc, log, answer, serverError)}
}

// Login is POST /users/login and POST /login. Its answers carry "success" as a string,
// a server fault's too, so it answers its own panics rather than leaving them to Lambda's
// wrapper, whose generic error has a boolean.
func (h *Handler) Login(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (resp apigw.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.Log.ErrorContext(ctx, "handler panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = refuse(http.StatusInternalServerError, msgGeneric).loginResponse()
		}
	}()
	r, err := h.login(ctx, req)
	if err != nil {
		r = h.loginRefusal(ctx, err)
	}
	return r.loginResponse(), nil
}

// loginRefusal is Answer for the login route's encoding.
func (h *Handler) loginRefusal(ctx context.Context, err error) reply {
	if r, ok := errors.AsType[*reply](err); ok {
		return *r
	}
	e := account.ErrorOf(err)
	if r := replyOf(e); r != nil {
		return *r
	}
	h.Fault(ctx, e)
	return *refuse(http.StatusInternalServerError, msgGeneric)
}

func (h *Handler) login(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (reply, error) {
	p, v, err := requiredParams(req, "username")
	if err != nil {
		return reply{}, err
	}
	username := v[0]
	pw := p.Get("password")
	if pw.Missing() {
		return reply{}, h.withoutPassword(ctx, username, false)
	}
	if pw.Kind != apigw.String {
		return reply{}, invalid("password", "must be a string")
	}
	a, token, err := h.Svc.Login(ctx, username, pw.Text)
	if errors.Is(err, account.ErrInvalidCredentials) && account.ValidatePassword(pw.Text) != nil {
		// Refused before any check; only this failure path pays the extra read.
		return reply{}, h.withoutPassword(ctx, username, true)
	}
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusOK, ok: true, message: loginMessage{UserHash: a.UserHash(), SSID: token}}, nil
}

// withoutPassword answers a login whose password is not checked: none was given, or one
// outside the rules, which cannot match. An account without a password is told to get
// one (REGISTER_FOR_A_PASSWORD, API.md: "whether or not a password was given"), and so
// is an unknown name when no password was given; otherwise LOGIN_WITH_PASSWORD, or
// INVALID_PASSWORD when a password was given (unknown and wrong are one answer). No check
// runs, so nothing counts toward the account's failed-check limit.
func (h *Handler) withoutPassword(ctx context.Context, username string, passwordGiven bool) error {
	a, err := h.Svc.AccountByUsername(ctx, username)
	switch {
	case errors.Is(err, account.ErrNotFound) && passwordGiven:
		return refuse(http.StatusUnauthorized, msgInvalidPassword)
	case errors.Is(err, account.ErrNotFound):
		return refuse(http.StatusUnauthorized, msgRegisterForPW)
	case err != nil:
		return err
	case a.PasswordHash == "":
		return refuse(http.StatusUnauthorized, msgRegisterForPW)
	case passwordGiven:
		return refuse(http.StatusUnauthorized, msgInvalidPassword)
	}
	return refuse(http.StatusUnauthorized, msgLoginWithPassword)
}

// Register is POST /users/register.
func (h *Handler) Register(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	// The switch comes first: a closed registration is the answer whatever the body says.
	if err := h.Svc.RegistrationOpen(); err != nil {
		return apigw.Response{}, err
	}
	p, v, err := requiredParams(req, "username", "password")
	if err != nil {
		return apigw.Response{}, err
	}
	email := p.Get("email")
	if !email.Missing() && email.Kind != apigw.String {
		return apigw.Response{}, invalid("email", "must be a string")
	}
	_, err = h.Svc.Register(ctx, account.NewAccount{
		Username: v[0], Password: v[1], Email: email.Text, SelfService: true,
	})
	if err != nil {
		return apigw.Response{}, err
	}
	return ok(msgUserInsertOK)
}

// RequestOTP is POST /users/requestotp and GET /users/requestotp?username=.
func (h *Handler) RequestOTP(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	_, v, err := requiredParams(req, "username")
	if err != nil {
		return apigw.Response{}, err
	}
	a, reqID, err := h.Svc.RequestOTP(ctx, v[0])
	if err != nil {
		return apigw.Response{}, err
	}
	return ok(otpMessage{UserHash: a.UserHash(), ReqID: reqID})
}

// ModifyPassword is POST /users/modifypassword.
func (h *Handler) ModifyPassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	p, user, err := requiredParams(req, "userhash")
	if err != nil {
		return apigw.Response{}, err
	}
	code, err := otpParam(p)
	if err != nil {
		return apigw.Response{}, err
	}
	v, err := required(p, "reqid", "password")
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.ChangePasswordWithOTP(ctx, strings.ToLower(user[0]), v[0], code, v[1]); err != nil {
		return apigw.Response{}, err
	}
	return ok(msgPasswordResetOK)
}

// presented returns the session a request presents. MMDL's front end sends
// "Authorization: Basic base64(userhash:ssid)"; a Basic header decides even when it is
// malformed (then userHash is "", which matches no account). Otherwise the shared forms:
// Bearer, cookie TOKEN or ssid.
func presented(req *events.APIGatewayV2HTTPRequest) (userHash, token string, basic bool) {
	scheme, _, _ := strings.Cut(strings.TrimSpace(apigw.Header(req, "authorization")), " ")
	if strings.EqualFold(scheme, "Basic") {
		userHash, token, _ = apigw.Basic(req)
		return userHash, token, true
	}
	token, _ = apigw.SessionToken(req)
	return "", token, false
}

// Info is GET /users/info.
func (h *Handler) Info(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	var (
		a   *account.Account
		err error
	)
	if userHash, token, basic := presented(req); basic {
		a, _, err = h.Svc.AuthorizeAs(ctx, userHash, token)
	} else {
		a, _, err = h.Svc.Authorize(ctx, token)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	level := "0"
	if a.Role == account.RoleAdmin {
		level = "1"
	}
	return ok(userInfo{
		UsersID:   a.UserID,
		Username:  a.Username,
		Email:     a.Email,
		UserHash:  a.UserHash(),
		Created:   strconv.FormatInt(a.CreatedAt.Unix(), 10),
		Level:     level,
		Name:      a.Name,
		Bio:       a.Bio,
		Website:   a.Website,
		Pronounce: a.Pronounce,

		EmailVerified: a.EmailVerified,
	})
}

// Logout is POST /users/logout: it ends the presented session.
func (h *Handler) Logout(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	var err error
	if userHash, token, basic := presented(req); basic {
		err = h.Svc.LogoutAs(ctx, userHash, token)
	} else {
		err = h.Svc.Logout(ctx, token)
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return ok(msgLogoutOK)
}

// Package users is the Users API family (/users/*, seed document 000, the API of Manage My
// Damn Life): it translates between its wire format — parameters as JSON, form or query
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

// Handler serves the family's routes.
type Handler struct{ family.Base }

// New returns the family's handler.
func New(svc *account.Service, log *slog.Logger) *Handler {
	return &Handler{family.New(svc, log, answer, serverError)}
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

// params decodes the request's parameters — the query string on GET, else the body — or
// answers the family's body error.
func params(req *events.APIGatewayV2HTTPRequest) (apigw.Params, error) {
	if strings.EqualFold(req.RequestContext.HTTP.Method, http.MethodGet) {
		q, err := apigw.Query(req)
		if err != nil {
			return nil, invalid("query", "not a valid query string")
		}
		p, err := apigw.FromQuery(q)
		if err != nil {
			return nil, invalid("query", "not a valid query string")
		}
		return p, nil
	}
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		return nil, refuse(http.StatusRequestEntityTooLarge, msgRequestTooLarge)
	}
	if err != nil {
		return nil, invalid("body", "not a JSON object or form")
	}
	return p, nil
}

// param returns a string parameter, or the INVALID_INPUT answer naming it: absent or
// null is "required", "" is "must not be empty", and a number, boolean, object or array
// is no string. numeric lets a JSON number through as its literal (a client may well send
// an OTP as one).
func param(p apigw.Params, name string, numeric bool) (string, error) {
	v := p.Get(name)
	switch {
	case v.Kind == apigw.Absent || v.Kind == apigw.Null:
		return "", invalid(name, "required")
	case v.Kind == apigw.String && v.Text == "":
		return "", invalid(name, "must not be empty")
	case v.Kind == apigw.String || (numeric && v.Kind == apigw.Number):
		return v.Text, nil
	}
	return "", invalid(name, "must be a string")
}

// required returns the named string parameters, or the answer for the first bad one.
func required(p apigw.Params, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	for i, n := range names {
		v, err := param(p, n, false)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// otpParam reads the code as "OTP" (the seed's name) or "otp" (what MMDL's front end
// sends). Both may be given only with the same value: which one to try would be a guess.
func otpParam(p apigw.Params) (string, error) {
	upper, lower := p.Get("OTP"), p.Get("otp")
	switch {
	case upper.Kind == apigw.Absent && lower.Kind != apigw.Absent:
		return param(p, "otp", true)
	case upper.Kind != apigw.Absent && lower.Kind != apigw.Absent:
		u, err := param(p, "OTP", true)
		if err != nil {
			return "", err
		}
		l, err := param(p, "otp", true)
		if err != nil {
			return "", err
		}
		if u != l {
			return "", invalid("OTP", "given twice with different values")
		}
		return u, nil
	}
	return param(p, "OTP", true)
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
	p, err := params(req)
	if err != nil {
		return reply{}, err
	}
	username, err := param(p, "username", false)
	if err != nil {
		return reply{}, err
	}
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
	p, err := params(req)
	if err != nil {
		return apigw.Response{}, err
	}
	v, err := required(p, "username", "password")
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
	p, err := params(req)
	if err != nil {
		return apigw.Response{}, err
	}
	username, err := param(p, "username", false)
	if err != nil {
		return apigw.Response{}, err
	}
	a, reqID, err := h.Svc.RequestOTP(ctx, username)
	if err != nil {
		return apigw.Response{}, err
	}
	return ok(otpMessage{UserHash: a.UserHash(), ReqID: reqID})
}

// ModifyPassword is POST /users/modifypassword.
func (h *Handler) ModifyPassword(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	p, err := params(req)
	if err != nil {
		return apigw.Response{}, err
	}
	userHash, err := param(p, "userhash", false)
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
	if err := h.Svc.ChangePasswordWithOTP(ctx, strings.ToLower(userHash), v[0], code, v[1]); err != nil {
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

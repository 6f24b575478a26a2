// Package user is the User API family (/user/*, the Manage Accounts API; docs/API.md, "User
// family"): it translates between its wire format — parameters as a JSON object (a form is also accepted), answers as
// {"statusCode":"NNN","message":TEXT,"data":STRING} — and the account domain.
package user

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// POST /user/create. The service has no follow graph, so the counts are "0".
type Profile struct {
	Username  string `json:"username"`
	Name      string `json:"name"`
	Bio       string `json:"bio"`
	Website   string `json:"website"`
	Pronounce string `json:"pronounce"`
	Followers string `json:"followers"`
	Following string `json:"following"`
}

// ProfileOf returns the public profile of a.
func ProfileOf(a *account.Account) Profile {
	return Profile{
		Username: a.Username, Name: a.Name, Bio: a.Bio, Website: a.Website, Pronounce: a.Pronounce,
		Followers: "0", Following: "0",
	}
}

// Handler serves the family's routes.
type Handler struct{ family.Base }

// New returns the family's handler.
func New(svc *account.Service, log *slog.Logger) *Handler {
	return &Handler{family.New(svc, log, answerOf, serverError)}
}

// Create is POST /user/create.
func (h *Handler) Create(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	// The switch comes first: a closed registration is the answer whatever the body says.
	if err := h.Svc.RegistrationOpen(); err != nil {
		return apigw.Response{}, err
	}
	p, err := params(req, "username", "email", "password", "name", "bio", "website", "pronounce")
	if err != nil {
		return apigw.Response{}, err
	}
	username, email, password := p.Get("username"), p.Get("email"), p.Get("password")
	if err := firstFailure(
		check{username, msgUsernameNull, parseUsername},
		check{email, msgEmailNull, parseEmail},
		check{password, msgPasswordNull, account.ValidatePassword},
	); err != nil {
		return apigw.Response{}, err
	}
	c, err := h.Svc.Register(ctx, account.NewAccount{
		Username: username.Text,
		Email:    email.Text,
		Password: password.Text,
		Profile: account.Profile{
			Name:      optional(p.Get("name")),
			Bio:       optional(p.Get("bio")),
			Website:   optional(p.Get("website")),
			Pronounce: optional(p.Get("pronounce")),
		},
		SelfService: true,
	})
	if err != nil {
		return apigw.Response{}, err
	}
	return profile(http.StatusOK, msgCreated, c.Account)
}

// profile answers with the account's public profile as data.
func profile(status int, msg string, a *account.Account) (apigw.Response, error) {
	data, err := document(ProfileOf(a))
	if err != nil {
		return apigw.Response{}, account.Internal("encode profile: %w", err)
	}
	return answer(status, msg, data), nil
}

// document encodes v as the compact JSON text that data carries. It is not HTML-escaped
// ("<" stays "<"): it is a string inside the envelope, which is escaped as a whole.
func document(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// sessionCookie is the TOKEN cookie; maxAge < 0 clears it.
func sessionCookie(token string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: "TOKEN", Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}
}

// Auth is POST /user/auth.
func (h *Handler) Auth(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	p, err := params(req, "username", "password")
	if err != nil {
		return apigw.Response{}, err
	}
	username, password := p.Get("username"), p.Get("password")
	if err := firstFailure(
		check{username, msgUsernameNull, parseUsername},
		check{password, msgPasswordNull, account.ValidatePassword},
	); err != nil {
		return apigw.Response{}, err
	}
	_, token, err := h.Svc.Login(ctx, username.Text, password.Text)
	if err != nil {
		return apigw.Response{}, err
	}
	maxAge := max(int(h.Svc.SessionTTL/time.Second), 1)
	return answer(http.StatusOK, msgAuthenticated, dataNull, apigw.WithCookie(sessionCookie(token, maxAge))), nil
}

// presentedToken returns the session token the request presents (Bearer, cookie TOKEN or
// ssid), or the family's 404 when it presents none at all.
func presentedToken(req *events.APIGatewayV2HTTPRequest) (string, error) {
	token, presented := apigw.SessionToken(req)
	if !presented {
		return "", family.Refuse(answer(http.StatusNotFound, msgNoAuthInfo, dataFalse))
	}
	return token, nil
}

// Logged is GET /user/logged.
func (h *Handler) Logged(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if _, _, err := h.Svc.Authorize(ctx, token); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgValidation, dataTrue), nil
}

// Logout is POST /user/logout: it ends the presented session and clears the cookie.
func (h *Handler) Logout(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.Logout(ctx, token); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgLoggedOut, dataNull, apigw.WithCookie(sessionCookie("", -1))), nil
}

// Profile is GET /user/profile/{username}. Public.
func (h *Handler) Profile(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	a, err := h.Svc.AccountByUsername(ctx, req.PathParameters["username"])
	if errors.Is(err, account.ErrNotFound) {
		return refuse(answer(http.StatusNotFound, msgUserNotFound, dataFalse))
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return profile(http.StatusOK, a.Username, a)
}

// PasswordResetToken is POST /user/password-reset-token: email from the query string, or
// else from the body (JSON or form).
func (h *Handler) PasswordResetToken(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	raw, err := apigw.Query(req)
	if err != nil {
		return refuse(badBody())
	}
	q, err := apigw.FromQuery(raw)
	if err != nil {
		return refuse(badBody())
	}
	p, err := params(req, "email")
	if err != nil {
		return apigw.Response{}, err
	}
	email := p.Get("email")
	if v := q.Get("email"); v.Kind != apigw.Absent {
		email = v
	}
	if err := firstFailure(check{email, msgEmailNull, parseEmail}); err != nil {
		return apigw.Response{}, err
	}
	err = h.Svc.RequestPasswordReset(ctx, email.Text)
	if errors.Is(err, account.ErrNotFound) {
		return refuse(fail(http.StatusNotFound, msgEmailUserNotFound))
	}
	if err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgResetTokenGenerated, dataNull), nil
}

// PasswordReset is POST /user/password-reset.
func (h *Handler) PasswordReset(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	p, err := params(req, "uuid", "newPassword")
	if err != nil {
		return apigw.Response{}, err
	}
	uuid, password := p.Get("uuid"), p.Get("newPassword")
	if isNull(uuid) {
		return refuse(fail(http.StatusBadRequest, msgUUIDNull))
	}
	if uuid.Text == "" {
		return refuse(fail(http.StatusBadRequest, msgUUIDEmpty))
	}
	if err := firstFailure(check{password, msgPasswordNull, account.ValidatePassword}); err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.ResetPasswordWithToken(ctx, uuid.Text, password.Text); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgPasswordSet, dataNull), nil
}

// Package user is the User API family (/user/*, seed document 001): it translates between
// its wire format — parameters as a JSON object (a form is also accepted), answers as
// {"statusCode":"NNN","message":TEXT,"data":STRING} — and the account domain.
package user

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

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
	}
	return apigw.Response{}, false
}

// params decodes the request body, or answers the family's body error. Every member the
// route reads must be a string, null or absent: any other JSON value makes the body
// invalid, before any field is validated.
func params(req *events.APIGatewayV2HTTPRequest, names ...string) (apigw.Params, error) {
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		return nil, family.Refuse(fail(http.StatusRequestEntityTooLarge, msgRequestTooLarge))
	}
	if err != nil || !stringsOnly(p, names...) {
		return nil, family.Refuse(badBody())
	}
	return p, nil
}

func stringsOnly(p apigw.Params, names ...string) bool {
	for _, n := range names {
		switch p.Get(n).Kind {
		case apigw.Absent, apigw.Null, apigw.String:
		default:
			return false
		}
	}
	return true
}

// isNull reports "null" in the seed's sense: the member is absent or JSON null.
func isNull(v apigw.Value) bool { return v.Kind == apigw.Absent || v.Kind == apigw.Null }

// optional returns a pointer to the parameter's string, nil when it is null.
func optional(v apigw.Value) *string {
	if isNull(v) {
		return nil
	}
	s := v.Text
	return &s
}

// check is one required field: the answer when it is null, and its own rule.
type check struct {
	v        apigw.Value
	nullMsg  string
	validate func(string) error
}

// firstFailure runs the checks in order, for each field null first, then its rule, and
// returns the first failure (nil when every field passes).
func firstFailure(checks ...check) error {
	for _, c := range checks {
		if isNull(c.v) {
			return family.Refuse(fail(http.StatusBadRequest, c.nullMsg))
		}
		if err := c.validate(c.v.Text); err != nil {
			return err
		}
	}
	return nil
}

func parseUsername(s string) error { _, err := account.ParseUsername(s); return err }
func parseEmail(s string) error    { _, err := account.ParseEmail(s); return err }

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

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
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
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

// fieldMessages maps a field's validation failure to its answer, per reason.
type fieldMessages struct {
	empty, whitespace, length, format string
	lengthStatus                      int
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

// errorResponse is the family's one table from domain errors to answers. Routes where a
// code means something of their own (an unknown account in /user/profile and
// /user/password-reset-token) answer it before calling this. Internal detail is logged
// here and never returned.
func (h *Handler) errorResponse(ctx context.Context, err error) apigw.Response {
	e := account.ErrorOf(err)
	switch e.Code {
	case account.CodeInvalidInput:
		return invalid(e)
	case account.CodeRegistrationDisabled:
		return fail(http.StatusForbidden, msgRegistrationDisabled)
	case account.CodeUsernameTaken:
		return fail(http.StatusConflict, msgUserExists)
	case account.CodeEmailTaken:
		return fail(http.StatusConflict, msgEmailExists)
	case account.CodeInvalidCredentials, account.CodeNoPassword:
		return fail(http.StatusUnauthorized, msgAuthFailed)
	case account.CodeNotAuthenticated:
		return answer(http.StatusNotFound, msgSessionNotFound, dataFalse)
	case account.CodeNotFound:
		return fail(http.StatusNotFound, msgUserNotFound)
	case account.CodeTokenNotFound:
		return fail(http.StatusNotFound, msgTokenNotFound)
	case account.CodeTokenExpired:
		return fail(http.StatusNotAcceptable, msgTokenExpired)
	case account.CodeMailFailed:
		h.log.ErrorContext(ctx, "mail not sent", "reason", account.MailFailureReason(e), "error", e.Error())
		return fail(http.StatusInternalServerError, msgEmailNotSent)
	case account.CodeTooManyAttempts:
		return fail(http.StatusTooManyRequests, msgTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter))
	}
	h.log.ErrorContext(ctx, "request failed", "code", string(e.Code), "error", e.Error())
	return serverError()
}

// params decodes the request body, or answers the family's body error. Every member the
// route reads must be a string, null or absent: any other JSON value makes the body
// invalid, before any field is validated.
func params(req *events.APIGatewayV2HTTPRequest, names ...string) (apigw.Params, *apigw.Response) {
	p, err := apigw.DecodeParams(req)
	if err != nil {
		return nil, bodyError(err)
	}
	if !stringsOnly(p, names...) {
		r := badBody()
		return nil, &r
	}
	return p, nil
}

func bodyError(err error) *apigw.Response {
	r := badBody()
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		r = fail(http.StatusRequestEntityTooLarge, msgRequestTooLarge)
	}
	return &r
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
// returns the answer of the first failure (nil when every field passes).
func firstFailure(checks ...check) *apigw.Response {
	for _, c := range checks {
		if isNull(c.v) {
			r := fail(http.StatusBadRequest, c.nullMsg)
			return &r
		}
		if err := c.validate(c.v.Text); err != nil {
			r := invalid(account.ErrorOf(err))
			return &r
		}
	}
	return nil
}

func parseUsername(s string) error { _, err := account.ParseUsername(s); return err }
func parseEmail(s string) error    { _, err := account.ParseEmail(s); return err }

// Create is POST /user/create.
func (h *Handler) Create(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	// The switch comes first: a closed registration is the answer whatever the body says.
	if !h.svc.AllowRegistration {
		return fail(http.StatusForbidden, msgRegistrationDisabled)
	}
	p, bad := params(req, "username", "email", "password", "name", "bio", "website", "pronounce")
	if bad != nil {
		return *bad
	}
	username, email, password := p.Get("username"), p.Get("email"), p.Get("password")
	if bad := firstFailure(
		check{username, msgUsernameNull, parseUsername},
		check{email, msgEmailNull, parseEmail},
		check{password, msgPasswordNull, account.ValidatePassword},
	); bad != nil {
		return *bad
	}
	c, err := h.svc.Register(ctx, account.NewAccount{
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
		return h.errorResponse(ctx, err)
	}
	return h.profile(ctx, http.StatusOK, msgCreated, c.Account)
}

// profile answers with the account's public profile as data.
func (h *Handler) profile(ctx context.Context, status int, msg string, a *account.Account) apigw.Response {
	data, err := document(ProfileOf(a))
	if err != nil {
		return h.errorResponse(ctx, account.Internal("encode profile: %w", err))
	}
	return answer(status, msg, data)
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
func (h *Handler) Auth(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req, "username", "password")
	if bad != nil {
		return *bad
	}
	username, password := p.Get("username"), p.Get("password")
	if bad := firstFailure(
		check{username, msgUsernameNull, parseUsername},
		check{password, msgPasswordNull, account.ValidatePassword},
	); bad != nil {
		return *bad
	}
	_, token, err := h.svc.Login(ctx, username.Text, password.Text)
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	maxAge := max(int(h.svc.SessionTTL/time.Second), 1)
	return answer(http.StatusOK, msgAuthenticated, dataNull, apigw.WithCookie(sessionCookie(token, maxAge)))
}

// presentedToken returns the session token the request presents (Bearer, cookie TOKEN or
// ssid), or the family's 404 when it presents none at all.
func presentedToken(req *events.APIGatewayV2HTTPRequest) (string, *apigw.Response) {
	token, presented := apigw.SessionToken(req)
	if !presented {
		r := answer(http.StatusNotFound, msgNoAuthInfo, dataFalse)
		return "", &r
	}
	return token, nil
}

// Logged is GET /user/logged.
func (h *Handler) Logged(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	token, none := presentedToken(req)
	if none != nil {
		return *none
	}
	if _, _, err := h.svc.Authorize(ctx, token); err != nil {
		return h.errorResponse(ctx, err)
	}
	return answer(http.StatusOK, msgValidation, dataTrue)
}

// Logout is POST /user/logout: it ends the presented session and clears the cookie.
func (h *Handler) Logout(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	token, none := presentedToken(req)
	if none != nil {
		return *none
	}
	if err := h.svc.Logout(ctx, token); err != nil {
		return h.errorResponse(ctx, err)
	}
	return answer(http.StatusOK, msgLoggedOut, dataNull, apigw.WithCookie(sessionCookie("", -1)))
}

// Profile is GET /user/profile/{username}. Public.
func (h *Handler) Profile(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	a, err := h.svc.AccountByUsername(ctx, req.PathParameters["username"])
	if errors.Is(err, account.ErrNotFound) {
		return answer(http.StatusNotFound, msgUserNotFound, dataFalse)
	}
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	return h.profile(ctx, http.StatusOK, a.Username, a)
}

// PasswordResetToken is POST /user/password-reset-token: email from the query string, or
// else from the body (JSON or form).
func (h *Handler) PasswordResetToken(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	raw, err := apigw.Query(req)
	if err != nil {
		return badBody()
	}
	q, err := apigw.FromQuery(raw)
	if err != nil {
		return badBody()
	}
	p, bad := params(req, "email")
	if bad != nil {
		return *bad
	}
	email := p.Get("email")
	if v := q.Get("email"); v.Kind != apigw.Absent {
		email = v
	}
	if bad := firstFailure(check{email, msgEmailNull, parseEmail}); bad != nil {
		return *bad
	}
	err = h.svc.RequestPasswordReset(ctx, email.Text)
	if errors.Is(err, account.ErrNotFound) {
		return fail(http.StatusNotFound, msgEmailUserNotFound)
	}
	if err != nil {
		return h.errorResponse(ctx, err)
	}
	return answer(http.StatusOK, msgResetTokenGenerated, dataNull)
}

// PasswordReset is POST /user/password-reset.
func (h *Handler) PasswordReset(ctx context.Context, req *events.APIGatewayV2HTTPRequest) apigw.Response {
	p, bad := params(req, "uuid", "newPassword")
	if bad != nil {
		return *bad
	}
	uuid, password := p.Get("uuid"), p.Get("newPassword")
	if isNull(uuid) {
		return fail(http.StatusBadRequest, msgUUIDNull)
	}
	if uuid.Text == "" {
		return fail(http.StatusBadRequest, msgUUIDEmpty)
	}
	if bad := firstFailure(check{password, msgPasswordNull, account.ValidatePassword}); bad != nil {
		return *bad
	}
	if err := h.svc.ResetPasswordWithToken(ctx, uuid.Text, password.Text); err != nil {
		return h.errorResponse(ctx, err)
	}
	return answer(http.StatusOK, msgPasswordSet, dataNull)
}

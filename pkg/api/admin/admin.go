// Package admin is the Admin v2 API family (/api/v2/users; docs/API.md, "Admin v2 family"): it
// translates between its wire format — Basic credentials or a Bearer API token of an admin
// account, JSON bodies, plain JSON answers such as {"user_exists":false} or
// {"error":"<reason>"} — and the account domain. The wire format is that of the Nebula
// orchestrator's manager, whose SDK and CLI are the family's real clients.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Error texts of the family (API.md, "Admin v2 family", and the decisions in docs/API.md).
const (
	errUnauthorized    = "unauthorized"
	errForbidden       = "forbidden"
	errTooManyAttempts = "too many attempts"
	errInvalidBody     = "invalid request body"
	errTooLarge        = "request body too large"
	errNeedSecret      = "password or token required"
	errDeleteSelf      = "cannot delete your own account"
	errInvalidQuery    = "invalid query string"
	errInvalidLimit    = "invalid limit"
	errInvalidCursor   = "invalid cursor"
	errInternal        = "internal error"
	errTokenInUse      = "token already in use"
)

// challenge is the WWW-Authenticate header of every 401.
const challenge = `Basic realm="admin"`

// user is the documented user object: stored hashes only, never a secret.
type user struct {
	UserID   int64  `json:"user_id"`
	UserName string `json:"user_name"`
	Password string `json:"password"`
	Token    string `json:"token"`
	// EmailVerified is beyond the seed (API.md, "Account lifecycle"); the SDK ignores it.
	EmailVerified bool `json:"email_verified"`
}

func userOf(a *account.Account) user {
	return user{UserID: a.UserID, UserName: a.Username, Password: a.PasswordHash, Token: a.TokenHash, EmailVerified: a.EmailVerified}
}

type errorBody struct {
	Error string `json:"error"`
}

// forbiddenBody is the 403 of a non-admin: the manager's member, plus the family's error.
type forbiddenBody struct {
	AccessAllowed bool   `json:"access_allowed"`
	Error         string `json:"error"`
}

// badBodyBody is the 400 of a missing or unusable body: the manager's member, plus why.
type badBodyBody struct {
	MissingParameters bool   `json:"missing_parameters"`
	Error             string `json:"error"`
}

type statusBody struct {
	APIAvailable bool `json:"api_available"`
}

type existsBody struct {
	UserExists bool `json:"user_exists"`
}

type tokenBody struct {
	Token string `json:"token"`
}

type listBody struct {
	Users      []string `json:"users"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// Handler serves the family's routes.
type Handler struct{ family.Base }

// New returns the family's handler.
func New(svc *account.Service, log *slog.Logger) *Handler {
	return &Handler{family.New(svc, log, answer, serverError)}
}

func serverError() apigw.Response { return fail(http.StatusInternalServerError, errInternal) }

func fail(status int, msg string, opts ...apigw.Option) apigw.Response {
	return apigw.JSON(status, errorBody{Error: msg}, opts...)
}

// refuse is a route's own refusal, answered by the family's table.
func refuse(status int, msg string) error { return family.Refuse(fail(status, msg)) }

func unauthorized() apigw.Response {
	return fail(http.StatusUnauthorized, errUnauthorized, apigw.WithHeader("www-authenticate", challenge))
}

func forbidden() apigw.Response {
	return apigw.JSON(http.StatusForbidden, forbiddenBody{AccessAllowed: false, Error: errForbidden})
}

func badBody(msg string) apigw.Response {
	return apigw.JSON(http.StatusBadRequest, badBodyBody{MissingParameters: true, Error: msg})
}

func exists(v bool) apigw.Response {
	return apigw.JSON(http.StatusForbidden, existsBody{UserExists: v})
}

// answer is the family's one table from domain errors to answers. A missing account is
// "user_exists":false wherever it shows (also when it vanished between the lookup and the
// write).
func answer(e *account.Error) (apigw.Response, bool) {
	switch e.Code {
	case account.CodeInvalidInput:
		if e.Field == account.FieldPassword || e.Field == account.FieldToken {
			return badBody(invalidText(e)), true // a member of the body
		}
		return fail(http.StatusBadRequest, invalidText(e)), true
	case account.CodeTokenInUse:
		return fail(http.StatusBadRequest, errTokenInUse), true
	case account.CodeUsernameTaken:
		return exists(true), true
	case account.CodeNotFound:
		return exists(false), true
	case account.CodeInvalidCredentials, account.CodeNoPassword:
		return unauthorized(), true
	case account.CodeForbidden:
		return forbidden(), true
	case account.CodeCannotDeleteSelf:
		return fail(http.StatusBadRequest, errDeleteSelf), true
	case account.CodeLastAdmin: // another admin deleted this one's last peer at the same time
		return fail(http.StatusBadRequest, "last admin"), true
	case account.CodeTooManyAttempts:
		return fail(http.StatusTooManyRequests, errTooManyAttempts, apigw.WithRetryAfter(e.RetryAfter)), true
	}
	return apigw.Response{}, false
}

// invalidText is the 400 text of a validation error: "<field> <what is wrong>".
func invalidText(e *account.Error) string {
	switch e.Field {
	case "limit":
		return errInvalidLimit
	case "cursor":
		return errInvalidCursor
	}
	field := e.Field
	if field == "" {
		field = "input"
	}
	switch e.Reason {
	case account.ReasonEmpty:
		return field + " is empty"
	case account.ReasonWhitespace:
		return field + " contains white space"
	case account.ReasonLength:
		switch e.Field {
		case account.FieldUsername:
			return fmt.Sprintf("username must be %d to %d characters", account.UsernameMin, account.UsernameMax)
		case account.FieldPassword, account.FieldToken:
			return fmt.Sprintf("%s must be %d to %d characters", field, account.PasswordMin, account.PasswordMax)
		}
		return field + " has an invalid length"
	}
	return field + " is invalid"
}

// authenticate checks the credentials of an admin before anything else of the request is
// looked at: a Bearer API token (what Nebula's SDK and CLI send), else Basic credentials.
// Malformed headers are simply no credentials (401). The account the route names (target,
// "" = none) is read with the admin (account.AdminRequest).
func (h *Handler) authenticate(ctx context.Context, req *events.APIGatewayV2HTTPRequest, target account.AdminTarget) (*account.AdminRequest, error) {
	if token, ok := apigw.Bearer(req); ok {
		return h.Svc.AuthenticateAdminTokenFor(ctx, token, target)
	}
	if name, secret, ok := apigw.Basic(req); ok {
		return h.Svc.AuthenticateAdminFor(ctx, name, secret, target)
	}
	return nil, family.Refuse(unauthorized())
}

// call runs fn for the admin call that authenticate admits, with ctx carrying what the
// call's writes take along (account.AdminRequest.Context); before the answer, the call is
// settled (its clearing of the admin's failed checks written if no write carried it).
func (h *Handler) call(ctx context.Context, req *events.APIGatewayV2HTTPRequest, target account.AdminTarget, fn func(context.Context, *account.AdminRequest) (apigw.Response, error)) (apigw.Response, error) {
	call, err := h.authenticate(ctx, req, target)
	if err != nil {
		return apigw.Response{}, err
	}
	defer call.Settle(ctx)
	return fn(call.Context(ctx), call)
}

// named is the target of a route about the {username} of its path.
func named(req *events.APIGatewayV2HTTPRequest) account.AdminTarget {
	return account.AdminTarget{Username: pathUsername(req)}
}

// pathUsername is the {username} path variable (API Gateway delivers it decoded).
func pathUsername(req *events.APIGatewayV2HTTPRequest) string {
	return req.PathParameters["username"]
}

// secrets reads the body's optional "password" and "token". A member that is absent or
// JSON null is not given; a given member must be a string. An explicit "" is left to the
// domain's rule (account.CreateUser).
func secrets(req *events.APIGatewayV2HTTPRequest) (password, token *string, err error) {
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		return nil, nil, refuse(http.StatusRequestEntityTooLarge, errTooLarge)
	}
	if err != nil {
		return nil, nil, family.Refuse(badBody(errInvalidBody))
	}
	out := [2]*string{}
	for i, name := range []string{account.FieldPassword, account.FieldToken} {
		v := p.Get(name)
		switch v.Kind {
		case apigw.Absent, apigw.Null:
		case apigw.String:
			s := v.Text
			out[i] = &s
		default:
			return nil, nil, family.Refuse(badBody(name + " must be a string"))
		}
	}
	if out[0] == nil && out[1] == nil {
		return nil, nil, family.Refuse(badBody(errNeedSecret))
	}
	return out[0], out[1], nil
}

// ListUsers is GET /api/v2/users[?limit=N][&cursor=C].
func (h *Handler) ListUsers(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.call(ctx, req, account.AdminTarget{}, func(ctx context.Context, _ *account.AdminRequest) (apigw.Response, error) {
		limit, cursor, err := page(req, account.ListMax)
		if err != nil {
			return apigw.Response{}, err
		}
		names, next, err := h.Svc.ListUsers(ctx, cursor, limit)
		if err != nil {
			return apigw.Response{}, err
		}
		if names == nil {
			names = []string{}
		}
		return apigw.JSON(http.StatusOK, listBody{Users: names, NextCursor: next}), nil
	})
}

// page reads a list's ?limit=N (decimal digits, 1 to max; 0 = absent, the domain's
// default) and ?cursor=C, each at most once.
func page(req *events.APIGatewayV2HTTPRequest, max int) (limit int, cursor string, err error) {
	q, err := apigw.Query(req)
	if err != nil {
		return 0, "", refuse(http.StatusBadRequest, errInvalidQuery)
	}
	switch vs := q["limit"]; {
	case len(vs) > 1:
		return 0, "", refuse(http.StatusBadRequest, errInvalidLimit)
	case len(vs) == 1 && vs[0] != "":
		n, ok := parseLimit(vs[0], max)
		if !ok {
			return 0, "", refuse(http.StatusBadRequest, errInvalidLimit)
		}
		limit = n
	}
	switch vs := q["cursor"]; {
	case len(vs) > 1:
		return 0, "", refuse(http.StatusBadRequest, errInvalidCursor)
	case len(vs) == 1:
		cursor = vs[0]
	}
	return limit, cursor, nil
}

// UserEvents is GET /api/v2/users/{username}/events[?limit=N][&cursor=C]: the account's
// audit events, newest first (limit 1 to account.MaxEventsLimit, default
// account.DefaultEventsLimit).
func (h *Handler) UserEvents(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.call(ctx, req, named(req), func(ctx context.Context, call *account.AdminRequest) (apigw.Response, error) {
		limit, cursor, err := page(req, account.MaxEventsLimit)
		if err != nil {
			return apigw.Response{}, err
		}
		a, err := call.Named()
		if err != nil {
			return apigw.Response{}, err
		}
		p, err := h.Svc.Events(ctx, a, cursor, limit)
		if err != nil {
			return apigw.Response{}, err
		}
		if p.Events == nil {
			p.Events = []account.Event{}
		}
		return apigw.JSON(http.StatusOK, eventsBody{Events: p.Events, NextCursor: p.Next}), nil
	})
}

// eventsBody is the answer of GET /api/v2/users/{username}/events.
type eventsBody struct {
	Events     []account.Event `json:"events"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// parseLimit reads a limit written with decimal digits only, 1 to max.
func parseLimit(s string, max int) (int, bool) {
	if len(s) > 8 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, false
	}
	return n, true
}

// GetUser is GET /api/v2/users/{username}.
func (h *Handler) GetUser(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.call(ctx, req, named(req), func(_ context.Context, call *account.AdminRequest) (apigw.Response, error) {
		return userAnswer(call.Named())
	})
}

// userAnswer answers with the account a use case returns, or with its error.
func userAnswer(a *account.Account, err error) (apigw.Response, error) {
	if err != nil {
		return apigw.Response{}, err
	}
	return apigw.JSON(http.StatusOK, userOf(a)), nil
}

// withSecrets runs fn for the admin call (with target, as call) and the body's secrets
// (secrets), read after the admin is authenticated.
func (h *Handler) withSecrets(ctx context.Context, req *events.APIGatewayV2HTTPRequest, target account.AdminTarget, fn func(ctx context.Context, call *account.AdminRequest, password, token *string) (*account.Account, error)) (apigw.Response, error) {
	return h.call(ctx, req, target, func(ctx context.Context, call *account.AdminRequest) (apigw.Response, error) {
		password, token, err := secrets(req)
		if err != nil {
			return apigw.Response{}, err
		}
		return userAnswer(fn(ctx, call, password, token))
	})
}

// CreateUser is POST /api/v2/users/{username} with {"password"?,"token"?}.
func (h *Handler) CreateUser(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.withSecrets(ctx, req, account.AdminTarget{}, func(ctx context.Context, call *account.AdminRequest, pw, token *string) (*account.Account, error) {
		ctx = account.WithActor(ctx, account.AdminActor(call.Actor))
		return h.Svc.CreateUser(ctx, pathUsername(req), pw, token)
	})
}

// UpdateUser is PUT and PATCH /api/v2/users/{username}/update with {"password"?,"token"?}
// (the manager takes both methods, with the same meaning). The body is validated before the
// account is looked up.
func (h *Handler) UpdateUser(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.withSecrets(ctx, req, named(req), h.Svc.UpdateCredentialsOf)
}

// RefreshToken is POST /api/v2/users/{username}/refresh. Its body (the seed sends {}) is
// not read.
func (h *Handler) RefreshToken(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.call(ctx, req, named(req), func(ctx context.Context, call *account.AdminRequest) (apigw.Response, error) {
		token, err := h.Svc.RefreshTokenOf(ctx, call)
		if err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, tokenBody{Token: token}), nil
	})
}

// DeleteUser is DELETE /api/v2/users/{username}. An admin cannot delete itself.
func (h *Handler) DeleteUser(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.call(ctx, req, account.AdminTarget{Username: pathUsername(req), IDOnly: true}, func(ctx context.Context, call *account.AdminRequest) (apigw.Response, error) {
		if err := h.Svc.DeleteUserOf(ctx, call); err != nil {
			return apigw.Response{}, err
		}
		return apigw.JSON(http.StatusOK, struct{}{}), nil
	})
}

// Status is GET /api/v2/status, the manager's reachability check (`nebulactl ping`, the
// SDK's check_api): {"api_available":true} to an admin.
func (h *Handler) Status(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	return h.call(ctx, req, account.AdminTarget{}, func(context.Context, *account.AdminRequest) (apigw.Response, error) {
		return apigw.JSON(http.StatusOK, statusBody{APIAvailable: true}), nil
	})
}

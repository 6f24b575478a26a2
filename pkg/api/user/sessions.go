package user

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Sessions the account's owner sees and ends (docs/API.md, "Account lifecycle").

// sessionJSON is one entry of GET /user/sessions' data. Times are RFC 3339, UTC.
type sessionJSON struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastSeenAt string `json:"last_seen_at"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Current    bool   `json:"current"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Sessions is GET /user/sessions.
func (h *Handler) Sessions(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	list, err := h.Svc.Sessions(ctx, token)
	if err != nil {
		return apigw.Response{}, err
	}
	out := make([]sessionJSON, len(list))
	for i, x := range list {
		out[i] = sessionJSON{
			ID: x.ID, CreatedAt: rfc3339(x.CreatedAt), LastSeenAt: rfc3339(x.LastSeenAt),
			IP: x.IP, UserAgent: x.UserAgent, Current: x.Current,
		}
	}
	data, err := document(out)
	if err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgSessions, data), nil
}

// EndSession is DELETE /user/sessions/{id}; ending the presented session also clears
// its cookie, as /user/logout does.
func (h *Handler) EndSession(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	current, err := h.Svc.EndSession(ctx, token, req.PathParameters["id"])
	if err != nil {
		return apigw.Response{}, err
	}
	if current {
		return answer(http.StatusOK, msgLoggedOut, dataNull, apigw.WithCookie(sessionCookie("", -1))), nil
	}
	return answer(http.StatusOK, msgLoggedOut, dataNull), nil
}

// LogoutAll is POST /user/logout-all: every session of the account ends, this one too.
func (h *Handler) LogoutAll(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.LogoutAll(ctx, token); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgLoggedOutEverywhere, dataNull, apigw.WithCookie(sessionCookie("", -1))), nil
}

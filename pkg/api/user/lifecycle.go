package user

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// The account lifecycle routes (API.md, "Account lifecycle"). Each needs a session; the
// order of the answers is: no credential presented, an unreadable body, a field's
// validation (as /user/create, before any round trip), the session check, then the
// route's own checks.

// UpdateProfile is PUT /user/profile: any of name, bio, website, pronounce; "" clears a
// field, null or absent leaves it alone. A username member must name the account itself
// (the profile document sent back as read), else 400 "Username cannot be changed".
func (h *Handler) UpdateProfile(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	p, err := params(req, "username", "name", "bio", "website", "pronounce")
	if err != nil {
		return apigw.Response{}, err
	}
	a, err := h.Svc.UpdateOwnProfile(ctx, token, account.ProfileUpdate{
		Username: optional(p.Get("username")),
		Profile: account.Profile{
			Name:      optional(p.Get("name")),
			Bio:       optional(p.Get("bio")),
			Website:   optional(p.Get("website")),
			Pronounce: optional(p.Get("pronounce")),
		},
	})
	if err != nil {
		return apigw.Response{}, err
	}
	return profile(http.StatusOK, msgProfileUpdated, a)
}

// DeleteAccount is DELETE /user {password}: the account and every record of it go.
func (h *Handler) DeleteAccount(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	p, err := params(req, "password")
	if err != nil {
		return apigw.Response{}, err
	}
	if err := firstFailure(check{p.Get("password"), msgPasswordNull, account.ValidatePassword}); err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.DeleteOwnAccount(ctx, token, p.Get("password").Text); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgAccountDeleted, dataNull, apigw.WithCookie(sessionCookie("", -1))), nil
}

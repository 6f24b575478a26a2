package user

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// Email verification and change (API.md, "Account lifecycle").
const (
	msgVerificationSent = "Verification sent"
	msgEmailVerified    = "Email verified"
)

// ChangeEmail is PUT /user/email: with a session and the password, it mails a verification
// to the new address (and a notice to the old one); the address changes when verified.
func (h *Handler) ChangeEmail(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	token, err := presentedToken(req)
	if err != nil {
		return apigw.Response{}, err
	}
	a, _, err := h.Svc.Authorize(ctx, token)
	if err != nil {
		return apigw.Response{}, err
	}
	p, err := params(req, "email", "password")
	if err != nil {
		return apigw.Response{}, err
	}
	email, password := p.Get("email"), p.Get("password")
	if err := firstFailure(
		check{email, msgEmailNull, parseEmail},
		check{password, msgPasswordNull, account.ValidatePassword},
	); err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.RequestEmailChange(ctx, a, email.Text, password.Text); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgVerificationSent, dataNull), nil
}

// VerifyEmail is POST /user/verify-email: no session, the mailed token. A missing or
// empty token cannot be one: 404 like an unknown one.
func (h *Handler) VerifyEmail(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
	p, err := params(req, "token")
	if err != nil {
		return apigw.Response{}, err
	}
	if err := h.Svc.VerifyEmail(ctx, p.Get("token").Text); err != nil {
		return apigw.Response{}, err
	}
	return answer(http.StatusOK, msgEmailVerified, dataNull), nil
}

package user

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func (s *store) UpdateProfile(ctx context.Context, c account.ProfileChange) (*account.Account, error) {
	if err := s.fault("UpdateProfile"); err != nil {
		return nil, err
	}
	return s.Store.UpdateProfile(ctx, c)
}

func (s *store) DeleteAccount(ctx context.Context, a *account.Account) error {
	if err := s.fault("DeleteAccount"); err != nil {
		return err
	}
	return s.Store.DeleteAccount(ctx, a)
}

// withBody is req with a JSON body.
func withBody(req *events.APIGatewayV2HTTPRequest, body string) *events.APIGatewayV2HTTPRequest {
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	req.Headers["content-type"] = "application/json"
	req.Body = body
	return req
}

// PUT /user/profile: the answers of the family's table, and a store fault is the family's
// 500 with the profile left as it was.
func TestUpdateProfileAnswers(t *testing.T) {
	f := newFixture(t)
	f.create(t, "Pia", "pia@example.com", "pia-password")
	token := f.auth(t, "pia", "pia-password")
	serve := f.h.Serve(f.h.UpdateProfile)
	expect(t, "update", serve(ctx, withBody(bearer(token), `{"name":"Pia P","username":"PIA"}`)), 200, msgProfileUpdated, profileData("Pia", "Pia P", "", "", ""))
	expect(t, "another username", serve(ctx, withBody(bearer(token), `{"username":"pio"}`)), 400, msgUsernameFixed, "null")
	expect(t, "name too short", serve(ctx, withBody(bearer(token), `{"name":"P"}`)), 406, msgNameLength, "null")
	expect(t, "no credentials", serve(ctx, post(`{"name":"Pia P"}`)), 404, msgNoAuthInfo, "false")
	expect(t, "unknown session", serve(ctx, withBody(bearer("1.nope"), `{"name":"Pia P"}`)), 404, msgSessionNotFound, "false")
	f.store.setFault("UpdateProfile", errors.New("dynamodb is down"))
	expect(t, "store fault", serve(ctx, withBody(bearer(token), `{"name":"Someone"}`)), 500, msgInternal, "null")
	if a, _ := f.svc.AccountByUsername(ctx, "pia"); a.Name != "Pia P" {
		t.Fatalf("name %q after a failed update", a.Name)
	}
}

// DELETE /user: a wrong password, the last admin, a store fault (500, the account and its
// session still there), then the delete.
func TestDeleteAccountAnswers(t *testing.T) {
	f := newFixture(t)
	f.create(t, "dan", "dan@example.com", "dan-password")
	token := f.auth(t, "dan", "dan-password")
	serve := f.h.Serve(f.h.DeleteAccount)
	expect(t, "wrong password", serve(ctx, withBody(bearer(token), `{"password":"wrong-password"}`)), 401, msgAuthFailed, "null")
	expect(t, "no password", serve(ctx, withBody(bearer(token), `{}`)), 400, msgPasswordNull, "null")
	expect(t, "no credentials", serve(ctx, post(`{"password":"dan-password"}`)), 404, msgNoAuthInfo, "false")
	f.store.setFault("DeleteAccount", errors.New("dynamodb is down"))
	expect(t, "store fault", serve(ctx, withBody(bearer(token), `{"password":"dan-password"}`)), 500, msgInternal, "null")
	if _, _, err := f.svc.Authorize(ctx, token); err != nil {
		t.Fatalf("session after a failed delete: %v", err)
	}
	f.store.setFault("DeleteAccount", nil)
	r := serve(ctx, withBody(cookie("TOKEN="+token), `{"password":"dan-password"}`))
	expect(t, "delete", r, 200, msgAccountDeleted, "null")
	if len(r.Cookies) != 1 || r.Cookies[0][:7] != "TOKEN=;" {
		t.Fatalf("cookies %q, want TOKEN cleared", r.Cookies)
	}
	if _, err := f.svc.AccountByUsername(ctx, "dan"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("account after delete: %v", err)
	}

	if _, _, err := f.svc.EnsureAdmin(ctx, "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	rt := f.auth(t, "root", "root-password")
	expect(t, "last admin", serve(ctx, withBody(bearer(rt), `{"password":"root-password"}`)), 400, msgLastAdminDelete, "null")
}

package account_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

type recorder struct {
	mu  sync.Mutex
	evs []account.Event
	// unstored are the types of the events observed as stored nowhere (account.NotStored).
	unstored []account.EventType
}

func (r *recorder) Observe(ctx context.Context, ev account.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	if account.NotStored(ctx) {
		r.unstored = append(r.unstored, ev.Type)
	}
}

// typesOf lists "type/actor/method" of evs, oldest first.
func typesOf(evs []account.Event) []string {
	var out []string
	for _, ev := range slices.Backward(evs) {
		s := string(ev.Type) + "/" + ev.Actor
		if ev.Method != "" {
			s += "/" + ev.Method
		}
		out = append(out, s)
	}
	return out
}

// TestAuditEvents: each use case records its events under the account, with the actor and
// the request's details, in order; failures against unknown names are observed only; no
// stored record holds a secret the test used.
func TestAuditEvents(t *testing.T) {
	e := newEnv(t)
	obs := &recorder{}
	svc := account.NewService(e.store, e.hasher, e.mailer, account.Config{AllowRegistration: true, TokenIndexKey: testIndexKey}, nil, account.WithObserver(obs))
	svc.Now = e.svc.Now
	tick := func() { e.advance(2 * time.Minute) }
	ctx := account.WithRequest(context.Background(), account.RequestInfo{SourceIP: "198.51.100.7", UserAgent: "audit-test/1", RequestID: "req-1", Family: "users"})
	secrets := []string{"alice-password-1", "alice-password-2", "alice-password-3", "alice-password-4", "wrong-password-9", "root-password-1", "alice-admin-set-5", "alice-token-0123456789"}

	c, err := svc.Register(ctx, account.NewAccount{Username: "alice", Email: "alice@example.com", Password: secrets[0], SelfService: true})
	if err != nil {
		t.Fatal(err)
	}
	alice := c.Account
	tick()
	if _, _, err := svc.Login(ctx, "alice", secrets[4]); err == nil {
		t.Fatal("wrong password accepted")
	}
	tick()
	_, token, err := svc.Login(ctx, "alice", secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, token)
	tick()
	if err := svc.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	tick()
	_, reqID, err := svc.RequestOTP(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	mail, _ := e.mailer.LastOTP()
	secrets = append(secrets, reqID, mail.Code)
	tick()
	if err := svc.ChangePasswordWithOTP(ctx, alice.UserHash(), reqID, mail.Code, secrets[1]); err != nil {
		t.Fatal(err)
	}
	tick()
	if err := svc.RequestPasswordReset(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	reset, _ := e.mailer.LastReset()
	secrets = append(secrets, reset.Token)
	tick()
	if err := svc.ResetPasswordWithToken(ctx, reset.Token, secrets[2]); err != nil {
		t.Fatal(err)
	}
	tick()
	if err := svc.ChangePasswordByEmail(ctx, "alice@example.com", secrets[2], secrets[3]); err != nil {
		t.Fatal(err)
	}
	tick()
	root, _, err := svc.EnsureAdmin(context.Background(), "root", secrets[5])
	if err != nil {
		t.Fatal(err)
	}
	tick()
	actx := account.WithRequest(context.Background(), account.RequestInfo{SourceIP: "203.0.113.5", RequestID: "req-2", Family: "admin"})
	if _, err := svc.AuthenticateAdminFor(actx, "root", secrets[4], account.AdminTarget{Username: "alice"}); err == nil {
		t.Fatal("wrong admin password accepted")
	}
	tick()
	call, err := svc.AuthenticateAdminFor(actx, "root", secrets[5], account.AdminTarget{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	pw, tok := secrets[6], secrets[7]
	if _, err := svc.UpdateCredentialsOf(actx, call, &pw, &tok); err != nil {
		t.Fatal(err)
	}
	tick()
	refreshed, err := svc.RefreshTokenOf(actx, call)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, refreshed)
	tick()
	if _, _, err := svc.Login(ctx, "nobody", secrets[4]); err == nil {
		t.Fatal("unknown user logged in")
	}
	bob := e.register(t, "bob", "", "bob-password-1")
	for range account.FreeLoginAttempts {
		tick()
		_, _, _ = svc.Login(ctx, "bob", secrets[4])
	}
	bobEvs, _, _ := e.store.Events(ctx, bob.UserID, "", 100)
	if got := typesOf(bobEvs); !slices.Contains(got, "login.refused/anonymous/lockout") {
		t.Errorf("bob's events %v lack the lockout", got)
	}
	tick()
	if err := svc.DeleteUserOf(actx, &account.AdminRequest{Actor: root, Target: bob}); err != nil {
		t.Fatal(err)
	}

	evs, _, err := e.store.Events(ctx, alice.UserID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"account.created/self", "login.failed/anonymous", "login.succeeded/self", "session.ended/self",
		"otp.issued/anonymous", "otp.used/self", "password.changed/self/otp",
		"reset_token.issued/anonymous", "reset_token.used/self", "password.changed/self/reset_token",
		"password.changed/self/changepassword",
		"password.changed/admin:root/admin", "token.set/admin:root", "token.refreshed/admin:root",
	}
	got := typesOf(evs)
	slices.Sort(got[5:7]) // the same instant: their order is the random part's
	slices.Sort(got[8:10])
	slices.Sort(want[5:7])
	slices.Sort(want[8:10])
	slices.Sort(got[11:13])
	slices.Sort(want[11:13])
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("alice's events:\n got %v\nwant %v", got, want)
	}
	for _, ev := range evs {
		if ev.UserID != alice.UserID || ev.SourceIP == "" || ev.RequestID == "" || ev.Family == "" {
			t.Errorf("event without its account or request: %+v", ev)
		}
	}
	if evs[len(evs)-1].Family != "users" || evs[len(evs)-1].UserAgent != "audit-test/1" {
		t.Errorf("account.created = %+v", evs[len(evs)-1])
	}
	rootEvs, _, _ := e.store.Events(ctx, root.UserID, "", 100)
	if got, want := typesOf(rootEvs), []string{"account.created/cli", "admin.auth_failed/anonymous", "account.deleted/admin:root"}; !slices.Equal(got, want) {
		t.Errorf("root's events = %v, want %v", got, want)
	}
	if d := rootEvs[0]; d.UserID != bob.UserID || d.Username != "bob" {
		t.Errorf("the deletion names %d %q, want bob", d.UserID, d.Username)
	}
	if left, _, _ := e.store.Events(ctx, bob.UserID, "", 100); len(left) != 0 {
		t.Errorf("bob's events outlived bob: %v", typesOf(left))
	}
	unknown := 0
	for _, ev := range obs.evs {
		if ev.Type == account.EventLoginFailed && ev.UserID == 0 {
			unknown++
		}
	}
	if unknown != 1 {
		t.Errorf("%d observed failures against unknown names, want 1", unknown)
	}
	stored := len(e.store.AuditRecords())
	if observed := len(obs.evs); observed < stored {
		t.Errorf("observed %d events, fewer than the %d stored", observed, stored)
	}
	b, _ := json.Marshal(e.store.AuditRecords())
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Errorf("a stored audit record holds the secret %q", s)
		}
	}
	if strings.Contains(string(b), "$") {
		t.Error("a stored audit record holds something like a hash")
	}
}

// TestRefusalsObservedAsUnstored: a refusal by the lockout of a known account is stored
// nowhere (only the lockout's start is), so it is observed as such and gets its log line.
func TestRefusalsObservedAsUnstored(t *testing.T) {
	e := newEnv(t)
	obs := &recorder{}
	svc := account.NewService(e.store, e.hasher, e.mailer, account.Config{AllowRegistration: true, TokenIndexKey: testIndexKey}, nil, account.WithObserver(obs))
	svc.Now = e.svc.Now
	ctx := context.Background()
	if _, err := svc.Register(ctx, account.NewAccount{Username: "locked", Password: "locked-password-1", SelfService: true}); err != nil {
		t.Fatal(err)
	}
	for range account.FreeLoginAttempts {
		if _, _, err := svc.Login(ctx, "locked", "wrong-password-1"); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	if _, _, err := svc.Login(ctx, "locked", "locked-password-1"); err == nil {
		t.Fatal("a locked account logged in")
	}
	if !slices.Contains(obs.unstored, account.EventLoginRefused) {
		t.Errorf("events observed as stored nowhere: %v, want the lockout's login.refused", obs.unstored)
	}
	for _, typ := range obs.unstored {
		if typ == account.EventLoginFailed {
			t.Errorf("a stored login.failed was observed as stored nowhere")
		}
	}
}

package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

// observed makes e's service report its events to the returned recorder.
func (e *env) observed() *recorder {
	obs := &recorder{}
	e.svc.Observer = obs
	return obs
}

// storedTypes is typesOf the account's stored events, oldest first.
func (e *env) storedTypes(t *testing.T, id int64) []string {
	t.Helper()
	evs, _, err := e.store.Events(ctx, id, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return typesOf(evs)
}

// sessionIDOf is the id GET /user/sessions shows for the session of token.
func sessionIDOf(token string) string {
	_, hash, _ := account.ParseSessionToken(token)
	return account.SessionID(hash)
}

// TestLifecycleEvents: each account lifecycle route records its event in its own write,
// with its actor and method, the account and the request's details; a wrong password on
// PUT /user/email is the one login.failed every password check records; a profile update
// that changes nothing records nothing; a self-deletion is observed (the account's events
// go with it), a refused one is not; no stored record holds a secret the test used.
func TestLifecycleEvents(t *testing.T) {
	e := newEnv(t)
	obs := e.observed()
	rctx := account.WithRequest(ctx, account.RequestInfo{SourceIP: "198.51.100.8", UserAgent: "life-test/1", RequestID: "req-life", Family: "user"})
	tick := func() { e.advance(2 * time.Minute) }
	secrets := []string{"lena-password-1", "wrong-password-7"}

	c, err := e.svc.Register(rctx, account.NewAccount{Username: "Lena", Email: "lena@example.com", Password: secrets[0], SelfService: true})
	if err != nil {
		t.Fatal(err)
	}
	a := c.Account
	m, _ := e.mailer.LastVerification()
	secrets = append(secrets, m.Token)
	tick()
	if err := e.svc.VerifyEmail(rctx, m.Token); err != nil {
		t.Fatal(err)
	}
	tick()
	_, t1, err := e.svc.Login(rctx, "lena", secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	tick()
	_, t2, err := e.svc.Login(rctx, "lena", secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, t1, t2)
	tick()
	is(t, e.svc.RequestEmailChange(rctx, a, "lena@new.example", secrets[1]), account.ErrInvalidCredentials)
	tick()
	if err := e.svc.RequestEmailChange(rctx, a, "lena@new.example", secrets[0]); err != nil {
		t.Fatal(err)
	}
	m, _ = e.mailer.LastVerification()
	secrets = append(secrets, m.Token)
	tick()
	if err := e.svc.VerifyEmail(rctx, m.Token); err != nil {
		t.Fatal(err)
	}
	tick()
	bio := "a new bio"
	if _, err := e.svc.UpdateOwnProfile(rctx, t1, account.ProfileUpdate{Profile: account.Profile{Bio: &bio}}); err != nil {
		t.Fatal(err)
	}
	tick()
	if _, err := e.svc.UpdateOwnProfile(rctx, t1, account.ProfileUpdate{}); err != nil {
		t.Fatal(err)
	}
	tick()
	if current, err := e.svc.EndSession(rctx, t1, sessionIDOf(t2)); err != nil || current {
		t.Fatalf("end the other session: current %v, %v", current, err)
	}
	tick()
	if err := e.svc.LogoutAll(rctx, t1); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"account.created/self", "email.verified/anonymous", "login.succeeded/self", "login.succeeded/self",
		"login.failed/anonymous", "email.change_requested/self", "email.changed/anonymous",
		"profile.updated/self", "session.ended/self/by_id", "session.ended/self/all",
	}
	if got := e.storedTypes(t, a.UserID); !slices.Equal(got, want) {
		t.Errorf("lena's events:\n got %v\nwant %v", got, want)
	}
	evs, _, _ := e.store.Events(ctx, a.UserID, "", 100)
	for _, ev := range evs {
		if ev.UserID != a.UserID || ev.Username != "Lena" || ev.SourceIP != "198.51.100.8" || ev.UserAgent != "life-test/1" ||
			ev.RequestID != "req-life" || ev.Family != "user" {
			t.Errorf("event without its account or request: %+v", ev)
		}
		if want := account.OutcomeSuccess; ev.Type != account.EventLoginFailed && ev.Outcome != want {
			t.Errorf("%s: outcome %s, want %s", ev.Type, ev.Outcome, want)
		}
	}
	for _, typ := range []account.EventType{account.EventEmailVerified, account.EventEmailChangeRequested, account.EventEmailChanged, account.EventProfileUpdated} {
		if n := observedOf(obs, typ, a.UserID); n != 1 {
			t.Errorf("%s observed %d times, want 1", typ, n)
		}
	}
	if n := observedOf(obs, account.EventSessionEnded, a.UserID); n != 2 {
		t.Errorf("session.ended observed %d times, want 2", n)
	}

	// DELETE /user: a wrong password is a login.failed, the deletion is observed only.
	tick()
	t3 := e.login(t, "lena", secrets[0])
	secrets = append(secrets, t3)
	tick() // events of one instant are ordered by their random ids
	is(t, e.svc.DeleteOwnAccount(rctx, t3, secrets[1]), account.ErrInvalidCredentials)
	if got := e.storedTypes(t, a.UserID); got[len(got)-1] != "login.failed/anonymous" {
		t.Errorf("after a wrong password on DELETE /user: %v", got)
	}
	if n := observedOf(obs, account.EventAccountDeleted, a.UserID); n != 0 {
		t.Fatalf("account.deleted observed %d times before the deletion", n)
	}
	records, _ := json.Marshal(e.store.AuditRecords())
	if err := e.svc.DeleteOwnAccount(rctx, t3, secrets[0]); err != nil {
		t.Fatal(err)
	}
	var deleted []account.Event
	for _, ev := range obs.evs {
		if ev.Type == account.EventAccountDeleted {
			deleted = append(deleted, ev)
		}
	}
	if len(deleted) != 1 || deleted[0].UserID != a.UserID || deleted[0].Username != "Lena" || deleted[0].Actor != account.ActorSelf ||
		deleted[0].Outcome != account.OutcomeSuccess || deleted[0].Family != "user" || deleted[0].SourceIP != "198.51.100.8" {
		t.Errorf("observed deletions %+v, want lena's own", deleted)
	}
	if left := e.storedTypes(t, a.UserID); len(left) != 0 {
		t.Errorf("lena's events outlived lena: %v", left)
	}
	for _, r := range e.store.AuditRecords() {
		if r.Event.Type == account.EventAccountDeleted {
			t.Errorf("a self-deletion stored under %d: %+v", r.Under, r.Event)
		}
	}

	// The last admin's refused self-deletion is no deletion.
	if _, _, err := e.svc.EnsureAdmin(ctx, "root", "root-password-1"); err != nil {
		t.Fatal(err)
	}
	rt := e.login(t, "root", "root-password-1")
	is(t, e.svc.DeleteOwnAccount(rctx, rt, "root-password-1"), account.ErrLastAdmin)
	if n := observedOf(obs, account.EventAccountDeleted, 0); n != 1 {
		t.Errorf("%d deletions observed after the last admin's refusal, want lena's 1", n)
	}

	for _, s := range secrets {
		if strings.Contains(string(records), s) {
			t.Errorf("a stored audit record holds the secret %q", s)
		}
	}
}

// observedOf counts the observed events of typ (of account id; 0: any).
func observedOf(obs *recorder, typ account.EventType, id int64) int {
	obs.mu.Lock()
	defer obs.mu.Unlock()
	n := 0
	for _, ev := range obs.evs {
		if ev.Type == typ && (id == 0 || ev.UserID == id) {
			n++
		}
	}
	return n
}

// failingStore fails one write method (fail) with errDown, writing nothing.
type failingStore struct {
	*accounttest.Store
	fail string
}

var errDown = errors.New("dynamodb is down")

func (s *failingStore) err(method string) error {
	if s.fail == method {
		return errDown
	}
	return nil
}

func (s *failingStore) PutVerification(ctx context.Context, v *account.EmailVerification) error {
	if err := s.err("PutVerification"); err != nil {
		return err
	}
	return s.Store.PutVerification(ctx, v)
}

func (s *failingStore) ConfirmEmail(ctx context.Context, v *account.EmailVerification, cur *account.Account, now time.Time) error {
	if err := s.err("ConfirmEmail"); err != nil {
		return err
	}
	return s.Store.ConfirmEmail(ctx, v, cur, now)
}

func (s *failingStore) UpdateProfile(ctx context.Context, c account.ProfileChange) (*account.Account, error) {
	if err := s.err("UpdateProfile"); err != nil {
		return nil, err
	}
	return s.Store.UpdateProfile(ctx, c)
}

func (s *failingStore) DeleteSession(ctx context.Context, id int64, hash string) error {
	if err := s.err("DeleteSession"); err != nil {
		return err
	}
	return s.Store.DeleteSession(ctx, id, hash)
}

func (s *failingStore) ChangeCredentials(ctx context.Context, c account.CredentialChange) error {
	if err := s.err("ChangeCredentials"); err != nil {
		return err
	}
	return s.Store.ChangeCredentials(ctx, c)
}

func (s *failingStore) DeleteAccount(ctx context.Context, a *account.Account) error {
	if err := s.err("DeleteAccount"); err != nil {
		return err
	}
	return s.Store.DeleteAccount(ctx, a)
}

// TestLifecycleEventsNotStoredWhenTheWriteFails: when a route's write fails, its event is
// neither stored nor observed, and the route answers the store's error.
func TestLifecycleEventsNotStoredWhenTheWriteFails(t *testing.T) {
	for _, tc := range []struct {
		method string
		typ    account.EventType
		run    func(e *env, a *account.Account, token, other, verifyToken string) error
	}{
		{"PutVerification", account.EventEmailChangeRequested, func(e *env, a *account.Account, _, _, _ string) error {
			return e.svc.RequestEmailChange(ctx, a, "fay@new.example", "fay-password-1")
		}},
		{"ConfirmEmail", account.EventEmailVerified, func(e *env, _ *account.Account, _, _, vt string) error {
			return e.svc.VerifyEmail(ctx, vt)
		}},
		{"UpdateProfile", account.EventProfileUpdated, func(e *env, _ *account.Account, token, _, _ string) error {
			bio := "x bio"
			_, err := e.svc.UpdateOwnProfile(ctx, token, account.ProfileUpdate{Profile: account.Profile{Bio: &bio}})
			return err
		}},
		{"DeleteSession", account.EventSessionEnded, func(e *env, _ *account.Account, token, other, _ string) error {
			_, err := e.svc.EndSession(ctx, token, sessionIDOf(other))
			return err
		}},
		{"ChangeCredentials", account.EventSessionEnded, func(e *env, _ *account.Account, token, _, _ string) error {
			return e.svc.LogoutAll(ctx, token)
		}},
		{"DeleteAccount", account.EventAccountDeleted, func(e *env, _ *account.Account, token, _, _ string) error {
			return e.svc.DeleteOwnAccount(ctx, token, "fay-password-1")
		}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			e := newEnv(t)
			obs := e.observed()
			c, err := e.svc.Register(ctx, account.NewAccount{Username: "fay", Email: "fay@example.com", Password: "fay-password-1", SelfService: true})
			if err != nil {
				t.Fatal(err)
			}
			m, _ := e.mailer.LastVerification()
			token, other := e.login(t, "fay", "fay-password-1"), e.login(t, "fay", "fay-password-1")
			e.svc.Store = &failingStore{Store: e.store, fail: tc.method}
			if err := tc.run(e, c.Account, token, other, m.Token); !errors.Is(err, errDown) {
				t.Fatalf("got %v, want the store's error", err)
			}
			for _, r := range e.store.AuditRecords() {
				if r.Event.Type == tc.typ {
					t.Errorf("%s stored although %s failed", tc.typ, tc.method)
				}
			}
			if n := observedOf(obs, tc.typ, 0); n != 0 {
				t.Errorf("%s observed %d times although %s failed", tc.typ, n, tc.method)
			}
		})
	}
}

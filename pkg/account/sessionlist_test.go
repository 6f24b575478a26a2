package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// loginFrom logs in with the request origin a function's context carries.
func (e *env) loginFrom(t *testing.T, ip, ua, username, pw string) string {
	t.Helper()
	c := account.WithUserAgent(account.WithSourceIP(context.Background(), ip), ua)
	_, token, err := e.svc.Login(c, username, pw)
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return token
}

func (e *env) sessions(t *testing.T, token string) []account.SessionInfo {
	t.Helper()
	list, err := e.svc.Sessions(ctx, token)
	if err != nil {
		t.Fatalf("sessions: %v", err)
	}
	return list
}

func TestSessionsListed(t *testing.T) {
	e := newEnv(t)
	e.register(t, "sally", "", "sally-password")
	first := e.loginFrom(t, "198.51.100.7", "agent-one/1.0", "sally", "sally-password")
	e.advance(time.Second)
	second := e.loginFrom(t, "2001:db8::5", "agent-two/2.0 "+strings.Repeat("x", 400), "sally", "sally-password")
	list := e.sessions(t, first)
	if len(list) != 2 {
		t.Fatalf("%d sessions, want 2", len(list))
	}
	// Newest first; the presented one is current.
	newest, oldest := list[0], list[1]
	if newest.IP != "2001:db8::5" || !strings.HasPrefix(newest.UserAgent, "agent-two/2.0 ") || len(newest.UserAgent) != account.MaxUserAgent || newest.Current {
		t.Errorf("newest %+v", newest)
	}
	if oldest.IP != "198.51.100.7" || oldest.UserAgent != "agent-one/1.0" || !oldest.Current || !oldest.CreatedAt.Equal(e.now.Add(-time.Second)) {
		t.Errorf("oldest %+v", oldest)
	}
	for _, x := range list {
		if x.ID == first || x.ID == second || strings.Contains(first+second, x.ID) || len(x.ID) != 32 {
			t.Errorf("id %q is, or is part of, a token", x.ID)
		}
	}
	if got := e.sessions(t, second); !got[0].Current || got[1].Current {
		t.Errorf("from the second session: %+v", got)
	}
}

// The last-seen time moves on a check only once a minute has passed, with one write.
func TestSessionLastSeen(t *testing.T) {
	e := newEnv(t)
	e.register(t, "seen", "", "seen-password")
	token := e.login(t, "seen", "seen-password")
	created := e.now
	check := func() {
		t.Helper()
		if _, _, err := e.svc.Authorize(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() time.Time {
		t.Helper()
		id, hash, _ := account.ParseSessionToken(token)
		s, _, err := e.store.SessionWithAccount(ctx, id, hash)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	if got := stored(); !got.Equal(created) {
		t.Fatalf("after login: last seen %v, want %v", got, created)
	}
	e.advance(59 * time.Second)
	check()
	if got := stored(); !got.Equal(created) {
		t.Errorf("59 s later: last seen %v, want unchanged %v", got, created)
	}
	e.advance(time.Second)
	check()
	if got := stored(); !got.Equal(e.now) {
		t.Errorf("a minute later: last seen %v, want %v", got, e.now)
	}
	touched := e.now
	e.advance(30 * time.Second)
	check()
	if got := stored(); !got.Equal(touched) {
		t.Errorf("30 s after the touch: last seen %v, want %v", got, touched)
	}
	// The list shows it (and its own check is the same rule).
	if got := e.sessions(t, token)[0].LastSeenAt; !got.Equal(touched) {
		t.Errorf("listed last seen %v, want %v", got, touched)
	}
}

func TestEndSession(t *testing.T) {
	e := newEnv(t)
	e.register(t, "ender", "", "ender-password")
	e.register(t, "stranger", "", "stranger-password")
	mine := e.login(t, "ender", "ender-password")
	other := e.login(t, "ender", "ender-password")
	theirs := e.login(t, "stranger", "stranger-password")
	var otherID, mineID string
	for _, x := range e.sessions(t, mine) {
		if x.Current {
			mineID = x.ID
		} else {
			otherID = x.ID
		}
	}
	theirID := e.sessions(t, theirs)[0].ID
	for what, id := range map[string]string{"unknown id": strings.Repeat("0", 32), "another account's session": theirID, "empty": "", "a token": other} {
		if _, err := e.svc.EndSession(ctx, mine, id); !errors.Is(err, account.ErrSessionNotFound) {
			t.Errorf("%s: %v, want session not found", what, err)
		}
	}
	if _, _, err := e.svc.Authorize(ctx, theirs); err != nil {
		t.Errorf("another account's session after the refusal: %v", err)
	}
	if current, err := e.svc.EndSession(ctx, mine, otherID); err != nil || current {
		t.Fatalf("end the other: current %v, %v", current, err)
	}
	if _, _, err := e.svc.Authorize(ctx, other); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Errorf("ended session: %v", err)
	}
	if _, err := e.svc.EndSession(ctx, mine, otherID); !errors.Is(err, account.ErrSessionNotFound) {
		t.Errorf("ended twice: %v", err)
	}
	if list := e.sessions(t, mine); len(list) != 1 || !list[0].Current {
		t.Errorf("after ending the other: %+v", list)
	}
	if current, err := e.svc.EndSession(ctx, mine, mineID); err != nil || !current {
		t.Fatalf("end this one: current %v, %v", current, err)
	}
	if _, err := e.svc.Sessions(ctx, mine); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Errorf("after ending this one: %v", err)
	}
}

func TestLogoutAll(t *testing.T) {
	e := newEnv(t)
	e.register(t, "everywhere", "", "everywhere-password")
	e.register(t, "bystander", "", "bystander-password")
	a, b := e.login(t, "everywhere", "everywhere-password"), e.login(t, "everywhere", "everywhere-password")
	kept := e.login(t, "bystander", "bystander-password")
	if err := e.svc.LogoutAll(ctx, a); err != nil {
		t.Fatal(err)
	}
	for what, token := range map[string]string{"this session": a, "the other": b} {
		if _, _, err := e.svc.Authorize(ctx, token); !errors.Is(err, account.ErrNotAuthenticated) {
			t.Errorf("%s after logout-all: %v", what, err)
		}
	}
	if err := e.svc.LogoutAll(ctx, a); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Errorf("logout-all again: %v", err)
	}
	if _, _, err := e.svc.Authorize(ctx, kept); err != nil {
		t.Errorf("another account's session: %v", err)
	}
	// A new login works and sees only itself.
	c := e.login(t, "everywhere", "everywhere-password")
	if list := e.sessions(t, c); len(list) != 1 || !list[0].Current {
		t.Errorf("after logout-all and a new login: %+v", list)
	}
}

// A password change voids the sessions' metadata too: none is listed any more; deleting
// the account removes it.
func TestSessionMetadataDiesWithPasswordAndAccount(t *testing.T) {
	e := newEnv(t)
	acc := e.register(t, "changer", "changer@example.com", "changer-password")
	e.loginFrom(t, "198.51.100.1", "old-agent", "changer", "changer-password")
	if err := e.svc.ChangePasswordByEmail(ctx, "changer@example.com", "changer-password", "changer-password-2"); err != nil {
		t.Fatal(err)
	}
	fresh := e.loginFrom(t, "198.51.100.2", "new-agent", "changer", "changer-password-2")
	if list := e.sessions(t, fresh); len(list) != 1 || list[0].UserAgent != "new-agent" {
		t.Errorf("after a password change: %+v", list)
	}
	boss, _, err := e.svc.EnsureAdmin(ctx, "boss", "boss-password-0")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUser(ctx, boss, "changer"); err != nil {
		t.Fatal(err)
	}
	if list, err := e.store.ListSessions(ctx, acc.UserID); err != nil || len(list) != 0 {
		t.Errorf("sessions of the deleted account: %d, %v", len(list), err)
	}
}

package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// A session presented with a userhash (MMDL's Basic userhash:ssid) is valid only for the
// account of that userhash, and ends like any other.
func TestAuthorizeAs(t *testing.T) {
	e := newEnv(t)
	alice := e.register(t, "Alice", "", "alice-password")
	e.register(t, "bob", "", "bob-password")
	token := e.login(t, "alice", "alice-password")
	for _, uh := range []string{alice.UserHash(), strings.ToUpper(alice.UserHash())} {
		if a, _, err := e.svc.AuthorizeAs(ctx, uh, token); err != nil || a.UserID != alice.UserID {
			t.Fatalf("own userhash %s: %v %v", uh, a, err)
		}
	}
	for _, uh := range []string{account.UserHash("bob"), "", "alice", alice.UserHash()[:63]} {
		if _, _, err := e.svc.AuthorizeAs(ctx, uh, token); !errors.Is(err, account.ErrNotAuthenticated) {
			t.Fatalf("userhash %q: %v", uh, err)
		}
		if err := e.svc.LogoutAs(ctx, uh, token); !errors.Is(err, account.ErrNotAuthenticated) {
			t.Fatalf("logout with userhash %q: %v", uh, err)
		}
	}
	if err := e.svc.LogoutAs(ctx, alice.UserHash(), token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.AuthorizeAs(ctx, alice.UserHash(), token); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Fatalf("after logout: %v", err)
	}
}

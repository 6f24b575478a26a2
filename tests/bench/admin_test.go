package bench

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/password"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// prodHasher is the production argon2id hasher whose Hash remembers its result per
// password: the accounts the bench makes through the domain carry production hashes (so
// the functions verify them at production cost) without paying one per account.
type prodHasher struct {
	account.Hasher
	mu     sync.Mutex
	hashes map[string]string
}

func (h *prodHasher) Hash(pw string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.hashes[pw]; ok {
		return v, nil
	}
	v, err := h.Hasher.Hash(pw)
	if err == nil {
		h.hashes[pw] = v
	}
	return v, err
}

var (
	benchSvcOnce sync.Once
	benchSvcVal  *account.Service
)

// benchService is the domain on the local stack's table, with production hashes.
func benchService(t testing.TB) *account.Service {
	benchSvcOnce.Do(func() {
		h, err := password.New(password.OWASP)
		if err != nil {
			t.Fatal(err)
		}
		store := dynamo.New(emulators.DynamoDBClient(e2e.Stack.DynamoEndpoint), e2e.Stack.TableName)
		benchSvcVal = account.NewService(store, &prodHasher{Hasher: h, hashes: map[string]string{}}, nil, account.Config{}, nil)
	})
	return benchSvcVal
}

// ensureAdmin makes an admin with a production hash.
func ensureAdmin(t testing.TB, name, pw string) {
	if _, _, err := benchService(t).EnsureAdmin(context.Background(), name, pw); err != nil {
		t.Fatal(err)
	}
	e2e.Secret(pw)
}

// freshPairs makes n admins and n users the functions have never seen, through the
// domain (4 at a time: it is only setup).
func freshPairs(t testing.TB, n int) (admins, targets []string) {
	admins, targets = make([]string, n), make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		admins[i], targets[i] = e2e.Unique("missadmin"), e2e.Unique("misstarget")
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ensureAdmin(t, admins[i], missPassword)
			if _, err := benchService(t).Register(context.Background(), account.NewAccount{Username: targets[i], Password: "bench-password-1"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return admins, targets
}

const missPassword = "bench-miss-admin-password"

// adminMiss builds, for the admin routes, n requests each by an admin the function has
// not seen (its credential cache misses) on a target it has not seen either: the worst
// case, a cold function's first call by each admin.
func adminMiss(route string) func(t testing.TB, n int) []func() e2e.Response {
	type call struct{ method, path, ct, body string }
	var mk func(target string) call
	switch route {
	case "GET /api/v2/users":
		mk = func(string) call { return call{http.MethodGet, "/api/v2/users?limit=50", "", ""} }
	case "GET /api/v2/users/{username}":
		mk = func(u string) call { return call{http.MethodGet, "/api/v2/users/" + u, "", ""} }
	case "PUT /api/v2/users/{username}/update":
		mk = func(u string) call {
			return call{http.MethodPut, "/api/v2/users/" + u + "/update", "application/json", `{"password":"bench-password-2"}`}
		}
	case "POST /api/v2/users/{username}/refresh":
		mk = func(u string) call {
			return call{http.MethodPost, "/api/v2/users/" + u + "/refresh", "application/json", `{}`}
		}
	case "DELETE /api/v2/users/{username}":
		mk = func(u string) call { return call{http.MethodDelete, "/api/v2/users/" + u, "", ""} }
	default:
		return nil
	}
	return func(t testing.TB, n int) []func() e2e.Response {
		admins, targets := freshPairs(t, n)
		return each(n, func(i int) func() e2e.Response {
			c := mk(targets[i])
			return func() e2e.Response {
				return e2e.Do(t, e2e.Stack.URL, c.method, c.path, c.ct, c.body, "Authorization", basic(admins[i], missPassword))
			}
		})
	}
}

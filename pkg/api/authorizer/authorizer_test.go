package authorizer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
)

// faultyStore is the in-memory store, failing session reads when fail is set.
type faultyStore struct {
	account.Store
	fail  error
	reads int
}

func (s *faultyStore) SessionWithAccount(ctx context.Context, id int64, hash string) (*account.Session, *account.Account, error) {
	s.reads++
	if s.fail != nil {
		return nil, nil, s.fail
	}
	return s.Store.SessionWithAccount(ctx, id, hash)
}

type fixture struct {
	h     *Handler
	svc   *account.Service
	store *faultyStore
	now   time.Time
	log   strings.Builder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	f.store = &faultyStore{Store: accounttest.NewStore()}
	f.svc = account.NewService(f.store, accounttest.NewHasher(), &accounttest.Mailer{}, account.Config{AllowRegistration: true}, nil)
	f.svc.Now = func() time.Time { return f.now }
	f.h = New(f.svc, slog.New(slog.NewJSONHandler(&f.log, nil)))
	return f
}

var ctx = context.Background()

// session registers name and logs it in.
func (f *fixture) session(t *testing.T, name, email string, role account.Role) (*account.Account, string) {
	t.Helper()
	if _, err := f.svc.Register(ctx, account.NewAccount{Username: name, Email: email, Password: "password-" + name, Role: role}); err != nil {
		t.Fatal(err)
	}
	a, ssid, err := f.svc.Login(ctx, name, "password-"+name)
	if err != nil {
		t.Fatal(err)
	}
	return a, ssid
}

// event reads testdata/<name>.json, an authorizer event as API Gateway sends it, with the
// placeholders filled in.
func event(t *testing.T, name string, fill map[string]string) events.APIGatewayV2CustomAuthorizerV2Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range fill {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// answer runs the Lambda entry point and returns its JSON, as API Gateway reads it.
func (f *fixture) answer(t *testing.T, ev events.APIGatewayV2CustomAuthorizerV2Request) string {
	t.Helper()
	resp, err := f.h.Lambda(ctx, ev)
	if err != nil {
		t.Fatalf("error return (API Gateway would answer 500): %v", err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const deny = `{"isAuthorized":false}`

func TestAuthorize(t *testing.T) {
	f := newFixture(t)
	alice, ssid := f.session(t, "Alice", "alice@example.com", account.RoleUser)
	_, otherSSID := f.session(t, "bob", "bob@example.com", account.RoleUser)
	fill := map[string]string{
		"SSID":        ssid,
		"BASIC":       base64.StdEncoding.EncodeToString([]byte(alice.UserHash() + ":" + ssid)),
		"BASIC_OTHER": base64.StdEncoding.EncodeToString([]byte(account.UserHash("bob") + ":" + ssid)),
		"UNKNOWN":     otherSSID[:len(otherSSID)-6] + strings.Repeat("A", 6),
	}
	allow := `{"isAuthorized":true,"context":{"role":"user","user_id":1,"username":"Alice"}}`
	for _, c := range []struct {
		event, want string
		reads       int
	}{
		{"bearer", allow, 1},
		{"cookie-token", allow, 1},
		{"cookie-ssid", allow, 1},
		{"basic-mmdl", allow, 1},
		{"basic-other-account", deny, 1},
		{"none", deny, 0},
		{"cookie-empty", deny, 0},
		{"bearer-malformed", deny, 0},
		{"basic-malformed", deny, 0},
		{"bearer-unknown", deny, 1},
	} {
		t.Run(c.event, func(t *testing.T) {
			before := f.store.reads
			if got := f.answer(t, event(t, c.event, fill)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			if n := f.store.reads - before; n != c.reads {
				t.Errorf("%d session reads, want %d", n, c.reads)
			}
		})
	}
	if strings.Contains(f.log.String(), ssid) {
		t.Error("a session token reached the log")
	}
}

func TestAuthorizeAdminRole(t *testing.T) {
	f := newFixture(t)
	_, ssid := f.session(t, "root", "", account.RoleAdmin)
	want := `{"isAuthorized":true,"context":{"role":"admin","user_id":1,"username":"root"}}`
	if got := f.answer(t, event(t, "bearer", map[string]string{"SSID": ssid})); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAuthorizeEndedSessions(t *testing.T) {
	f := newFixture(t)
	_, ssid := f.session(t, "carol", "carol@example.com", account.RoleUser)
	ev := func(s string) events.APIGatewayV2CustomAuthorizerV2Request {
		return event(t, "bearer", map[string]string{"SSID": s})
	}
	if got := f.answer(t, ev(ssid)); !strings.HasPrefix(got, `{"isAuthorized":true`) {
		t.Fatalf("valid session: %s", got)
	}
	if err := f.svc.Logout(ctx, ssid); err != nil {
		t.Fatal(err)
	}
	if got := f.answer(t, ev(ssid)); got != deny {
		t.Errorf("after logout: %s", got)
	}

	_, ssid = f.session(t, "dave", "dave@example.com", account.RoleUser)
	if err := f.svc.ChangePasswordByEmail(ctx, "dave@example.com", "password-dave", "a-new-password-1"); err != nil {
		t.Fatal(err)
	}
	if got := f.answer(t, ev(ssid)); got != deny {
		t.Errorf("after a password change: %s", got)
	}

	_, ssid = f.session(t, "erin", "erin@example.com", account.RoleUser)
	f.now = f.now.Add(8 * 24 * time.Hour) // past the default session lifetime
	if got := f.answer(t, ev(ssid)); got != deny {
		t.Errorf("expired: %s", got)
	}
}

// A store fault denies (never an error return, which API Gateway turns into a 500) and is
// logged.
func TestAuthorizeStoreFault(t *testing.T) {
	f := newFixture(t)
	_, ssid := f.session(t, "frank", "frank@example.com", account.RoleUser)
	f.store.fail = errors.New("dynamodb: throttled")
	if got := f.answer(t, event(t, "bearer", map[string]string{"SSID": ssid})); got != deny {
		t.Errorf("store fault: %s", got)
	}
	if !strings.Contains(f.log.String(), "session check failed") || strings.Contains(f.log.String(), ssid) {
		t.Errorf("log: %s", f.log.String())
	}
}

package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/password"
)

func bcryptOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// importFile runs Import and returns the summary and each line's result by line number.
func importFile(t *testing.T, svc *account.Service, file string, dry bool) (account.ImportSummary, map[int]account.ImportResult, error) {
	t.Helper()
	got := map[int]account.ImportResult{}
	sum, err := svc.Import(context.Background(), strings.NewReader(file), account.ImportOptions{
		DryRun: dry, Concurrency: 4,
		Report: func(r account.ImportResult) {
			if _, dup := got[r.Line]; dup {
				t.Errorf("line %d reported twice", r.Line)
			}
			got[r.Line] = r
		},
	})
	return sum, got, err
}

// TestImportReport: every kind of refusal is reported with its line and reason, and never
// stops the lines after it.
func TestImportReport(t *testing.T) {
	e := newEnv(t)
	e.register(t, "taken", "taken@example.com", "password-1")
	hash := bcryptOf(t, "imported-password")
	lines := []string{
		1:  fmt.Sprintf(`{"username":"Alice","email":"Alice@Example.com","email_verified":true,"password_hash":%q,"name":"Alice A","role":"user","created_at":"2020-01-02T03:04:05.123456Z"}`, hash),
		2:  `{"username":"bob","created_at":"2021-05-06T07:08:09+02:00"}`,
		3:  `{"username":"carol","created_at":`,
		4:  `{"username":"dave","passwordhash":"x","created_at":"2021-01-01T00:00:00Z"}`,
		5:  `{"username":"has space","created_at":"2021-01-01T00:00:00Z"}`,
		6:  `{"username":"erin","email":"not-an-email","created_at":"2021-01-01T00:00:00Z"}`,
		7:  `{"username":"ALICE","created_at":"2021-01-01T00:00:00Z"}`,
		8:  `{"username":"frank","email":"alice@example.COM","created_at":"2021-01-01T00:00:00Z"}`,
		9:  `{"username":"Taken","created_at":"2021-01-01T00:00:00Z"}`,
		10: `{"username":"grace","email":"TAKEN@example.com","created_at":"2021-01-01T00:00:00Z"}`,
		11: `{"username":"heidi","password_hash":"5f4dcc3b5aa765d61d8327deb882cf99","created_at":"2021-01-01T00:00:00Z"}`,
		12: `{"username":"ivan","password_hash":"$2b$10$tooshort","created_at":"2021-01-01T00:00:00Z"}`,
		13: `{"username":"judy","password_hash":"$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA","created_at":"2021-01-01T00:00:00Z"}`,
		14: `{"username":"mallory","role":"root","created_at":"2021-01-01T00:00:00Z"}`,
		15: `{"username":"niaj"}`,
		16: `{"username":"olivia","email_verified":true,"created_at":"2021-01-01T00:00:00Z"}`,
		17: `{"username":"peggy","name":"ab","created_at":"2021-01-01T00:00:00Z"}`,
		18: ``,
		19: `{"username":"trent","created_at":"2021-01-01T00:00:00Z"}` + strings.Repeat(" ", account.MaxImportLine),
		20: `{"username":"victor","created_at":"yesterday"}`,
		21: `["not","an","object"]`,
		22: `{"username":"walter","email_verified":"yes","created_at":"2021-01-01T00:00:00Z"}`,
		23: `{"username":"Zoe","role":"admin","created_at":"2022-02-02T02:02:02Z"}`,
	}
	sum, got, err := importFile(t, e.svc, strings.Join(lines[1:], "\n")+"\n", false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		1: "", 2: "",
		3:  "bad JSON: unexpected EOF",
		4:  `bad JSON: unknown field "passwordhash"`,
		5:  "invalid username (contains white space)",
		6:  "invalid email (not a single bare address (name@domain))",
		7:  "duplicate username (line 1)",
		8:  "duplicate email (line 1)",
		9:  "duplicate username",
		10: "duplicate email",
		11: "unsupported password hash (neither bcrypt nor argon2id)",
		12: "unsupported password hash (",
		13: "unsupported password hash (neither bcrypt nor argon2id)",
		14: `invalid role (must be "user" or "admin")`,
		15: "created_at missing",
		16: "email_verified without an email",
		17: "invalid name (must be 3 to 150 characters)",
		19: fmt.Sprintf("line longer than %d bytes", account.MaxImportLine),
		20: "bad JSON: created_at must be an RFC 3339 time",
		21: "bad JSON: not a JSON object",
		22: "bad JSON: email_verified must be a JSON boolean",
		23: "",
	}
	for n, reason := range want {
		r, ok := got[n]
		switch {
		case !ok:
			t.Errorf("line %d: no report", n)
		case reason == "" && r.Outcome != account.ImportCreated:
			t.Errorf("line %d: %+v, want created", n, r)
		case reason != "" && (r.Outcome != account.ImportRefused || !strings.HasPrefix(r.Reason, reason)):
			t.Errorf("line %d: %+v, want refused %q", n, r, reason)
		}
	}
	if len(got) != len(want) || sum != (account.ImportSummary{Lines: 22, Created: 3, Refused: 19}) {
		t.Errorf("summary %+v, %d reports", sum, len(got))
	}
	if got[9].Username != "Taken" || got[19].Username != "" {
		t.Errorf("usernames in the report: %q %q", got[9].Username, got[19].Username)
	}
	a, err := e.svc.AccountByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.Username != "Alice" || a.EmailKey != "alice@example.com" || !a.EmailVerified || a.PasswordHash != hash ||
		a.Name != "Alice A" || a.Role != account.RoleUser || a.CreatedAt.Format("2006-01-02T15:04:05.999999Z07:00") != "2020-01-02T03:04:05.123456Z" {
		t.Errorf("imported account: %+v", a)
	}
	b, err := e.svc.AccountByUsername(context.Background(), "bob")
	if err != nil || b.PasswordHash != "" || b.Email != "" || b.EmailVerified || !b.CreatedAt.Equal(b.CreatedAt.UTC()) || b.CreatedAt.Hour() != 5 {
		t.Errorf("bob: %+v %v", b, err)
	}
	if z, err := e.svc.AccountByUsername(context.Background(), "zoe"); err != nil || z.Role != account.RoleAdmin {
		t.Errorf("zoe: %+v %v", z, err)
	}
}

// TestImportIdempotent: a second run reports every account "unchanged" and writes
// nothing, also after a login has rehashed an imported bcrypt hash; another account under
// the same name is still a refusal.
func TestImportIdempotent(t *testing.T) {
	e := newEnv(t)
	file := fmt.Sprintf(`{"username":"amy","email":"amy@example.com","password_hash":%q,"created_at":"2020-01-01T00:00:00Z"}
{"username":"ben","created_at":"2020-01-01T00:00:00Z"}
`, bcryptOf(t, "amys-password"))
	if sum, _, err := importFile(t, e.svc, file, false); err != nil || sum.Created != 2 {
		t.Fatalf("first run: %+v %v", sum, err)
	}
	e.login(t, "amy", "amys-password") // rehashes to argon2id
	before := allAccounts(t, e.store)
	sum, got, err := importFile(t, e.svc, file, false)
	if err != nil || sum != (account.ImportSummary{Lines: 2, Unchanged: 2}) || got[1].Outcome != account.ImportUnchanged {
		t.Fatalf("re-run: %+v %+v %v", sum, got, err)
	}
	if after := allAccounts(t, e.store); !slices.EqualFunc(after, before, sameStored) {
		t.Fatalf("re-run changed the store")
	}
	// The same name with another created_at is someone else.
	other := strings.Replace(file, "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", 1)
	if sum, got, _ := importFile(t, e.svc, other, false); sum.Refused != 1 || got[1].Reason != "duplicate username" {
		t.Fatalf("another amy: %+v %+v", sum, got)
	}
}

func allAccounts(t *testing.T, s account.Store) []*account.Account {
	t.Helper()
	all, _, err := s.ListAccounts(context.Background(), "", account.MaxListAccounts)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func sameStored(a, b *account.Account) bool {
	return a.UserID == b.UserID && a.PasswordHash == b.PasswordHash && a.UpdatedAt.Equal(b.UpdatedAt) && a.CredVersion == b.CredVersion
}

// TestImportDryRun: a dry run reports what a real run would and writes nothing.
func TestImportDryRun(t *testing.T) {
	e := newEnv(t)
	e.register(t, "taken", "taken@example.com", "password-1")
	file := `{"username":"new1","created_at":"2020-01-01T00:00:00Z"}
{"username":"TAKEN","created_at":"2020-01-01T00:00:00Z"}
{"username":"new2","email":"taken@EXAMPLE.com","created_at":"2020-01-01T00:00:00Z"}
{"username":"new1","created_at":"2020-01-01T00:00:00Z"}
{"username":"x"}
`
	before := allAccounts(t, e.store)
	dry, dryGot, err := importFile(t, e.svc, file, true)
	if err != nil {
		t.Fatal(err)
	}
	if after := allAccounts(t, e.store); len(after) != len(before) {
		t.Fatalf("dry run wrote %d accounts", len(after)-len(before))
	}
	if _, err := e.svc.AccountByUsername(context.Background(), "new1"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("dry run created new1: %v", err)
	}
	real, realGot, err := importFile(t, e.svc, file, false)
	if err != nil {
		t.Fatal(err)
	}
	if dry != real || dry != (account.ImportSummary{Lines: 5, Created: 1, Refused: 4}) {
		t.Fatalf("dry %+v, real %+v", dry, real)
	}
	for n, r := range realGot {
		if dryGot[n] != r {
			t.Errorf("line %d: dry %+v, real %+v", n, dryGot[n], r)
		}
	}
}

// TestImportedHashesLogIn: an imported bcrypt hash and an argon2id hash with other
// parameters than the service's both log in, and are rehashed to the service's argon2id.
func TestImportedHashesLogIn(t *testing.T) {
	e := newEnv(t)
	other, err := password.New(password.Params{MemoryKiB: 128, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	argon, err := other.Hash("argon-password")
	if err != nil {
		t.Fatal(err)
	}
	bc := strings.Replace(bcryptOf(t, "bcrypt-password"), "$2a$", "$2y$", 1) // PHP's spelling
	file := fmt.Sprintf(`{"username":"bea","password_hash":%q,"created_at":"2020-01-01T00:00:00Z"}
{"username":"cid","password_hash":%q,"created_at":"2020-01-01T00:00:00Z"}
`, bc, argon)
	if sum, got, err := importFile(t, e.svc, file, false); err != nil || sum.Created != 2 {
		t.Fatalf("%+v %+v %v", sum, got, err)
	}
	for name, pw := range map[string]string{"bea": "bcrypt-password", "cid": "argon-password"} {
		if _, _, err := e.svc.Login(context.Background(), name, pw+"x"); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("%s with a wrong password: %v", name, err)
		}
		e.login(t, name, pw)
		a, _ := e.svc.AccountByUsername(context.Background(), name)
		if !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Fatalf("%s not rehashed: %s", name, a.PasswordHash)
		}
	}
}

// TestExportRoundTrip: export -> import into an empty store -> export gives the same
// lines; without WithHashes no hash is written; every account's secrets stay out.
func TestExportRoundTrip(t *testing.T) {
	src := newEnv(t)
	src.register(t, "Registered", "reg@example.com", "password-1")
	if _, err := src.svc.Register(context.Background(), account.NewAccount{Username: "robot", Token: "robot-token-123", Role: account.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf(`{"username":"Émile","email":"emile@example.com","email_verified":true,"password_hash":%q,"name":"Émile Z","bio":"b","website":"https://e.example","pronounce":"ay-meel","created_at":"2019-09-09T09:09:09.999999999Z"}
`, bcryptOf(t, "emiles-password"))
	for i := range 250 { // more than two pages
		file += fmt.Sprintf(`{"username":"user%03d","created_at":"2020-01-01T00:00:%02dZ"}`+"\n", i, i%60)
	}
	if sum, _, err := importFile(t, src.svc, file, false); err != nil || sum.Created != 251 {
		t.Fatalf("%+v %v", sum, err)
	}
	export := func(svc *account.Service, hashes bool) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		n, err := svc.Export(context.Background(), account.ExportOptions{WithHashes: hashes}, func(r account.UserRecord) error { return enc.Encode(r) })
		if err != nil || n != 253 {
			t.Fatalf("export: %d %v", n, err)
		}
		return buf.String()
	}
	first := export(src.svc, true)
	dst := newEnv(t)
	if sum, got, err := importFile(t, dst.svc, first, false); err != nil || sum.Created != 253 {
		t.Fatalf("import of the export: %+v %v %v", sum, err, got)
	}
	if again := export(dst.svc, true); again != first {
		t.Fatalf("round trip differs:\n%s\n---\n%s", first, again)
	}
	for _, secret := range []string{"$argon2id$", "$2a$", "robot-token", "token_hash"} {
		if strings.Contains(export(src.svc, false), secret) {
			t.Fatalf("export without hashes holds %q", secret)
		}
	}
	if !strings.Contains(first, `"username":"Émile","email":"emile@example.com","email_verified":true,"password_hash":"$2a$`) ||
		strings.Contains(first, "robot-token") || !strings.Contains(first, `"created_at":"2019-09-09T09:09:09.999999999Z"`) {
		t.Fatalf("export: %.600s", first)
	}
}

// faultyStore fails CreateAccount from the n-th call on.
type faultyStore struct {
	*accounttest.Store
	calls, failFrom atomic.Int64
}

func (s *faultyStore) CreateAccount(ctx context.Context, a *account.Account) error {
	if s.calls.Add(1) >= s.failFrom.Load() {
		return account.Internal("table unavailable")
	}
	return s.Store.CreateAccount(ctx, a)
}

// TestImportStopsOnStoreFault: a store fault stops the import with ErrImportAborted
// (not a refusal per line); a re-run completes it.
func TestImportStopsOnStoreFault(t *testing.T) {
	e := newEnv(t)
	fs := &faultyStore{Store: e.store}
	fs.failFrom.Store(5)
	svc := account.NewService(fs, e.hasher, nil, account.Config{}, nil)
	var file string
	for i := range 50 {
		file += fmt.Sprintf(`{"username":"user%02d","created_at":"2020-01-01T00:00:00Z"}`+"\n", i)
	}
	var progress []account.ImportSummary
	sum, err := svc.Import(context.Background(), strings.NewReader(file), account.ImportOptions{
		Concurrency: 2, ProgressEvery: 2, Progress: func(s account.ImportSummary) { progress = append(progress, s) },
	})
	if !errors.Is(err, account.ErrImportAborted) || sum.Refused != 0 || sum.Created != 4 || len(progress) == 0 {
		t.Fatalf("%+v %v %v", sum, err, progress)
	}
	fs.failFrom.Store(1 << 40)
	sum, _, err = importFile(t, svc, file, false)
	if err != nil || sum != (account.ImportSummary{Lines: 50, Created: 46, Unchanged: 4}) {
		t.Fatalf("re-run: %+v %v", sum, err)
	}
}

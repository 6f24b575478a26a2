// Package migrate_test runs gatehouse-admin import and export, built as a user builds
// them, against the local stack's DynamoDB Local, and logs in with imported passwords
// through the real login functions.
package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/password"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

const (
	bcryptPassword = "migrated-bcrypt-password"
	argonPassword  = "migrated-argon-password"
)

func TestMain(m *testing.M) {
	e2e.Secret(bcryptPassword, argonPassword)
	e2e.Main(m)
}

var (
	binOnce sync.Once
	bin     string
	binErr  error
)

// command builds infra/cmd/gatehouse-admin once per test binary.
func command(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		root, err := emulators.FindRepoRoot("")
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "gatehouse-admin")
		if err != nil {
			binErr = err
			return
		}
		bin = filepath.Join(dir, "gatehouse-admin")
		build := exec.Command("go", "build", "-o", bin, "./infra/cmd/gatehouse-admin")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return bin
}

type result struct {
	code           int
	stdout, stderr string
}

// admin runs gatehouse-admin against the stack's DynamoDB Local with stdin.
func admin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(command(t), args...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_DYNAMODB=" + e2e.Stack.DynamoEndpoint,
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	for _, secret := range []string{bcryptPassword, argonPassword} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatal("gatehouse-admin printed a password")
		}
	}
	return r
}

func store(table string) *dynamo.Store {
	return dynamo.New(emulators.DynamoDBClient(e2e.Stack.DynamoEndpoint), table)
}

// emptyTable makes a new table from the template in the stack's DynamoDB Local.
func emptyTable(t *testing.T) string {
	t.Helper()
	name := e2e.Unique("migrate-")
	err := samtemplate.CreateTable(context.Background(), emulators.DynamoDBClient(e2e.Stack.DynamoEndpoint), e2e.Stack.Template, "AccountsTable", name)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportLoginRehash: a dry run writes nothing; the import creates the accounts and
// reports the refused line while importing the rest; the imported bcrypt and foreign
// argon2id passwords log in through the real login functions and are rehashed to the
// service's argon2id; a re-run changes nothing.
func TestImportLoginRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bc, err := bcrypt.GenerateFromPassword([]byte(bcryptPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := password.New(password.Params{MemoryKiB: 256, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 24})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := foreign.Hash(argonPassword)
	if err != nil {
		t.Fatal(err)
	}
	bcName, agName, badName := e2e.Unique("Migrated"), e2e.Unique("argon"), e2e.Unique("bad")
	file := writeFile(t, fmt.Sprintf(`{"username":%q,"email":"%s@example.com","email_verified":true,"password_hash":%q,"name":"Migrated User","created_at":"2021-06-01T10:00:00.5Z"}
{"username":%q,"password_hash":%q,"created_at":"2022-01-01T00:00:00Z"}
{"username":%q,"password_hash":"md5:5f4dcc3b5aa765d61d8327deb882cf99","created_at":"2022-01-01T00:00:00Z"}
`, bcName, bcName, bc, agName, ag, badName))
	table := e2e.Stack.TableName
	st := store(table)

	dry := admin(t, "", "import", "--file", file, "--dry-run", "--table", table)
	if dry.code != 1 || !strings.Contains(dry.stdout, fmt.Sprintf("line 3 %q: unsupported password hash", badName)) ||
		!strings.HasSuffix(dry.stdout, "dry run: 3 lines: 2 would be created, 0 unchanged, 1 refused\n") {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, err := st.AccountByUsername(ctx, strings.ToLower(bcName)); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("the dry run wrote an account: %v", err)
	}

	r := admin(t, "", "import", "--file", file, "--table", table)
	if r.code != 1 || !strings.Contains(r.stdout, fmt.Sprintf("line 3 %q: unsupported password hash", badName)) ||
		!strings.HasSuffix(r.stdout, "imported: 3 lines: 2 created, 0 unchanged, 1 refused\n") ||
		!strings.Contains(r.stderr, "import: 3 lines") || strings.Contains(r.stdout+r.stderr, "$2a$") {
		t.Fatalf("import: %+v", r)
	}
	a, err := st.AccountByUsername(ctx, strings.ToLower(bcName))
	if err != nil || a.PasswordHash != string(bc) || !a.EmailVerified || a.Name != "Migrated User" ||
		a.CreatedAt.Format("2006-01-02T15:04:05.999Z07:00") != "2021-06-01T10:00:00.5Z" {
		t.Fatalf("imported account: %+v %v", a, err)
	}

	// The real login functions: Users family for the bcrypt account, User family for the
	// argon2id one.
	e2e.Login(t, bcName, bcryptPassword)
	auth := e2e.PostJSON(t, "/user/auth", fmt.Sprintf(`{"username":%q,"password":%q}`, agName, argonPassword))
	if auth.Status != 200 {
		t.Fatalf("/user/auth with the imported argon2id password: %d %s", auth.Status, auth.Body)
	}
	for name, old := range map[string]string{bcName: string(bc), agName: ag} {
		a, err := st.AccountByUsername(ctx, strings.ToLower(name))
		if err != nil || a.PasswordHash == old || !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$") {
			t.Fatalf("%s not rehashed to argon2id: %v", name, err)
		}
	}
	e2e.Login(t, bcName, bcryptPassword) // the rehashed password still logs in

	again := admin(t, "", "import", "--file", file, "--table", table)
	if again.code != 1 || !strings.HasSuffix(again.stdout, "imported: 3 lines: 0 created, 2 unchanged, 1 refused\n") {
		t.Fatalf("re-run: %+v", again)
	}
}

// TestExportImportRoundTrip: import into an empty table, export it (standard output),
// import the export into another empty table, export that: the same lines. Without
// --with-hashes no hash leaves the table; with it, the hashes are as imported.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	bc, err := bcrypt.GenerateFromPassword([]byte(bcryptPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"username":"Zoë","email":"zoe@example.com","email_verified":true,"password_hash":%q,"name":"Zoë Z","bio":"bio","website":"https://zoe.example","pronounce":"zo-ee","role":"admin","created_at":"2018-02-03T04:05:06.789Z"}`+"\n", bc)
	for i := range 230 { // three pages of the store
		fmt.Fprintf(&b, `{"username":"user%03d","email":"user%03d@example.com","created_at":"2020-01-01T00:00:%02dZ"}`+"\n", i, i, i%60)
	}
	first, second := emptyTable(t), emptyTable(t)
	if r := admin(t, "", "import", "--file", "-", "--table", first); r.code != 0 {
		t.Fatalf("import of nothing: %+v", r)
	}
	if r := admin(t, b.String(), "import", "--file", "-", "--table", first); r.code != 0 || !strings.HasSuffix(r.stdout, "imported: 231 lines: 231 created, 0 unchanged, 0 refused\n") {
		t.Fatalf("import: %+v", r)
	}
	exported := admin(t, "", "export", "--with-hashes", "--rate", "0", "--table", first)
	if exported.code != 0 || exported.stderr != "exported 231 accounts\n" || strings.Count(exported.stdout, "\n") != 231 {
		t.Fatalf("export: %d %s %.300s", exported.code, exported.stderr, exported.stdout)
	}
	if !strings.Contains(exported.stdout, fmt.Sprintf(`"password_hash":%q`, bc)) || !strings.Contains(exported.stdout, `"role":"admin","created_at":"2018-02-03T04:05:06.789Z"`) {
		t.Fatalf("export: %.400s", exported.stdout)
	}
	if r := admin(t, exported.stdout, "import", "--file", "-", "--table", second); r.code != 0 || !strings.HasSuffix(r.stdout, "231 created, 0 unchanged, 0 refused\n") {
		t.Fatalf("import of the export: %+v", r)
	}
	again := admin(t, "", "export", "--with-hashes", "--table", second)
	if again.code != 0 || again.stdout != exported.stdout {
		t.Fatalf("round trip differs (%d):\n%.500s\n---\n%.500s", again.code, exported.stdout, again.stdout)
	}
	plain := admin(t, "", "export", "--table", first)
	if plain.code != 0 || strings.Contains(plain.stdout, "password_hash") || strings.Contains(plain.stdout, "$2a$") ||
		strings.Count(plain.stdout, "\n") != 231 || !strings.Contains(plain.stdout, `{"username":"user000","email":"user000@example.com","email_verified":false,"role":"user","created_at":"2020-01-01T00:00:00Z"}`) {
		t.Fatalf("export without hashes: %.500s", plain.stdout)
	}
}

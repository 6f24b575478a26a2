package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// buildCommand builds the command as a user would run it.
func buildCommand(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gatehouse-admin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// result of one run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// runCommand runs bin with stdin, in an environment that holds only what is given (no
// AWS profile of the developer's can leak in).
func runCommand(t *testing.T, bin, stdin string, env []string, args ...string) result {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestCreateAndPromote runs the built command against DynamoDB Local with a table made
// from the template: it creates an admin, promotes an existing user, changes an admin's
// password, and fails clearly on bad input, never printing the password.
func TestCreateAndPromote(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := buildCommand(t)
	const table = "gatehouse-bootstrap"
	e, client, err := stack.StartTable(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	svc := account.NewService(dynamo.New(client, table), accounttest.NewHasher(), nil, account.Config{}, nil)
	env := []string{
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + e.Endpoint,
	}
	withRegion := append([]string{"AWS_REGION=" + emulators.Region}, env...)
	secrets := []string{"first-admin-password", "promoted-password", "changed-password"}
	noSecrets := func(r result) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Fatalf("the password is in the output: %+v", r)
			}
		}
	}

	// A new admin, the password piped with a trailing newline; the region as a flag.
	r := runCommand(t, bin, "first-admin-password\n", env, "create", "--table", table, "--username", "Boss", "--region", emulators.Region)
	noSecrets(r)
	if r.code != 0 || r.stdout != "created admin Boss\n" || r.stderr != "" {
		t.Fatalf("create: %+v", r)
	}
	a, err := svc.AuthenticateAdmin(ctx, "boss", "first-admin-password")
	if err != nil || a.Role != account.RoleAdmin || a.Username != "Boss" || !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("created admin: %+v %v", a, err)
	}

	// An existing user is not promoted without --promote-existing: anyone may
	// have registered it (issue 12, item 1). With it, the account is promoted (CRLF line
	// ending, no final newline is fine too) and keeps nothing its registrant had: email,
	// user_secret, API token, pending OTP and reset token, password, session.
	reg, err := svc.Register(ctx, account.NewAccount{Username: "Worker", Password: "worker-password", Email: "worker@example.com",
		Token: "worker-api-token", WithUserSecret: true})
	if err != nil {
		t.Fatal(err)
	}
	w := reg.Account
	session, err := svc.StartSession(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(client, table)
	if err := store.PutOTP(ctx, &account.OTP{UserID: w.UserID, ReqIDHash: "rq", UserHash: w.UserHash(), CodeMAC: "m", CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutResetToken(ctx, &account.ResetToken{TokenHash: "rt", UserID: w.UserID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateAdmin(ctx, "worker", "worker-password"); !errors.Is(err, account.ErrForbidden) {
		t.Fatalf("before promotion: %v", err)
	}
	r = runCommand(t, bin, "promoted-password\n", withRegion, "create", "--table", table, "--username", "WORKER")
	noSecrets(r)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "account Worker exists and is not an admin; not promoting it") ||
		!strings.Contains(r.stderr, "--promote-existing") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("promotion without --promote-existing: %+v", r)
	}
	if cur, _ := svc.AccountByUsername(ctx, "worker"); cur.Role != account.RoleUser || cur.Email == "" {
		t.Fatalf("refused promotion changed the account: %+v", cur)
	}
	r = runCommand(t, bin, "promoted-password\r\nignored second line\n", withRegion, "create", "--table", table, "--username", "WORKER", "--promote-existing")
	noSecrets(r)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "promoted Worker to admin; its email, user_secret, API token and pending codes were removed") {
		t.Fatalf("promote: %+v", r)
	}
	if _, err := svc.AuthenticateAdmin(ctx, "worker", "promoted-password"); err != nil {
		t.Fatalf("promoted: %v", err)
	}
	for _, old := range []string{"worker-password", "worker-api-token"} {
		if _, err := svc.AuthenticateAdmin(ctx, "worker", old); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("old secret after promotion: %v", err)
		}
	}
	if _, _, err := svc.Authorize(ctx, session); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Fatalf("session after promotion: %v", err)
	}
	if cur, _ := svc.AccountByUsername(ctx, "worker"); cur.Email != "" || cur.TokenHash != "" || cur.SecretHash != "" || cur.ResetHash != "" {
		t.Fatalf("promoted account keeps its registrant's ways in: %+v", cur)
	}
	if _, err := svc.AccountByEmail(ctx, "worker@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("email after promotion: %v", err)
	}
	if _, err := store.SpendOTPAttempt(ctx, w.UserID, "rq", w.UserHash(), time.Now(), 5); !errors.Is(err, account.ErrInvalidRequest) {
		t.Fatalf("OTP after promotion: %v", err)
	}
	if _, err := store.ResetToken(ctx, "rt"); !errors.Is(err, account.ErrTokenNotFound) {
		t.Fatalf("reset token after promotion: %v", err)
	}

	// Running it again for an admin sets a new password.
	r = runCommand(t, bin, "changed-password", withRegion, "create", "--table", table, "--username", "boss")
	noSecrets(r)
	if r.code != 0 || r.stdout != "set a new password for admin Boss\n" {
		t.Fatalf("again: %+v", r)
	}
	if _, err := svc.AuthenticateAdmin(ctx, "boss", "changed-password"); err != nil {
		t.Fatal(err)
	}

	// Failures: one line on stderr, non-zero exit, nothing changed.
	for _, tc := range []struct {
		what, stdin string
		env         []string
		args        []string
		code        int
		stderr      string
	}{
		{"short password", "short\n", withRegion, []string{"--username", "newbie"}, 1, "gatehouse-admin: invalid password: must be 8 to 200 characters\n"},
		{"empty line", "\n", withRegion, []string{"--username", "newbie"}, 1, "gatehouse-admin: invalid password: empty\n"},
		{"no stdin", "", withRegion, []string{"--username", "newbie"}, 1, "gatehouse-admin: no password on standard input\n"},
		{"NUL in password", "abc\x00defghij\n", withRegion, []string{"--username", "newbie"}, 1, "gatehouse-admin: invalid password: contains a character that is not allowed (NUL or invalid UTF-8)\n"},
		{"invalid username", "good-password\n", withRegion, []string{"--username", "new bie"}, 1, "gatehouse-admin: invalid username: contains white space\n"},
		{"unknown table", "good-password\n", withRegion, []string{"--username", "newbie", "--table", "no-such-table"}, 1, `gatehouse-admin: table "no-such-table" not found in region us-east-1 (use the stack output TableName)` + "\n"},
		{"no region", "good-password\n", env[:2], []string{"--username", "newbie"}, 2, "gatehouse-admin: no AWS region: pass --region or set AWS_REGION\n"},
	} {
		args := append([]string{"create", "--table", table}, tc.args...)
		r := runCommand(t, bin, tc.stdin, tc.env, args...)
		if r.code != tc.code || r.stdout != "" || !strings.HasPrefix(r.stderr, tc.stderr) {
			t.Errorf("%s: %+v", tc.what, r)
		}
	}
	if _, err := svc.AccountByUsername(ctx, "newbie"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("a failed run created the account: %v", err)
	}
	// The local stack: --local, or a loopback endpoint, needs no region and no credentials.
	port := e.Endpoint[strings.LastIndex(e.Endpoint, ":")+1:]
	r = runCommand(t, bin, "local-admin-password\n", nil, "create", "--local", "--dynamodb-port", port, "--table", table, "--username", "localboss")
	if r.code != 0 || r.stdout != "created admin localboss\n" {
		t.Fatalf("--local: %+v", r)
	}
	r = runCommand(t, bin, "local-admin-password\n", []string{"AWS_ENDPOINT_URL_DYNAMODB=" + e.Endpoint}, "create", "--table", table, "--username", "localboss2")
	if r.code != 0 || r.stdout != "created admin localboss2\n" {
		t.Fatalf("loopback endpoint: %+v", r)
	}
	if _, err := svc.AuthenticateAdmin(ctx, "localboss2", "local-admin-password"); err != nil {
		t.Fatal(err)
	}
	// --local's default table is make run's.
	r = runCommand(t, bin, "local-admin-password\n", nil, "create", "--local", "--dynamodb-port", port, "--username", "localboss3")
	if r.code != 1 || !strings.Contains(r.stderr, `table "gatehouse-local" not found`) {
		t.Fatalf("--local default table: %+v", r)
	}

	// DynamoDB unreachable: a clear error, not a hang.
	down := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9"}
	r = runCommand(t, bin, "good-password\n", down, "create", "--table", table, "--username", "newbie")
	if r.code != 1 || !strings.Contains(r.stderr, "connection refused") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("unreachable: %+v", r)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "no command given"},
		{[]string{"delete"}, 2, `unknown command "delete"`},
		{[]string{"create", "--username", "x"}, 2, "--table is required"},
		{[]string{"create", "--table", "t"}, 2, "--username is required"},
		{[]string{"create", "--table", "t", "--username", "boss", "my-password"}, 2, `unexpected argument "my-password"`},
		{[]string{"create", "--password", "x"}, 2, "flag provided but not defined: -password"},
		{[]string{"--help"}, 0, "usage: gatehouse-admin create"},
		{[]string{"create", "-h"}, 0, "usage: gatehouse-admin create"},
	} {
		var stdout, stderr bytes.Buffer
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		code := run(tc.args, devnull, &stdout, &stderr)
		devnull.Close()
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) || stdout.Len() != 0 {
			t.Errorf("%v: %d %q", tc.args, code, stderr.String())
		}
		if code == 2 && !strings.Contains(stderr.String(), "usage:") {
			t.Errorf("%v: no usage", tc.args)
		}
	}
}

func TestReadLine(t *testing.T) {
	for in, want := range map[string]string{
		"pw\n":            "pw",
		"pw":              "pw",
		"pw\r\n":          "pw",
		" spaced pw \n":   " spaced pw ",
		"first\nsecond\n": "first",
		"\n":              "",
		"tab\there\n":     "tab\there",
	} {
		got, err := readLine(bufio.NewReaderSize(strings.NewReader(in), maxLine))
		if err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	if _, err := readLine(bufio.NewReaderSize(strings.NewReader(""), maxLine)); !errors.Is(err, io.EOF) {
		t.Errorf("empty input: %v", err)
	}
	if _, err := readLine(bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", maxLine+1)), maxLine)); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("long line: %v", err)
	}
}

// TestMigrateUsage: import and export refuse bad flags with a usage error (status 2)
// before touching any table, and a missing file with status 1.
func TestMigrateUsage(t *testing.T) {
	bin := buildCommand(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "--local"}, 2, "--file is required"},
		{[]string{"import", "--file", "x.jsonl"}, 2, "--table is required"},
		{[]string{"import", "--file", "x.jsonl", "--local", "--concurrency", "0"}, 2, "--concurrency must be 1 to 256"},
		{[]string{"import", "--file", "x.jsonl", "--local", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"import", "--file", filepath.Join(t.TempDir(), "missing.jsonl"), "--local"}, 1, "no such file"},
		{[]string{"export", "--local", "--rate", "-1"}, 2, "--rate must not be negative"},
		{[]string{"export", "--with-hashes=maybe", "--local"}, 2, "invalid boolean value"},
		{[]string{"export", "--help"}, 0, "gatehouse-admin export [--with-hashes]"},
	} {
		r := runCommand(t, bin, "", nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: %+v, want status %d and %q", tc.args, r, tc.code, tc.want)
		}
	}
}

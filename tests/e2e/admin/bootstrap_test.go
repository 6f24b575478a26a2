package admin_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// TestAdminBootstrapCommand runs infra/cmd/gatehouse-admin against the stack's DynamoDB
// Local table: the admin it creates can use the API, and it promotes an existing user.
func TestAdminBootstrapCommand(t *testing.T) {
	t.Parallel()
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "gatehouse-admin")
	build := exec.Command("go", "build", "-o", bin, "./infra/cmd/gatehouse-admin")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	home := t.TempDir()
	run := func(name, password string, extra ...string) (string, string, error) {
		t.Helper()
		args := append([]string{"create", "--table", e2e.Stack.TableName, "--username", name, "--region", emulators.Region}, extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
			"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_ENDPOINT_URL_DYNAMODB=" + e2e.Stack.DynamoEndpoint,
		}
		cmd.Stdin = strings.NewReader(password + "\n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if strings.Contains(stdout.String()+stderr.String(), password) {
			t.Fatal("gatehouse-admin printed the password")
		}
		return stdout.String(), stderr.String(), err
	}
	bootstrap := func(name, password string, extra ...string) string {
		t.Helper()
		stdout, stderr, err := run(name, password, extra...)
		if err != nil || stderr != "" {
			t.Fatalf("gatehouse-admin: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
		}
		return stdout
	}

	name, pw := e2e.Unique("Boot"), e2e.Unique("boot-password-")
	e2e.Secret(pw)
	if out := bootstrap(name, pw); out != "created admin "+name+"\n" {
		t.Fatalf("create: %q", out)
	}
	r := call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users", "", e2e.Basic(name, pw))
	if r.Status != 200 || !strings.Contains(r.Body, fmt.Sprintf("%q", name)) {
		t.Fatalf("list as the bootstrapped admin: %d %s", r.Status, r.Body)
	}

	user, userPW, _ := e2e.RegisterUser(t, false)
	e2e.Expect(t, "before promotion", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users", "", e2e.Basic(user, userPW)), 403, forbidden)
	ssid := e2e.Login(t, user, userPW)
	promoted := e2e.NewSecret("promoted-password-")
	// Not without --promote-existing: whoever registered the name may still hold it.
	if stdout, stderr, err := run(strings.ToUpper(user), promoted); err == nil || stdout != "" || !strings.Contains(stderr, "--promote-existing") {
		t.Fatalf("promotion without --promote-existing: %v %q %q", err, stdout, stderr)
	}
	e2e.Expect(t, "after a refused promotion", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users", "", e2e.Basic(user, userPW)), 403, forbidden)
	if out := bootstrap(strings.ToUpper(user), promoted, "--promote-existing"); !strings.HasPrefix(out, "promoted "+user+" to admin;") {
		t.Fatalf("promote: %q", out)
	}
	if r := call(t, e2e.Stack.URL, http.MethodGet, userPath(name), "", e2e.Basic(user, promoted)); r.Status != 200 {
		t.Fatalf("promoted admin: %d %s", r.Status, r.Body)
	}
	e2e.Expect(t, "old password after promotion", call(t, e2e.Stack.URL, http.MethodGet, "/api/v2/users", "", e2e.Basic(user, userPW)), 401, unauthorized)
	e2e.Expect(t, "session after promotion", e2e.Get(t, "/users/info", "Authorization", "Bearer "+ssid), 401, notAuth)
}

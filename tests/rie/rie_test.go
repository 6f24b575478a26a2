// Package rie is a second opinion on the local Lambda runtime: a few function binaries run
// under AWS's own Lambda Runtime Interface Emulator (aws-lambda-rie, pinned in
// infra/local/tools and built from source here), behind a second local gateway, and every
// request gets the same answer (status, the headers that matter, body) there as from the
// local stack, whose functions run under infra/local/lambdart. The events are the
// gateway's payload 2.0 events in both cases, so only the runtime differs.
package rie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/gateway"
	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
	"github.com/gatehouse/gatehouse/internal/testkit"
)

// functions run under the emulator: reads and writes, cookies, path parameters, both
// session forms and the envelopes of two families.
var functions = []string{
	"UserCreateFunction", "UserAuthFunction", "UserLoggedFunction", "UserProfileFunction",
	"UsersLoginFunction", "UsersInfoFunction",
}

const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// rieInvoker invokes a function through the emulator's invoke endpoint, as the Lambda
// service would.
type rieInvoker struct {
	url   string
	calls *atomic.Int64
}

func (r rieInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.calls.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return nil, fmt.Errorf("emulator: %d %s", resp.StatusCode, out)
	}
	return out, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// buildRIE builds aws-lambda-rie at the version infra/local/tools pins.
func buildRIE(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aws-lambda-rie")
	cmd := exec.Command("go", "build", "-o", bin, rieModule)
	cmd.Dir = filepath.Join(root, "infra", "local", "tools")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building aws-lambda-rie: %v\n%s", err, out)
	}
	return bin
}

// startRIE runs one function binary under the emulator on free loopback ports and returns
// its invoke URL; the emulator and the function stop with the test.
func startRIE(t *testing.T, rie string, st *stack.Stack, logicalID string, log io.Writer) string {
	t.Helper()
	env, err := st.FunctionEnv(logicalID)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := st.Template.Function(logicalID)
	apiPort, runtimePort := freePort(t), freePort(t)
	cmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(runtimePort),
		st.FunctionBinary(logicalID))
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_REGION=" + emulators.Region, "AWS_DEFAULT_REGION=" + emulators.Region,
		"AWS_LAMBDA_FUNCTION_NAME=" + logicalID,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(fn.Timeout/time.Second)),
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so stopping it stops the function process it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(apiPort)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: aws-lambda-rie does not listen on %s", logicalID, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr + "/2015-03-31/functions/function/invocations"
}

// exchange is one request's answer reduced to what must agree.
type exchange struct {
	Status  int
	Headers string
	Body    string
}

// Secrets differ per login; their shape must not.
var (
	tokenInBody   = regexp.MustCompile(`"ssid":"[^"]+"`)
	tokenInCookie = regexp.MustCompile(`^TOKEN=[^;]+`)
)

func send(t *testing.T, base, method, path, contentType, body string, headers ...string) exchange {
	t.Helper()
	resp, b := testkit.Send(context.Background(), t, http.DefaultClient, method, base+path, contentType, body, headers...)
	var hs []string
	for _, name := range []string{"Content-Type", "Set-Cookie", "Retry-After", "Www-Authenticate", "Cache-Control"} {
		for _, v := range resp.Header.Values(name) {
			if name == "Set-Cookie" {
				v = tokenInCookie.ReplaceAllString(v, "TOKEN=<token>")
			}
			hs = append(hs, name+": "+v)
		}
	}
	sort.Strings(hs)
	return exchange{Status: resp.StatusCode, Headers: strings.Join(hs, "\n"), Body: tokenInBody.ReplaceAllString(string(b), `"ssid":"<token>"`)}
}

func TestFunctionsAnswerAlikeUnderAWSRuntimeEmulator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	rie := buildRIE(t, root)
	var log syncbuf.Buffer
	st, err := stack.Start(ctx, stack.Options{RepoRoot: root, LogWriter: &log, FunctionLogWriter: &log})
	if err != nil {
		t.Fatalf("local stack: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		_ = st.Stop(context.Background())
		if t.Failed() {
			t.Logf("logs:\n%s", log.String())
		}
	})

	var routes []gateway.Route
	var calls atomic.Int64
	for _, id := range functions {
		inv := rieInvoker{url: startRIE(t, rie, st, id, &log), calls: &calls}
		fn, _ := st.Template.Function(id)
		for _, r := range fn.Routes {
			routes = append(routes, gateway.Route{Method: r.Method, Path: r.Path, Function: inv})
		}
	}
	gw, err := gateway.New(routes, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	viaRIE := httptest.NewServer(gw)
	t.Cleanup(viaRIE.Close)

	// The account both sides read, made once through the local stack.
	const user, pw = "rie-user", "rie-password-1"
	create := fmt.Sprintf(`{"username":%q,"email":"rie@example.com","password":%q,"name":"Rie","bio":"second opinion"}`, user, pw)
	if ex := send(t, st.URL, "POST", "/user/create", "application/json", create); ex.Status != 200 {
		t.Fatalf("create: %+v", ex)
	}
	// A session token for the session checks, valid on both sides (one table).
	login := send(t, st.URL, "POST", "/user/auth", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))
	if login.Status != 200 {
		t.Fatalf("auth: %+v", login)
	}
	resp, err := http.Post(st.URL+"/users/login", "application/json", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ssid := regexp.MustCompile(`"ssid":"([^"]+)"`).FindStringSubmatch(string(b))
	if ssid == nil {
		t.Fatalf("users login: %s", b)
	}
	bearer := "Bearer " + ssid[1]

	cases := []struct {
		name, method, path, contentType, body string
		headers                               []string
	}{
		{"profile", "GET", "/user/profile/" + user, "", "", nil},
		{"profile unknown", "GET", "/user/profile/nobody-here", "", "", nil},
		{"auth wrong password", "POST", "/user/auth", "application/json", fmt.Sprintf(`{"username":%q,"password":"wrong-password"}`, user), nil},
		{"auth", "POST", "/user/auth", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw), nil},
		{"auth form body", "POST", "/user/auth", "application/x-www-form-urlencoded", "username=" + user + "&password=" + pw, nil},
		{"logged without token", "GET", "/user/logged", "", "", nil},
		{"logged", "GET", "/user/logged", "", "", []string{"Authorization", bearer}},
		{"logged with cookie", "GET", "/user/logged", "", "", []string{"Cookie", "TOKEN=" + ssid[1]}},
		{"create bad body", "POST", "/user/create", "application/json", "not json", nil},
		{"create taken", "POST", "/user/create", "application/json", create, nil},
		{"users login no username", "POST", "/users/login", "application/json", `{}`, nil},
		{"users login", "POST", "/users/login", "application/json", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw), nil},
		{"MMDL login path", "POST", "/login", "application/x-www-form-urlencoded", "username=" + user + "&password=" + pw, nil},
		{"info", "GET", "/users/info", "", "", []string{"Authorization", bearer}},
		{"info no session", "GET", "/users/info", "", "", nil},
		{"info with a query string", "GET", "/users/info?x=%E2%9C%93", "", "", []string{"Authorization", bearer}},
	}
	for _, c := range cases {
		local := send(t, st.URL, c.method, c.path, c.contentType, c.body, c.headers...)
		other := send(t, viaRIE.URL, c.method, c.path, c.contentType, c.body, c.headers...)
		if local != other {
			t.Errorf("%s: answers differ\nlocal runtime: %+v\naws-lambda-rie: %+v", c.name, local, other)
		}
		if local.Status >= 500 {
			t.Errorf("%s: %+v", c.name, local)
		}
	}
	// Every request reached a function under the emulator (none was the gateway's own).
	if n := calls.Load(); n != int64(len(cases)) {
		t.Errorf("aws-lambda-rie ran %d invocations for %d requests", n, len(cases))
	}
}

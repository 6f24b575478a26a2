// Package browser checks the local stack with a real browser: a page served from another
// local origin logs in through the User family with fetch(..., {credentials: "include"})
// and reads /user/logged with the session cookie, through the gateway's CORS handling of
// the template's CorsConfiguration. Chromium comes from Debian (make chromium); without it
// the tests skip and say why.
package browser

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
	"github.com/gatehouse/gatehouse/internal/testkit"
)

var (
	st        *stack.Stack
	pagePort  string // the page's origins on this port are allowed
	otherPort string // the same page on this port is not
	apiPort   string
	chromium  string
)

// page is the front end: its functions run in the browser, with the API's base URL and
// the credentials passed in by the test.
const page = `<!doctype html><html><head><meta charset="utf-8"><title>gatehouse browser test</title></head>
<body><script>
async function answer(r) { return {status: r.status, body: await r.text()}; }
async function loginAndCheck(api, username, password) {
  const out = {};
  try {
    out.auth = await answer(await fetch(api + "/user/auth", {
      method: "POST", credentials: "include",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({username, password}),
    }));
    out.logged = await answer(await fetch(api + "/user/logged", {credentials: "include"}));
  } catch (e) {
    out.error = String(e);
  }
  out.cookieVisible = document.cookie.includes("TOKEN");
  return JSON.stringify(out);
}
</script></body></html>`

func TestMain(m *testing.M) {
	chromium = findChromium()
	if chromium == "" {
		fmt.Println("browser: skipping the browser tests: no chromium on PATH and CHROMIUM not set (make chromium installs Debian's)")
		os.Exit(m.Run())
	}
	os.Exit(run(m))
}

// findChromium returns $CHROMIUM, else the first Chromium-family browser on PATH (Debian
// names it chromium; other systems chromium-browser or google-chrome).
func findChromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func run(m *testing.M) int {
	// The page's servers come first: their origins are what the API allows, or not.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}), ReadHeaderTimeout: 10 * time.Second}
	defer srv.Close()
	for _, port := range []*string{&pagePort, &otherPort} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "browser:", err)
			return 1
		}
		_, *port, _ = net.SplitHostPort(ln.Addr().String())
		go srv.Serve(ln)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log syncbuf.Buffer
	var err error
	st, err = stack.Start(ctx, stack.Options{
		LogWriter: &log, FunctionLogWriter: &log,
		// As a front-end developer runs it: CORS_ALLOWED_ORIGINS=http://localhost:5173 make run.
		Environ: []string{"CORS_ALLOWED_ORIGINS=http://localhost:" + pagePort + ",http://127.0.0.1:" + pagePort},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser: local stack did not start:", err)
		fmt.Fprint(os.Stderr, log.String())
		return 1
	}
	_, apiPort, _ = net.SplitHostPort(strings.TrimPrefix(st.URL, "http://"))
	code := m.Run()
	if !testkit.Stopped("browser", st.Stop) {
		code = 1
	}
	if code != 0 {
		fmt.Fprint(os.Stderr, log.String())
	}
	return code
}

// newBrowser starts a headless Chromium with a new empty profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if chromium == "" {
		t.Skip("no chromium on PATH (make chromium installs Debian's)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func createUser(t *testing.T, username, password string) {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"email":"%s@example.com","password":%q}`, username, username, password)
	resp, err := http.Post(st.URL+"/user/create", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /user/create: %d", resp.StatusCode)
	}
}

// loginFrom loads the page from origin and runs its login against the API at apiHost.
func loginFrom(t *testing.T, origin, apiHost, username, password string) string {
	t.Helper()
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	call := fmt.Sprintf("loginAndCheck(%q, %q, %q)", "http://"+apiHost+":"+apiPort, username, password)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](call, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return out
}

// A dev server on localhost calling the API on localhost (another port): same site, so
// the SameSite=Lax cookie goes along; localhost is a secure context, so Chromium keeps
// the Secure cookie on http. The cookie stays HttpOnly.
func TestLoginWithCookieFromAnotherLocalOrigin(t *testing.T) {
	wantLoggedIn(t, "http://localhost:"+pagePort, "browser1", "browser-password-1",
		`{"status":200,"body":"{\"statusCode\":\"200\",\"message\":\"Validation\",\"data\":\"true\"}"}`)
}

// A page on 127.0.0.1 calling the API on localhost is allowed by CORS but cross-site: the
// login answers, but the SameSite=Lax cookie does not come along to /user/logged. This is
// why the README says to use localhost for both.
func TestCrossSiteOriginGetsNoCookie(t *testing.T) {
	wantLoggedIn(t, "http://127.0.0.1:"+pagePort, "browser3", "browser-password-3",
		`{"status":404,"body":"{\"statusCode\":\"404\",\"message\":\"No auth info found\",\"data\":\"false\"}"}`)
}

// wantLoggedIn creates the account name and has a page on origin log it in through the
// API on localhost and then ask /user/logged: the login succeeds, /user/logged answers
// logged, and the page never sees the cookie.
func wantLoggedIn(t *testing.T, origin, name, password, logged string) {
	t.Helper()
	createUser(t, name, password)
	out := loginFrom(t, origin, "localhost", name, password)
	want := `{"auth":{"status":200,"body":"{\"statusCode\":\"200\",\"message\":\"Authenticated\",\"data\":\"null\"}"},` +
		`"logged":` + logged + `,"cookieVisible":false}`
	if out != want {
		t.Errorf("page got\n %s\nwant\n %s", out, want)
	}
}

// An origin the API does not allow gets no CORS headers: the browser refuses the answer
// to the page (fetch rejects), although the request reached the API.
func TestDisallowedOriginIsRefusedByTheBrowser(t *testing.T) {
	createUser(t, "browser2", "browser-password-2")
	out := loginFrom(t, "http://localhost:"+otherPort, "localhost", "browser2", "browser-password-2")
	if !strings.Contains(out, `"error":"TypeError: Failed to fetch"`) || strings.Contains(out, `"auth"`) {
		t.Errorf("page from a disallowed origin got %s, want a failed fetch", out)
	}
}

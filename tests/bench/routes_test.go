package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// A scenario measures one route: prepare builds n requests (doing any setup they need
// through other routes first), each returning the response.
type scenario struct {
	method, path string
	want         int
	prepare      func(t testing.TB, n int) []func() e2e.Response
}

// hashingRoutes pay a production argon2id hash per request, or need a fresh account (a
// registration, a hash) per sample: they get hashSamples and report p90.
var hashingRoutes = map[string]bool{
	"POST /users/register": true, "POST /users/login": true, "POST /users/logout": true,
	"POST /users/requestotp": true, "POST /users/modifypassword": true, "POST /user/create": true,
	"POST /user/auth": true, "POST /user/password-reset-token": true, "POST /user/password-reset": true,
	"POST /user/logout": true, "POST /api/user/v1/register": true, "PATCH /api/user/v1/changepassword": true,
	"PATCH /api/user/v1/resetpassword": true, "POST /api/v2/users/{username}": true,
	"PUT /api/v2/users/{username}/update": true, "PATCH /api/v2/users/{username}/update": true,
}

func basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}

func each(n int, f func(i int) func() e2e.Response) []func() e2e.Response {
	out := make([]func() e2e.Response, n)
	for i := range n {
		out[i] = f(i)
	}
	return out
}

// passwordLogin is the scenario of a login route: n logins of one account.
func passwordLogin(path string) func(t testing.TB, n int) []func() e2e.Response {
	return func(t testing.TB, n int) []func() e2e.Response {
		names, pws, _ := users(t, 1)
		body := e2e.JSONBody("username", names[0], "password", pws[0])
		return each(n, func(int) func() e2e.Response {
			return func() e2e.Response { return e2e.PostJSON(t, path, body) }
		})
	}
}

// sessionCheck is the scenario of a session route: n checks of one session, which
// header(token) carries.
func sessionCheck(path string, header func(token string) []string) func(t testing.TB, n int) []func() e2e.Response {
	return func(t testing.TB, n int) []func() e2e.Response {
		names, pws, _ := users(t, 1)
		h := header(e2e.Login(t, names[0], pws[0]))
		return each(n, func(int) func() e2e.Response {
			return func() e2e.Response { return e2e.Get(t, path, h...) }
		})
	}
}

// users registers n accounts with email (concurrently, it is only setup).
func users(t testing.TB, n int) (names, pws, emails []string) {
	names, pws, emails = make([]string, n), make([]string, n), make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			names[i], pws[i], emails[i] = e2e.RegisterUser(t, true)
		})
	}
	wg.Wait()
	return names, pws, emails
}

func sessions(t testing.TB, name, pw string, n int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = e2e.Login(t, name, pw)
	}
	return out
}

var (
	sixDigits = regexp.MustCompile(`\b([0-9]{6})\b`)
	uuidRE    = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b`)
)

// scenarios covers every route of the template, in an order where later routes use what
// earlier ones left (OTPs, reset tokens, v1 accounts, admin-created users).
func scenarios(t testing.TB) []scenario {
	post := func(path, body string, h ...string) e2e.Response { return e2e.PostJSON(t, path, body, h...) }
	do := func(method, path, ct, body string, h ...string) e2e.Response {
		return e2e.Do(t, e2e.Stack.URL, method, path, ct, body, h...)
	}
	// v1Register registers the i-th account of a v1 set, keeping its email, password and
	// user_secret.
	v1Register := func(i int, emails, pws, secrets []string) e2e.Response {
		emails[i], pws[i] = e2e.Unique("v1")+"@example.com", "bench-password-1"
		r := do(http.MethodPost, "/api/user/v1/register", "application/x-www-form-urlencoded",
			url.Values{"name": {"Bench User"}, "email": {emails[i]}, "password": {pws[i]}}.Encode())
		if d, ok := r.JSON(t)["data"].(map[string]any); ok {
			secrets[i], _ = d["user_secret"].(string)
			e2e.Secret(secrets[i])
		}
		return r
	}
	// Shared state between scenarios.
	var otpNames, otpEmails, otpReqIDs []string
	var rstEmails []string
	var v1Emails, v1Passwords, v1Secrets []string // made by the register scenario
	var adminCreated []string
	// created makes sure n accounts are there for the admin routes after create (which
	// takes fewer samples): the rest through the domain, as they are only setup.
	created := func(t testing.TB, n int) {
		for len(adminCreated) < n {
			name := e2e.Unique("ac")
			if _, err := benchService(t).Register(context.Background(), account.NewAccount{Username: name, Password: "bench-password-1"}); err != nil {
				t.Fatal(err)
			}
			adminCreated = append(adminCreated, name)
		}
	}
	admin, adminPW := e2e.Unique("benchadmin"), "bench-admin-password"
	adminAuth := []string{"Authorization", basic(admin, adminPW)}

	return []scenario{
		{"POST", "/users/register", 200, func(t testing.TB, n int) []func() e2e.Response {
			return each(n, func(int) func() e2e.Response {
				return func() e2e.Response {
					return post("/users/register", e2e.JSONBody("username", e2e.Unique("reg"), "password", "bench-password-1"))
				}
			})
		}},
		{"POST", "/users/login", 200, passwordLogin("/users/login")},
		{"GET", "/users/info", 200, sessionCheck("/users/info", func(tok string) []string { return []string{"Authorization", "Bearer " + tok} })},
		{"POST", "/users/logout", 200, func(t testing.TB, n int) []func() e2e.Response {
			names, pws, _ := users(t, 1)
			toks := sessions(t, names[0], pws[0], n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response { return post("/users/logout", "", "Authorization", "Bearer "+toks[i]) }
			})
		}},
		{"POST", "/users/requestotp", 200, func(t testing.TB, n int) []func() e2e.Response {
			otpNames, _, otpEmails = users(t, n)
			otpReqIDs = make([]string, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					r := post("/users/requestotp", e2e.JSONBody("username", otpNames[i]))
					otpReqIDs[i] = r.UsersField(t, "reqid")
					e2e.Secret(otpReqIDs[i])
					return r
				}
			})
		}},
		{"POST", "/users/modifypassword", 200, func(t testing.TB, n int) []func() e2e.Response {
			return each(n, func(i int) func() e2e.Response {
				code := sixDigits.FindStringSubmatch(e2e.LastMailTo(t, otpEmails[i]).Body.Text)[1]
				body := e2e.JSONBody("userhash", account.UserHash(otpNames[i]), "OTP", code, "reqid", otpReqIDs[i], "password", "bench-password-2")
				return func() e2e.Response { return post("/users/modifypassword", body) }
			})
		}},
		{"POST", "/user/create", 200, func(t testing.TB, n int) []func() e2e.Response {
			return each(n, func(int) func() e2e.Response {
				return func() e2e.Response {
					name := e2e.Unique("uc")
					return post("/user/create", e2e.JSONBody("username", name, "email", name+"@example.com", "password", "bench-password-1", "name", "Bench User"))
				}
			})
		}},
		{"POST", "/user/auth", 200, passwordLogin("/user/auth")},
		{"GET", "/user/logged", 200, sessionCheck("/user/logged", func(tok string) []string { return []string{"Cookie", "TOKEN=" + tok} })},
		{"GET", "/user/profile/{username}", 200, func(t testing.TB, n int) []func() e2e.Response {
			names, _, _ := users(t, 1)
			return each(n, func(int) func() e2e.Response {
				return func() e2e.Response { return e2e.Get(t, "/user/profile/"+names[0]) }
			})
		}},
		{"POST", "/user/password-reset-token", 200, func(t testing.TB, n int) []func() e2e.Response {
			_, _, rstEmails = users(t, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response { return post("/user/password-reset-token", e2e.JSONBody("email", rstEmails[i])) }
			})
		}},
		{"POST", "/user/password-reset", 200, func(t testing.TB, n int) []func() e2e.Response {
			return each(n, func(i int) func() e2e.Response {
				tok := uuidRE.FindString(e2e.LastMailTo(t, rstEmails[i]).Body.Text)
				e2e.Secret(tok)
				return func() e2e.Response {
					return post("/user/password-reset", e2e.JSONBody("uuid", tok, "newPassword", "bench-password-3"))
				}
			})
		}},
		{"POST", "/user/logout", 200, func(t testing.TB, n int) []func() e2e.Response {
			names, pws, _ := users(t, 1)
			toks := sessions(t, names[0], pws[0], n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response { return post("/user/logout", "", "Cookie", "TOKEN="+toks[i]) }
			})
		}},
		{"POST", "/api/user/v1/register", 201, func(t testing.TB, n int) []func() e2e.Response {
			v1Emails, v1Passwords, v1Secrets = make([]string, n), make([]string, n), make([]string, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response { return v1Register(i, v1Emails, v1Passwords, v1Secrets) }
			})
		}},
		{"PATCH", "/api/user/v1/changepassword", 200, func(t testing.TB, n int) []func() e2e.Response {
			// Accounts of its own: a new password voids the user_secret resetpassword uses.
			emails, pws := make([]string, n), make([]string, n)
			for i := range n {
				if r := v1Register(i, emails, pws, make([]string, n)); r.Status != 201 {
					t.Fatalf("v1 register: %s", describe(r))
				}
			}
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
						url.Values{"email": {emails[i]}, "oldpassword": {pws[i]}, "newpassword": {"bench-password-2"}}.Encode())
				}
			})
		}},
		{"PATCH", "/api/user/v1/resetpassword", 200, func(t testing.TB, n int) []func() e2e.Response {
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodPatch, "/api/user/v1/resetpassword", "application/x-www-form-urlencoded",
						url.Values{"email": {v1Emails[i]}}.Encode(), "Authorization", "Bearer "+v1Secrets[i])
				}
			})
		}},
		{"GET", "/api/v2/users", 200, func(t testing.TB, n int) []func() e2e.Response {
			ensureAdmin(t, admin, adminPW) // a production hash: what a deployed admin has
			return each(n, func(int) func() e2e.Response {
				return func() e2e.Response { return do(http.MethodGet, "/api/v2/users?limit=50", "", "", adminAuth...) }
			})
		}},
		{"GET", "/api/v2/status", 200, func(t testing.TB, n int) []func() e2e.Response {
			// With a Bearer token, as Nebula's SDK and nebulactl send it: the index read.
			r := do(http.MethodPost, "/api/v2/users/"+admin+"/refresh", "", "", adminAuth...)
			token := r.Str(t, "token")
			if r.Status != 200 || token == "" {
				t.Fatalf("admin token: %d %s", r.Status, r.Body)
			}
			e2e.Secret(token)
			return each(n, func(int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodGet, "/api/v2/status", "", "", "Authorization", "Bearer "+token)
				}
			})
		}},
		{"POST", "/api/v2/users/{username}", 200, func(t testing.TB, n int) []func() e2e.Response {
			adminCreated = make([]string, n)
			return each(n, func(i int) func() e2e.Response {
				adminCreated[i] = e2e.Unique("ac")
				return func() e2e.Response {
					return do(http.MethodPost, "/api/v2/users/"+adminCreated[i], "application/json", `{"password":"bench-password-1"}`, adminAuth...)
				}
			})
		}},
		{"GET", "/api/v2/users/{username}", 200, func(t testing.TB, n int) []func() e2e.Response {
			created(t, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodGet, "/api/v2/users/"+adminCreated[i%namesCycled], "", "", adminAuth...)
				}
			})
		}},
		{"PUT", "/api/v2/users/{username}/update", 200, func(t testing.TB, n int) []func() e2e.Response {
			created(t, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodPut, "/api/v2/users/"+adminCreated[i%namesCycled]+"/update", "application/json", `{"password":"bench-password-2"}`, adminAuth...)
				}
			})
		}},
		{"PATCH", "/api/v2/users/{username}/update", 200, func(t testing.TB, n int) []func() e2e.Response {
			created(t, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodPatch, "/api/v2/users/"+adminCreated[i%namesCycled]+"/update", "application/json", `{"password":"bench-password-3"}`, adminAuth...)
				}
			})
		}},
		{"POST", "/api/v2/users/{username}/refresh", 200, func(t testing.TB, n int) []func() e2e.Response {
			created(t, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					r := do(http.MethodPost, "/api/v2/users/"+adminCreated[i%namesCycled]+"/refresh", "application/json", `{}`, adminAuth...)
					e2e.Secret(r.Str(t, "token"))
					return r
				}
			})
		}},
		{"DELETE", "/api/v2/users/{username}", 200, func(t testing.TB, n int) []func() e2e.Response {
			created(t, n)
			return each(n, func(i int) func() e2e.Response {
				return func() e2e.Response {
					return do(http.MethodDelete, "/api/v2/users/"+adminCreated[i], "", "", adminAuth...)
				}
			})
		}},
	}
}

// namesCycled: the admin get, update and refresh samples cycle over this many accounts,
// so that their median round trips are those of a name the function has seen and their
// max those of its first call naming an account (one key item read more). The delete
// cannot repeat a name; PATCH follows PUT on names the update function has seen.
const namesCycled = 10

// logLine is the measurement a function logs per request (apigw.Handle).
type logLine struct {
	Msg           string  `json:"msg"`
	Route         string  `json:"route"`
	DurationMS    float64 `json:"duration_ms"`
	DynamoCalls   int     `json:"dynamodb_calls"`
	DynamoMS      float64 `json:"dynamodb_ms"`
	RCU           float64 `json:"dynamodb_rcu"`
	WCU           float64 `json:"dynamodb_wcu"`
	KDFMS         float64 `json:"kdf_ms"`
	MailMS        float64 `json:"ses_ms"`
	OwnMS         float64 `json:"own_ms"`
	FunctionLabel string  `json:"-"`
}

// requestLines parses the functions' request lines in logs for one route.
func requestLines(logs, route string) []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "{")
		if i < 0 {
			continue
		}
		var l logLine
		if json.Unmarshal([]byte(line[i:]), &l) == nil && l.Msg == "request" && l.Route == route {
			out = append(out, l)
		}
	}
	return out
}

// throughput sends requests from c workers for d and counts answers; want is the status of
// success. next(worker) builds a worker's request, which returns the status.
func throughput(c int, d time.Duration, want int, next func(worker int) func() int) (requests, errors int64, elapsed time.Duration) {
	var ok, bad atomic.Int64
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range c {
		send := next(w)
		wg.Go(func() {
			for time.Now().Before(stop) {
				if send() == want {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return ok.Load() + bad.Load(), bad.Load(), time.Since(start)
}

func describe(r e2e.Response) string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

var rawClient = &http.Client{Timeout: 30 * time.Second}

// rawDo sends a request and returns only the status; safe from any goroutine.
func rawDo(method, path, contentType, body string, headers ...string) int {
	req, err := http.NewRequest(method, e2e.Stack.URL+path, strings.NewReader(body))
	if err != nil {
		return 0
	}
	for kv := append([]string{"Content-Type", contentType}, headers...); len(kv) >= 2; kv = kv[2:] {
		if kv[1] != "" {
			req.Header.Add(kv[0], kv[1])
		}
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// Package bench holds the benchmarks of the local stack (`make bench`; not part of
// `make test`).
package bench

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

// TestMain starts the local stack only when benchmarks run: `go test ./...` (make test)
// compiles this package but asks for no benchmark.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	e2e.MainWith(m, benchParameters)
}

// benchParameters: a run sends some 1,500 mails (registrations' verification mails, OTPs,
// reset tokens) within the hour, beyond the installation's default mail budget; the
// budget is a limit, not a cost of the routes measured.
var benchParameters = map[string]string{"MailBudgetPerHour": "100000"}

// BenchmarkLoginTiming: on every route that checks a password, an unknown account and a
// wrong password must take the same time (the unknown one pays a dummy verification), so
// the answer's timing does not tell which accounts exist. It measures both through the
// gateway and the real binaries, interleaved, and fails when the medians differ by more
// than 20%.
func BenchmarkLoginTiming(b *testing.B) {
	const samples = 24 // per kind and route
	type acct struct{ name, pw, email string }
	// Each account takes at most 4 wrong passwords, so none gets locked.
	var accounts []acct
	for range 4 * samples / 4 {
		n, pw, email := e2e.RegisterUser(b, true)
		accounts = append(accounts, acct{n, pw, email})
	}
	// Some 200 failed checks come from one address: past the default per-IP limit, which
	// would refuse them unchecked. A limit that is never reached keeps its read measured.
	base := e2e.Gateway(b, map[string]string{"IP_FAILED_CHECKS_PER_HOUR": "1000000"})
	routes := []struct {
		name string
		send func(name, email string) e2e.Response
	}{
		{"POST /users/login", func(name, _ string) e2e.Response {
			return e2e.Do(b, base, http.MethodPost, "/users/login", "application/json", fmt.Sprintf(`{"username":%q,"password":"wrong-password"}`, name))
		}},
		{"POST /user/auth", func(name, _ string) e2e.Response {
			return e2e.Do(b, base, http.MethodPost, "/user/auth", "application/json", fmt.Sprintf(`{"username":%q,"password":"wrong-password"}`, name))
		}},
		{"PATCH /api/user/v1/changepassword", func(_, email string) e2e.Response {
			return e2e.Do(b, base, http.MethodPatch, "/api/user/v1/changepassword", "application/x-www-form-urlencoded",
				url.Values{"email": {email}, "oldpassword": {"wrong-password"}, "newpassword": {"new-password"}}.Encode())
		}},
		{"GET /api/v2/users (Basic)", func(name, _ string) e2e.Response {
			return e2e.Do(b, base, http.MethodGet, "/api/v2/users", "", "",
				"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(name+":wrong-password")))
		}},
	}
	for b.Loop() {
		for ri, r := range routes {
			timed := func(name, email string) time.Duration {
				start := time.Now()
				resp := r.send(name, email)
				d := time.Since(start)
				if resp.Status != 401 && resp.Status != 422 {
					b.Fatalf("%s: %d %s", r.name, resp.Status, resp.Body)
				}
				return d
			}
			timed("warm-up-nobody", "warm-up-nobody@example.com") // cold start excluded
			var unknown, wrong []time.Duration
			for i := range samples {
				a := accounts[(ri*samples+i)%len(accounts)]
				unknown = append(unknown, timed(e2e.Unique("nobody"), e2e.Unique("nobody")+"@example.com"))
				wrong = append(wrong, timed(a.name, a.email))
			}
			mu, mw := medianDur(unknown), medianDur(wrong)
			diff := float64(mu-mw) / float64(max(mu, mw))
			b.Logf("%-36s unknown account %6.1f ms, wrong password %6.1f ms (%+.0f%%)", r.name, ms(mu), ms(mw), 100*diff)
			b.ReportMetric(ms(mu), "ms-unknown-"+fmt.Sprint(ri))
			b.ReportMetric(ms(mw), "ms-wrong-"+fmt.Sprint(ri))
			if diff > 0.2 || diff < -0.2 {
				b.Errorf("%s: medians differ by %.0f%% (unknown %.1f ms, wrong %.1f ms)", r.name, 100*diff, ms(mu), ms(mw))
			}
		}
	}
}

func medianDur(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package bench

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/pkg/password"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// Sample counts. BENCH_QUICK=1 shrinks them for a smoke run of the bench itself; its
// figures say so (Results.Quick).
var (
	coldSamples  = 20 // starts per function
	firstSamples = 10 // first requests per function (a process each)
	warmSamples  = 200
	routeSamples = 1000 // requests per route: enough for a p99
	// hashSamples is for routes that pay a production argon2id hash per request (and often
	// a fresh account and mail each): 1,000 of each would take most of the bench's time,
	// so they report p90, which 300 samples carry, and their p99 is marked as thin.
	hashSamples  = 300
	missSamples  = 200 // admin calls with a credential the function has not seen
	tpDuration   = 10 * time.Second
	quick        = os.Getenv("BENCH_QUICK") != ""
	thinP99Below = 1000
)

func init() {
	if quick {
		coldSamples, firstSamples, warmSamples, routeSamples, hashSamples, missSamples, tpDuration = 5, 3, 50, 60, 30, 20, 2*time.Second
	}
}

// BenchmarkStack measures the whole service on the local stack with the real binaries and
// writes bench/results.json, bench/RESULTS.md and bench/latency.png.
func BenchmarkStack(b *testing.B) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		b.Fatal(err)
	}
	fns := e2e.Stack.Template.Functions
	res := &Results{
		GeneratedAt: time.Now().UTC().Format(time.RFC3339),
		Commit:      commit(root),
		Machine:     machine(),
		Quick:       quick,
	}
	res.Load.Before = loadavg()
	for b.Loop() {
		measureFunctions(b, root, fns, res)
		measureRoutes(b, fns, res)
		measureHash(b, res)
		measureThroughput(b, res)
	}
	res.Load.After = loadavg()
	res.Load.Note = fmt.Sprintf("load average (1, 5, 15 min) of this %d-CPU machine before and after the run; above the CPU count, other work competed with the bench and every latency here is slower than the code", runtime.NumCPU())
	if res.LogBytes, err = measureLogBytes(root, e2e.FunctionLogs()); err != nil {
		b.Fatal(err)
	}
	if err := res.estimateCosts(root); err != nil {
		b.Fatal(err)
	}
	if err := res.write(filepath.Join(root, "bench")); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote bench/results.json, bench/RESULTS.md, bench/latency.png")
}

func measureFunctions(b *testing.B, root string, fns []samtemplate.Function, res *Results) {
	sizes, err := buildLambda(root, fns)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	bins, err := buildNative(root, dir, fns)
	if err != nil {
		b.Fatal(err)
	}
	for _, fn := range fns {
		cold, err := coldStarts(bins[fn.LogicalID], coldSamples)
		if err != nil {
			b.Fatal(err)
		}
		// A function without routes (the session authorizer, called by API Gateway with its
		// own event) is measured for its cold start only.
		var warm, first []time.Duration
		var calls int
		if len(fn.Routes) > 0 {
			if warm, err = warmOverhead(bins[fn.LogicalID], fastEvent(fn), warmSamples); err != nil {
				b.Fatal(err)
			}
			env := []string{"AWS_ENDPOINT_URL_DYNAMODB=" + e2e.Stack.DynamoEndpoint, "TABLE_NAME=" + e2e.Stack.TableName}
			if first, calls, err = firstRequests(bins[fn.LogicalID], env, dynamoEvent(fn), firstSamples); err != nil {
				b.Fatal(err)
			}
		}
		f := Function{
			Name:            fn.LogicalID,
			BootstrapBytes:  sizes[fn.LogicalID],
			MemoryMB:        fn.MemorySize,
			ColdStartMS:     dist(cold),
			FirstRequestMS:  dist(first),
			FirstRequestRTs: calls,
			WarmOverheadMS:  dist(warm),
		}
		res.Functions = append(res.Functions, f)
		b.Logf("%-32s %5.2f MB  cold start p50 %5.2f ms p90 %5.2f ms  first request p50 %6.2f ms (%d round trips)  warm overhead p50 %.3f ms",
			f.Name, float64(f.BootstrapBytes)/(1<<20), f.ColdStartMS.P50, f.ColdStartMS.P90, f.FirstRequestMS.P50, f.FirstRequestRTs, f.WarmOverheadMS.P50)
	}
}

func measureRoutes(b *testing.B, fns []samtemplate.Function, res *Results) {
	memory := map[string]int{}
	owner := map[string]string{}
	for _, fn := range fns {
		for _, r := range fn.Routes {
			memory[r.Method+" "+r.Path] = fn.MemorySize
			owner[r.Method+" "+r.Path] = fn.LogicalID
		}
	}
	for _, sc := range scenarios(b) {
		key := sc.method + " " + sc.path
		samples := routeSamples
		if hashingRoutes[key] {
			samples = hashSamples
		}
		reqs := sc.prepare(b, samples+5)
		// A few requests first, so that the route's instance is warm.
		for _, send := range reqs[:5] {
			if r := send(); r.Status != sc.want {
				b.Fatalf("%s warm-up: %s", key, describe(r))
			}
		}
		lat, lines := timed(b, key, sc.want, reqs[5:])
		rt := Route{Method: sc.method, Path: sc.path, Function: owner[key], MemoryMB: memory[key], Samples: len(lat)}
		d := dist(lat)
		rt.P50MS, rt.P90MS, rt.P99MS, rt.P99Thin = d.P50, d.P90, d.P99, len(lat) < thinP99Below
		rt.HandlerMS = median(lines, func(l logLine) float64 { return l.DurationMS })
		rt.OwnMS = median(lines, func(l logLine) float64 { return l.OwnMS })
		rt.OwnP99MS = percentileOf(lines, 0.99, func(l logLine) float64 { return l.OwnMS })
		rt.OwnP90MS = percentileOf(lines, 0.9, func(l logLine) float64 { return l.OwnMS })
		rt.KDFMS = median(lines, func(l logLine) float64 { return l.KDFMS })
		rt.DynamoMS = median(lines, func(l logLine) float64 { return l.DynamoMS })
		rt.MailMS = median(lines, func(l logLine) float64 { return l.MailMS })
		rt.DynamoRoundTrips = int(median(lines, func(l logLine) float64 { return float64(l.DynamoCalls) }))
		rt.MaxRoundTrips = int(percentileOf(lines, 1, func(l logLine) float64 { return float64(l.DynamoCalls) }))
		rt.ReadUnits = median(lines, func(l logLine) float64 { return l.RCU })
		rt.WriteUnits = median(lines, func(l logLine) float64 { return l.WCU })
		if miss := adminMiss(key); miss != nil {
			measureMiss(b, sc, miss, key, &rt)
		}
		res.Routes = append(res.Routes, rt)
		b.Logf("%-6s %-34s p50 %6.2f ms p99 %6.2f ms | handler %6.2f: own %.3f, hash %6.2f, mail %5.2f, DynamoDB %5.2f ms in %d round trips",
			rt.Method, rt.Path, rt.P50MS, rt.P99MS, rt.HandlerMS, rt.OwnMS, rt.KDFMS, rt.MailMS, rt.DynamoMS, rt.DynamoRoundTrips)
	}
}

// timed sends reqs one after another and returns their latencies and the functions' request
// lines for route key ("key (what)" names a variant in messages).
func timed(b *testing.B, key string, want int, reqs []func() e2e.Response) ([]time.Duration, []logLine) {
	route, _, _ := strings.Cut(key, " (")
	time.Sleep(200 * time.Millisecond) // let earlier log lines arrive
	mark := len(e2e.FunctionLogs())
	var lat []time.Duration
	for _, send := range reqs {
		start := time.Now()
		r := send()
		lat = append(lat, time.Since(start))
		if r.Status != want {
			b.Fatalf("%s: %s", key, describe(r))
		}
	}
	time.Sleep(200 * time.Millisecond)
	lines := requestLines(e2e.FunctionLogs()[mark:], route)
	if len(lines) < len(reqs) {
		b.Fatalf("%s: %d request log lines for %d requests", key, len(lines), len(reqs))
	}
	return lat, lines
}

// measureMiss measures an admin route called by admins the function has never seen: its
// credential cache misses, and the production hash is paid.
func measureMiss(b *testing.B, sc scenario, miss func(testing.TB, int) []func() e2e.Response, key string, rt *Route) {
	lat, lines := timed(b, key+" (cache miss)", sc.want, miss(b, missSamples))
	d := dist(lat)
	calls := func(l logLine) float64 { return float64(l.DynamoCalls) }
	m := &Miss{Samples: len(lat), P50MS: d.P50, P90MS: d.P90,
		HashMS:        median(lines, func(l logLine) float64 { return l.KDFMS }),
		RoundTripsMax: int(percentileOf(lines, 1, calls)),
	}
	rt.CacheMiss = m
	rt.MissRoundTrips = int(median(lines, calls))
	b.Logf("%-6s %-34s cache miss: p50 %6.2f ms p90 %6.2f ms, hash %.1f ms, %d round trips (max %d)", sc.method, sc.path, m.P50MS, m.P90MS, m.HashMS, rt.MissRoundTrips, m.RoundTripsMax)
}

func measureHash(b *testing.B, res *Results) {
	h, err := password.New(password.OWASP)
	if err != nil {
		b.Fatal(err)
	}
	var hashes, verifies []time.Duration
	hash := ""
	for range 20 {
		start := time.Now()
		hash, _ = h.Hash("correct horse battery staple")
		hashes = append(hashes, time.Since(start))
	}
	for range 20 {
		start := time.Now()
		_, _, _ = h.Verify(hash, "correct horse battery staple")
		verifies = append(verifies, time.Since(start))
	}
	root, _ := emulators.FindRepoRoot("")
	portable, err := portableVerify(root)
	if err != nil {
		b.Fatal(err)
	}
	res.PasswordHash = Hash{
		PortableVerifyMS: portable,
		Algorithm:        "argon2id",
		Params:           fmt.Sprintf("m=%d KiB, t=%d, p=%d", password.OWASP.MemoryKiB, password.OWASP.Time, password.OWASP.Threads),
		HashMS:           dist(hashes).P50,
		VerifyMS:         dist(verifies).P50,
	}
	b.Logf("argon2id %s: hash %.1f ms, verify %.1f ms", res.PasswordHash.Params, res.PasswordHash.HashMS, res.PasswordHash.VerifyMS)
}

func measureThroughput(b *testing.B, res *Results) {
	names, pws, _ := users(b, 32)
	tok := e2e.Login(b, names[0], pws[0])
	admin := res.adminName(b)
	cases := []struct {
		method, path string
		want         int
		next         func(w int) func() int
	}{
		{"POST", "/users/login", 200, func(w int) func() int {
			body := e2e.JSONBody("username", names[w], "password", pws[w])
			return func() int { return rawDo(http.MethodPost, "/users/login", "application/json", body) }
		}},
		{"GET", "/user/logged", 200, func(int) func() int {
			return func() int { return rawDo(http.MethodGet, "/user/logged", "", "", "Cookie", "TOKEN="+tok) }
		}},
		{"GET", "/api/v2/users/{username}", 200, func(w int) func() int {
			return func() int {
				return rawDo(http.MethodGet, "/api/v2/users/"+names[w], "", "", "Authorization", basic(admin.name, admin.password))
			}
		}},
	}
	for _, c := range cases {
		for _, conc := range []int{1, 8, 32} {
			time.Sleep(time.Second) // let the previous cell's instances go idle
			n, errs, elapsed := throughput(conc, tpDuration, c.want, c.next)
			t := Throughput{Method: c.method, Path: c.path, Concurrency: conc, Requests: n, Errors: errs,
				Seconds: round(elapsed.Seconds(), 2), PerSecond: round(float64(n)/elapsed.Seconds(), 1)}
			res.Throughput = append(res.Throughput, t)
			b.Logf("%-6s %-28s concurrency %2d: %7.1f req/s, %d errors", t.Method, t.Path, conc, t.PerSecond, t.Errors)
			if errs > 0 {
				b.Errorf("%s %s at concurrency %d: %d errors", c.method, c.path, conc, errs)
			}
		}
	}
}

// ------------------------------------------------------------------------- helpers

func loadavg() [3]float64 {
	var l [3]float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &l[0], &l[1], &l[2])
	}
	return l
}

func commit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); len(st) > 0 {
		c += "+changes"
	}
	return c
}

func machine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func dist(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return round(float64(s[max(0, min(i, len(s)-1))].Microseconds())/1000, 3)
	}
	return Dist{P50: at(0.5), P90: at(0.9), P99: at(0.99), Samples: len(s)}
}

func median(ls []logLine, f func(logLine) float64) float64 { return percentileOf(ls, 0.5, f) }

func percentileOf(ls []logLine, q float64, f func(logLine) float64) float64 {
	v := make([]float64, len(ls))
	for i, l := range ls {
		v[i] = f(l)
	}
	slices.Sort(v)
	i := int(math.Ceil(q*float64(len(v)))) - 1
	return round(v[max(0, min(i, len(v)-1))], 3)
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

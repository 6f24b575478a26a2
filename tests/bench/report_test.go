package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

// Results is bench/results.json.
type Results struct {
	GeneratedAt  string       `json:"generated_at"`
	Quick        bool         `json:"quick_run"`
	Commit       string       `json:"commit"`
	Machine      Machine      `json:"machine"`
	Functions    []Function   `json:"functions"`
	Routes       []Route      `json:"routes"`
	PasswordHash Hash         `json:"password_hash"`
	Throughput   []Throughput `json:"throughput"`
	LogBytes     LogBytes     `json:"log_bytes_per_request"`
	Prices       Prices       `json:"prices"`
	Assumptions  []string     `json:"assumptions"`
	MonthlyCost  []Monthly    `json:"monthly_cost"`
	Load         Load         `json:"machine_load"`

	admin    *benchAdmin
	throttle string
}

// Load is how busy the machine was while the bench ran: the figures of a loaded machine
// are slower than the code.
type Load struct {
	Before [3]float64 `json:"loadavg_before"`
	After  [3]float64 `json:"loadavg_after"`
	Note   string     `json:"note"`
}

type Machine struct {
	OS   string `json:"os"`
	Arch string `json:"arch"`
	CPUs int    `json:"cpus"`
	CPU  string `json:"cpu"`
	Go   string `json:"go"`
}

type Dist struct {
	P50     float64 `json:"p50"`
	P90     float64 `json:"p90"`
	P99     float64 `json:"p99"`
	Samples int     `json:"samples"`
}

type Function struct {
	Name           string `json:"name"`
	BootstrapBytes int64  `json:"bootstrap_bytes"`
	MemoryMB       int    `json:"memory_mb"`
	ColdStartMS    Dist   `json:"cold_start_ms"`
	// FirstRequestMS: process start to the answer of its first request that calls
	// DynamoDB (cold start, init, the client's connection set-up and the call).
	FirstRequestMS  Dist `json:"first_request_ms"`
	FirstRequestRTs int  `json:"first_request_dynamodb_round_trips"`
	WarmOverheadMS  Dist `json:"warm_overhead_ms"`
}

type Route struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Function string `json:"function"`
	MemoryMB int    `json:"memory_mb"`
	Samples  int    `json:"samples"`
	// Through the gateway, end to end. P99Thin: fewer than 1,000 samples, read p90.
	P50MS   float64 `json:"p50_ms"`
	P90MS   float64 `json:"p90_ms"`
	P99MS   float64 `json:"p99_ms"`
	P99Thin bool    `json:"p99_thin"`
	// Inside the handler (medians): all of it, and its parts.
	HandlerMS        float64 `json:"handler_ms"`
	OwnMS            float64 `json:"handler_own_ms"`
	OwnP99MS         float64 `json:"handler_own_p99_ms"`
	OwnP90MS         float64 `json:"handler_own_p90_ms"`
	KDFMS            float64 `json:"password_hash_ms"`
	DynamoMS         float64 `json:"dynamodb_ms"`
	MailMS           float64 `json:"ses_ms"`
	DynamoRoundTrips int     `json:"dynamodb_round_trips"`
	MaxRoundTrips    int     `json:"dynamodb_round_trips_max"`
	// Admin routes: the median round trips, and the rest, with a credential the function
	// has not seen (cache miss: the production hash is paid).
	MissRoundTrips int     `json:"dynamodb_round_trips_cache_miss,omitempty"`
	CacheMiss      *Miss   `json:"cache_miss,omitempty"`
	ReadUnits      float64 `json:"dynamodb_read_units"`
	WriteUnits     float64 `json:"dynamodb_write_units"`
	// Estimates for AWS (see Assumptions).
	LambdaMS          float64            `json:"estimated_lambda_ms"`
	CostPerMillionUSD float64            `json:"cost_per_million_usd"`
	CostBreakdown     map[string]float64 `json:"cost_breakdown_usd"`
}

// Miss is an admin route measured on credential-cache misses.
type Miss struct {
	Samples       int     `json:"samples"`
	P50MS         float64 `json:"p50_ms"`
	P90MS         float64 `json:"p90_ms"`
	HashMS        float64 `json:"password_hash_ms"`
	RoundTripsMax int     `json:"dynamodb_round_trips_max"`
}

// LogBytes is what one request writes to CloudWatch Logs.
type LogBytes struct {
	RequestLine    float64 `json:"request_line"`
	SystemLogLevel string  `json:"system_log_level"`
	PlatformLines  float64 `json:"platform_lines"`
	Total          float64 `json:"total"`
}

// platformLineBytes estimates Lambda's JSON platform records per invocation at system
// log level INFO (platform.start and platform.report); at WARN there are none.
const platformLineBytes = 600

type Hash struct {
	Algorithm        string  `json:"algorithm"`
	Params           string  `json:"params"`
	HashMS           float64 `json:"hash_ms"`
	VerifyMS         float64 `json:"verify_ms"`
	PortableVerifyMS float64 `json:"portable_verify_ms"`
}

type Throughput struct {
	Method      string  `json:"method"`
	Path        string  `json:"path"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"requests_per_second"`
}

func (r *Results) overhead(fn string) float64 {
	for _, f := range r.Functions {
		if f.Name == fn {
			return f.WarmOverheadMS.P50
		}
	}
	return 0
}

// portableVerify measures argon2id verification with Go's portable code (what arm64 runs).
func portableVerify(root string) (float64, error) {
	cmd := exec.Command("go", "test", "-tags", "purego", "-run", "^$", "-bench", "^BenchmarkVerifyOWASP$", "-benchtime", "10x", "./pkg/password")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v\n%s", err, out)
	}
	m := regexp.MustCompile(`BenchmarkVerifyOWASP\S*\s+\d+\s+([0-9.]+) ns/op`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no benchmark result in %s", out)
	}
	ns, _ := strconv.ParseFloat(string(m[1]), 64)
	return round(ns/1e6, 2), nil
}

type benchAdmin struct{ name, password string }

// adminName is an admin for the throughput runs, made through the domain on the table.
func (r *Results) adminName(t testing.TB) *benchAdmin {
	if r.admin != nil {
		return r.admin
	}
	a := &benchAdmin{e2e.Unique("tpadmin"), "throughput-admin-password"}
	ensureAdmin(t, a.name, a.password)
	r.admin = a
	return a
}

// ----------------------------------------------------------------------------- output

func (r *Results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "RESULTS.md"), []byte(r.markdown()), 0o644); err != nil {
		return err
	}
	return r.chart(filepath.Join(dir, "latency.png"))
}

func (r *Results) markdown() string {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("# Benchmark results")
	p("")
	p("Written by `make bench` at %s, commit `%s`, on %s (%d CPUs, %s/%s, %s), against the local stack: the real function binaries over the local Lambda Runtime API, DynamoDB Local and aws-ses-v2-local. Machine-readable: [results.json](results.json). Every figure below says how it was measured; nothing here is typed in by hand except the list prices, the usage profile and the pre-change admin round trips (measured once, see below).", r.GeneratedAt, r.Commit, r.Machine.CPU, r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.Go)
	p("")
	p("Machine load: %s: %.2f %.2f %.2f before, %.2f %.2f %.2f after.", r.Load.Note, r.Load.Before[0], r.Load.Before[1], r.Load.Before[2], r.Load.After[0], r.Load.After[1], r.Load.After[2])
	if r.Quick {
		p("")
		p("**Quick run (BENCH_QUICK=1): sample counts cut to a smoke test of the bench; the percentiles are not meaningful.**")
	}
	p("")
	p("![Latency per route](latency.png)")
	p("")
	p("## Budgets")
	p("")
	p("| budget (DESIGN.md, issue 15) | target | measured | |")
	p("|---|---|---|---|")
	for _, b := range r.budgets() {
		mark := "met"
		if !b.met {
			mark = "**missed**"
		}
		p("| %s | %s | %s | %s |", b.name, b.target, b.measured, mark)
	}
	p("")
	p("## Functions")
	p("")
	p("Bootstrap: the deployable arm64 binary (`make build`). Cold start: process start to its first `/next` request (%d starts per function, native build, no I/O at init). First request: process start to the answer of its first request, against DynamoDB Local: cold start, init, the SDK's connection set-up and the first calls (%d starts per function; the event names an account that does not exist and sends wrong credentials, so it reaches DynamoDB wherever the route can; a dummy password hash it pays is subtracted; round trips as the function logged them, and where they are 0 the event was refused before any DynamoDB call, so that row is a cold start and a handler without I/O). Warm overhead: the runtime loop's share of an invocation (time from handing out an event to receiving the answer, minus the handler's own time; %d invocations).", coldSamples, firstSamples, warmSamples)
	p("")
	p("| function | bootstrap | memory | cold start p50 | cold start p90 | first request p50 | first request p90 | its round trips | warm overhead p50 |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, f := range r.Functions {
		p("| %s | %.2f MB | %d MB | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %d | %.3f ms |", f.Name, float64(f.BootstrapBytes)/(1<<20), f.MemoryMB, f.ColdStartMS.P50, f.ColdStartMS.P90, f.FirstRequestMS.P50, f.FirstRequestMS.P90, f.FirstRequestRTs, f.WarmOverheadMS.P50)
	}
	p("")
	p("## Routes")
	p("")
	p("Latency through the gateway, warm. Samples per route: %d; routes that pay a production argon2id hash (or a fresh account) per request get %d and are judged at p90, as their p99 rests on a few samples (shown in italics). Handler columns are from the functions' own measurements: the handler's time without the password hash, the mail service and DynamoDB (\"own\", median and p99), the hash, the mail, and DynamoDB with its round trips (median and max), counted by an SDK middleware. Units: the consumed capacity DynamoDB Local reports, with transactional writes counted at two units per item as DynamoDB bills them. Admins are made with the production hash (argon2id %s). The stack runs with the template's defaults but one: the installation's mail budget (MailBudgetPerHour) is %s, as a run sends some 1,500 mails within the hour.", routeSamples, hashSamples, r.PasswordHash.Params, benchParameters["MailBudgetPerHour"])
	p("")
	p("| route | samples | p50 | p90 | p99 | own | own p99 | hash | mail | DynamoDB | round trips (max) | RCU | WCU | est. Lambda | $ per 1M |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, rt := range r.Routes {
		p99 := fmt.Sprintf("%.2f ms", rt.P99MS)
		if rt.P99Thin {
			p99 = "_" + p99 + "_"
		}
		p("| `%s %s` | %d | %.2f ms | %.2f ms | %s | %.3f ms | %.3f ms | %.1f ms | %.1f ms | %.2f ms | %d (%d) | %.1f | %.1f | %.0f ms | %.2f |", rt.Method, rt.Path, rt.Samples, rt.P50MS, rt.P90MS, p99, rt.OwnMS, rt.OwnP99MS, rt.KDFMS, rt.MailMS, rt.DynamoMS, rt.DynamoRoundTrips, rt.MaxRoundTrips, rt.ReadUnits, rt.WriteUnits, rt.LambdaMS, rt.CostPerMillionUSD)
	}
	p("")
	r.adminMarkdown(p)
	p("## Password hash")
	p("")
	p("%s at %s: hash %.1f ms, verify %.1f ms here (assembly, median of 20); %.1f ms with Go's portable code, which arm64 runs.", r.PasswordHash.Algorithm, r.PasswordHash.Params, r.PasswordHash.HashMS, r.PasswordHash.VerifyMS, r.PasswordHash.PortableVerifyMS)
	p("")
	p("## Throughput")
	p("")
	p("Each cell: c workers sending back to back for %s through the local gateway (its instances scale with the load, as Lambda's do), all on this machine. This measures the code and the local stack on shared cores, not AWS: deployed, API Gateway throttles first, at %s.", tpDuration, r.throttle)
	p("")
	p("| route | concurrency | requests/s | requests | errors |")
	p("|---|---:|---:|---:|---:|")
	for _, t := range r.Throughput {
		p("| `%s %s` | %d | %.1f | %d | %d |", t.Method, t.Path, t.Concurrency, t.PerSecond, t.Requests, t.Errors)
	}
	p("")
	r.costMarkdown(p)
	_ = w.Flush()
	return sb.String()
}

func (r *Results) chart(path string) error {
	pl := plot.New()
	pl.Title.Text = "Gatehouse: warm latency per route through the local gateway"
	pl.X.Label.Text = "milliseconds"
	labels := make([]string, len(r.Routes))
	p50, p99 := make(plotter.Values, len(r.Routes)), make(plotter.Values, len(r.Routes))
	for i, rt := range r.Routes {
		// Top to bottom in template order.
		j := len(r.Routes) - 1 - i
		labels[j] = rt.Method + " " + rt.Path
		p50[j], p99[j] = rt.P50MS, rt.P99MS
	}
	w := vg.Points(6)
	b50, err := plotter.NewBarChart(p50, w)
	if err != nil {
		return err
	}
	b99, err := plotter.NewBarChart(p99, w)
	if err != nil {
		return err
	}
	b50.Horizontal, b99.Horizontal = true, true
	b50.Color = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	b99.Color = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	b50.LineStyle.Width, b99.LineStyle.Width = 0, 0
	b50.Offset, b99.Offset = -w/2, w/2
	pl.Add(b50, b99, plotter.NewGrid())
	pl.Legend.Add("p50", b50)
	pl.Legend.Add("p99", b99)
	pl.Legend.Top = true
	pl.NominalY(labels...)
	return pl.Save(9*vg.Inch, vg.Length(len(r.Routes))*0.32*vg.Inch+1.2*vg.Inch, path)
}

// measureLogBytes reads the average size of the functions' request lines from logs and the
// system log level from the template.
func measureLogBytes(root, logs string) (LogBytes, error) {
	var n, total float64
	for _, line := range strings.Split(logs, "\n") {
		if i := strings.Index(line, "{"); i >= 0 && strings.Contains(line, `"msg":"request"`) {
			n++
			total += float64(len(line) - i + 1) // the JSON and its newline
		}
	}
	if n == 0 {
		return LogBytes{}, fmt.Errorf("no request lines in the function logs")
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return LogBytes{}, err
	}
	lb := LogBytes{RequestLine: round(total/n, 0), SystemLogLevel: "INFO"}
	if m := regexp.MustCompile(`(?m)^\s+SystemLogLevel:\s*(\w+)`).FindSubmatch(tmpl); m != nil {
		lb.SystemLogLevel = string(m[1])
	}
	if lb.SystemLogLevel == "INFO" || lb.SystemLogLevel == "DEBUG" {
		lb.PlatformLines = platformLineBytes
	}
	lb.Total = lb.RequestLine + lb.PlatformLines
	return lb, nil
}

type budget struct {
	name, target, measured string
	met                    bool
}

func (r *Results) budgets() []budget {
	var maxCold, maxSize float64
	var coldFn, sizeFn string
	for _, f := range r.Functions {
		if f.ColdStartMS.P50 > maxCold {
			maxCold, coldFn = f.ColdStartMS.P50, f.Name
		}
		if s := float64(f.BootstrapBytes) / (1 << 20); s > maxSize {
			maxSize, sizeFn = s, f.Name
		}
	}
	var session, login, register, maxOwn float64
	var ownRoute string
	for _, rt := range r.Routes {
		switch rt.Method + " " + rt.Path {
		case "GET /users/info":
			session = float64(rt.DynamoRoundTrips)
		case "POST /users/login":
			login = float64(rt.DynamoRoundTrips)
		case "POST /users/register":
			register = float64(rt.DynamoRoundTrips)
		}
		own := rt.OwnP99MS
		if rt.P99Thin {
			own = rt.OwnP90MS
		}
		if own > maxOwn {
			maxOwn, ownRoute = own, rt.Method+" "+rt.Path
		}
	}
	out := []budget{
		{"cold start (process start to first /next), every function", "< 30 ms", fmt.Sprintf("p50 at most %.2f ms (%s)", maxCold, coldFn), maxCold < 30},
		{"bootstrap size, every function", "< 10 MB", fmt.Sprintf("at most %.2f MB (%s)", maxSize, sizeFn), maxSize < 10},
		{"session check (GET /users/info)", "1 round trip", fmt.Sprintf("%.0f", session), session == 1},
		{"login (POST /users/login)", "<= 3 round trips", fmt.Sprintf("%.0f", login), login <= 3},
		{"registration (POST /users/register)", "2 round trips", fmt.Sprintf("%.0f", register), register == 2},
		{"handler's own time (no hash, mail, DynamoDB), every route", "< 1 ms at p99 (p90 for hashing routes)", fmt.Sprintf("at most %.3f ms (%s)", maxOwn, ownRoute), maxOwn < 1},
	}
	for _, rt := range r.Routes {
		hit, ok := adminBudget[rt.Method+" "+rt.Path]
		if !ok {
			continue
		}
		name := fmt.Sprintf("admin `%s %s`, remembered credential (median: a name the function has seen; max: its first call naming one)", rt.Method, rt.Path)
		out = append(out, budget{name, fmt.Sprintf("<= %d round trips", hit), fmt.Sprintf("median %d, max %d", rt.DynamoRoundTrips, rt.MaxRoundTrips), rt.DynamoRoundTrips <= hit})
	}
	return out
}

// adminBudget is issue 15's target for the admin routes on a remembered credential.
var adminBudget = map[string]int{
	"GET /api/v2/users": 2, "GET /api/v2/users/{username}": 2, "PUT /api/v2/users/{username}/update": 2,
	"PATCH /api/v2/users/{username}/update": 2, "POST /api/v2/users/{username}/refresh": 2,
	"DELETE /api/v2/users/{username}": 3,
}

// adminBefore are the admin routes' round trips before the acting admin was folded into
// the route's own reads (commit d0538e4), measured by pkg/dynamo's TestAdminRouteRoundTrips
// run against that commit: remembered credential, and miss. The "after" columns are this
// run's measurements.
var adminBefore = map[string][2]int{
	"GET /api/v2/users":                     {3, 5},
	"GET /api/v2/users/{username}":          {4, 6},
	"PUT /api/v2/users/{username}/update":   {5, 7},
	"POST /api/v2/users/{username}/refresh": {6, 8},
	"DELETE /api/v2/users/{username}":       {6, 8},
}

// adminMarkdown is the admin section: round trips before and after, and cache misses.
func (r *Results) adminMarkdown(p func(string, ...any)) {
	p("## Admin routes: round trips, cache hit and miss")
	p("")
	p("The acting admin is read in the route's own BatchGetItem, with the account the route names and the source's failure count, by user ids the warm function remembers; a remembered credential is accepted only against that fresh read (its hashes, credential version and role), so a new password or token, a demotion or a deletion refuses the next call. Remembered: the median and max of the route's warm samples above (the function's credential cache holds the admin; the get, update and refresh samples cycle over %d accounts, so the median is a name the function has seen and the max its first call naming one; every delete names an account for the first time, whose account comes with the Query of its partition; a delete's max is an account with many audit events, such as the 10 the other samples cycled over: beyond 80 items of its partition in the transaction, the rest go 25 to a BatchWriteItem, one round trip each). Miss: %d calls each by an admin the function has never seen, on a target it has never seen (the worst case: the production hash, the counted check's reservation and clearing, and both username keys read first). Before: measured at commit d0538e4 with the same test as pkg/dynamo's TestAdminRouteRoundTrips.", namesCycled, missSamples)
	p("")
	p("| route | before, remembered | after, remembered (max) | before, miss | after, miss (max) | miss p50 | miss p90 | miss hash |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, rt := range r.Routes {
		key := rt.Method + " " + rt.Path
		before, ok := adminBefore[key]
		if !ok || rt.CacheMiss == nil {
			continue
		}
		m := rt.CacheMiss
		p("| `%s` | %d | %d (%d) | %d | %d (%d) | %.2f ms | %.2f ms | %.1f ms |", key, before[0], rt.DynamoRoundTrips, rt.MaxRoundTrips, before[1], rt.MissRoundTrips, m.RoundTripsMax, m.P50MS, m.P90MS, m.HashMS)
	}
	p("")
	p("A miss by an admin whose id the function remembers (its credential expired from the cache, names seen before) costs one read less: get 3, list 4, update 3, refresh 3, delete 4. A password check is counted before it happens (the reservation, a write that also returns the account) and its count is cleared after it; the clearing rides as one more item on the route's own transaction (update, refresh, delete, create), so only routes that write nothing (get, list, status, events) pay it as a write of its own. A Bearer token (what Nebula's SDK and CLI send) is never counted: with its index's user id remembered, get 1, list 2, update 2, refresh 2, delete 3; the first call 1 more. pkg/dynamo's TestAdminRouteRoundTrips and TestAdminCheckClearedWithTheRoute hold every one of these figures as a budget against DynamoDB Local.")
	p("")
}

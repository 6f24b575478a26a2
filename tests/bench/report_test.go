package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
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

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// Results is bench/results.json.
type Results struct {
	GeneratedAt  string       `json:"generated_at"`
	Commit       string       `json:"commit"`
	Machine      Machine      `json:"machine"`
	Functions    []Function   `json:"functions"`
	Routes       []Route      `json:"routes"`
	PasswordHash Hash         `json:"password_hash"`
	Throughput   []Throughput `json:"throughput"`
	LogBytes     LogBytes     `json:"log_bytes_per_request"`
	Prices       Prices       `json:"prices"`
	Assumptions  []string     `json:"assumptions"`
	Monthly      Monthly      `json:"monthly_10k_mau"`

	admin *benchAdmin
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
	WarmOverheadMS Dist   `json:"warm_overhead_ms"`
}

type Route struct {
	Method   string `json:"method"`
	Path     string `json:"path"`
	Function string `json:"function"`
	MemoryMB int    `json:"memory_mb"`
	Samples  int    `json:"samples"`
	// Through the gateway, end to end.
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	// Inside the handler (medians): all of it, and its parts.
	HandlerMS        float64 `json:"handler_ms"`
	OwnMS            float64 `json:"handler_own_ms"`
	OwnP99MS         float64 `json:"handler_own_p99_ms"`
	KDFMS            float64 `json:"password_hash_ms"`
	DynamoMS         float64 `json:"dynamodb_ms"`
	MailMS           float64 `json:"ses_ms"`
	DynamoRoundTrips int     `json:"dynamodb_round_trips"`
	MaxRoundTrips    int     `json:"dynamodb_round_trips_max"`
	ReadUnits        float64 `json:"dynamodb_read_units"`
	WriteUnits       float64 `json:"dynamodb_write_units"`
	// Estimates for AWS (see Assumptions).
	LambdaMS          float64            `json:"estimated_lambda_ms"`
	CostPerMillionUSD float64            `json:"cost_per_million_usd"`
	CostBreakdown     map[string]float64 `json:"cost_breakdown_usd"`
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

// Prices are the list prices the estimates assume (us-east-1, arm64, on-demand).
type Prices struct {
	Source              string  `json:"source"`
	LambdaGBSecond      float64 `json:"lambda_arm64_per_gb_second"`
	LambdaRequest       float64 `json:"lambda_per_million_requests"`
	HTTPAPIRequest      float64 `json:"http_api_per_million_requests"`
	DynamoReadUnit      float64 `json:"dynamodb_per_million_read_units"`
	DynamoWriteUnit     float64 `json:"dynamodb_per_million_write_units"`
	LogsIngestGB        float64 `json:"cloudwatch_logs_per_gb"`
	SESPerThousand      float64 `json:"ses_per_1000_mails"`
	XRayPerMillion      float64 `json:"xray_per_million_traces"`
	XRaySampled         float64 `json:"xray_sampled_share"`
	CognitoLitePerMAU   float64 `json:"cognito_lite_per_mau"`
	CognitoEssentialMAU float64 `json:"cognito_essentials_per_mau"`
}

var prices = Prices{
	Source:              "AWS public list prices for us-east-1 as of 2025 (Lambda arm64, HTTP API, DynamoDB on-demand after the November 2024 reduction, CloudWatch Logs, SES, X-Ray, Cognito user pools' tiers of November 2024); not checked against the live price list by this benchmark",
	LambdaGBSecond:      0.0000133334,
	LambdaRequest:       0.20,
	HTTPAPIRequest:      1.00,
	DynamoReadUnit:      0.125,
	DynamoWriteUnit:     0.625,
	LogsIngestGB:        0.50,
	SESPerThousand:      0.10,
	XRayPerMillion:      5.00,
	XRaySampled:         0.05,
	CognitoLitePerMAU:   0.0055,
	CognitoEssentialMAU: 0.015,
}

// Monthly is the cost of a usage profile for 10,000 monthly active users.
type Monthly struct {
	Profile        map[string]float64 `json:"requests_per_user_per_month"`
	GatehouseUSD   float64            `json:"gatehouse_usd"`
	CognitoLiteUSD float64            `json:"cognito_lite_usd"`
	CognitoEssUSD  float64            `json:"cognito_essentials_usd"`
	Note           string             `json:"note"`
}

// profile: what an active user does in a month, per route.
var profile = map[string]float64{
	"POST /users/login":                 6,
	"POST /user/auth":                   4,
	"GET /users/info":                   150,
	"GET /user/logged":                  150,
	"GET /user/profile/{username}":      20,
	"POST /users/logout":                3,
	"POST /user/logout":                 2,
	"POST /users/register":              0.03,
	"POST /user/create":                 0.02,
	"POST /user/password-reset-token":   0.1,
	"POST /user/password-reset":         0.1,
	"POST /users/requestotp":            0.05,
	"POST /users/modifypassword":        0.05,
	"PATCH /api/user/v1/changepassword": 0.05,
}

const mau = 10_000

// estimateCosts turns the measurements into AWS costs per million requests.
func (r *Results) estimateCosts() {
	r.Prices = prices
	portable := r.PasswordHash.PortableVerifyMS / math.Max(r.PasswordHash.VerifyMS, 0.001)
	logBytes := r.LogBytes.Total
	r.Assumptions = []string{
		"Lambda duration = the handler's own time + DynamoDB time as measured here + the password hash scaled to Lambda: the hash measured here, times the portable/assembly ratio (arm64 runs Go's portable argon2), times 1769 MB / memory (Lambda's CPU share; one lane uses at most one vCPU); rounded up to whole milliseconds, plus the runtime loop's overhead.",
		fmt.Sprintf("Portable/assembly argon2id ratio measured here: %.2f.", portable),
		"DynamoDB units are what DynamoDB Local reports as consumed capacity (items are far below 1 KB / 4 KB); its per-call latency is higher than DynamoDB's in-region 3-5 ms.",
		fmt.Sprintf("Logs: %.0f bytes per request ingested into CloudWatch Logs: the function's request line as measured (%.0f bytes on average) plus, at system log level %s, Lambda's platform lines (estimated at %d bytes at INFO, none at WARN).", logBytes, r.LogBytes.RequestLine, r.LogBytes.SystemLogLevel, platformLineBytes),
		fmt.Sprintf("X-Ray: the default sampling rule (1 request a second, then %.0f%%) approximated as %.0f%% of requests.", 5.0, prices.XRaySampled*100),
		"Mail routes add one SES mail per request.",
		"No free tiers are subtracted.",
	}
	cost := map[string]float64{}
	for i := range r.Routes {
		rt := &r.Routes[i]
		mem := float64(rt.MemoryMB)
		share := math.Max(1, 1769/mem)
		lambdaMS := rt.OwnMS + rt.DynamoMS + rt.MailMS + rt.KDFMS*portable*share + r.overhead(rt.Function)
		rt.LambdaMS = round(lambdaMS, 1)
		billed := math.Ceil(lambdaMS)
		b := map[string]float64{
			"lambda_compute":  billed / 1000 * mem / 1024 * prices.LambdaGBSecond * 1e6,
			"lambda_requests": prices.LambdaRequest,
			"http_api":        prices.HTTPAPIRequest,
			"dynamodb":        rt.ReadUnits*prices.DynamoReadUnit + rt.WriteUnits*prices.DynamoWriteUnit,
			"logs":            logBytes * 1e6 / 1e9 * prices.LogsIngestGB,
			"xray":            prices.XRayPerMillion * prices.XRaySampled,
		}
		if rt.Path == "/users/requestotp" || rt.Path == "/user/password-reset-token" {
			b["ses"] = prices.SESPerThousand * 1000
		}
		total := 0.0
		for k, v := range b {
			b[k] = round(v, 4)
			total += v
		}
		rt.CostBreakdown, rt.CostPerMillionUSD = b, round(total, 2)
		cost[rt.Method+" "+rt.Path] = total
	}
	m := Monthly{Profile: profile,
		CognitoLiteUSD: mau * prices.CognitoLitePerMAU, CognitoEssUSD: mau * prices.CognitoEssentialMAU,
		Note: "No free tiers are subtracted on either side; Cognito's first 10,000 MAUs are free on its Lite and Essentials tiers, so at exactly this size Cognito would cost nothing, and each further 10,000 would cost as shown."}
	for route, n := range profile {
		m.GatehouseUSD += n * mau * cost[route] / 1e6
	}
	m.GatehouseUSD = round(m.GatehouseUSD, 2)
	r.Monthly = m
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
	store := dynamo.New(emulators.DynamoDBClient(e2e.Stack.DynamoEndpoint), e2e.Stack.TableName)
	svc := account.NewService(store, accounttest.NewHasher(), nil, account.Config{}, nil)
	if _, _, err := svc.EnsureAdmin(context.Background(), a.name, a.password); err != nil {
		t.Fatal(err)
	}
	e2e.Secret(a.password)
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
	p("Written by `make bench` at %s, commit `%s`, on %s (%d CPUs, %s/%s, %s), against the local stack: the real function binaries over the local Lambda Runtime API, DynamoDB Local and aws-ses-v2-local. Machine-readable: [results.json](results.json).", r.GeneratedAt, r.Commit, r.Machine.CPU, r.Machine.CPUs, r.Machine.OS, r.Machine.Arch, r.Machine.Go)
	p("")
	p("![Latency per route](latency.png)")
	p("")
	p("## Budgets")
	p("")
	p("| budget (DESIGN.md) | target | measured | |")
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
	p("Bootstrap: the deployable arm64 binary (`make build`). Cold start: process start to its first `/next` request (%d starts, native build). Warm overhead: the runtime loop's share of an invocation (time from handing out an event to receiving the answer, minus the handler's own time; %d invocations).", coldSamples, warmSamples)
	p("")
	p("| function | bootstrap | memory | cold start p50 | cold start p90 | warm overhead p50 |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, f := range r.Functions {
		p("| %s | %.2f MB | %d MB | %.2f ms | %.2f ms | %.3f ms |", f.Name, float64(f.BootstrapBytes)/(1<<20), f.MemoryMB, f.ColdStartMS.P50, f.ColdStartMS.P90, f.WarmOverheadMS.P50)
	}
	p("")
	p("## Routes")
	p("")
	p("Latency through the gateway (%d warm requests each). Handler columns are medians from the functions' own measurements: the handler's time without the password hash, the mail service and DynamoDB (\"own\"), the hash, the mail, and DynamoDB with its round trips, counted by an SDK middleware. Units: the consumed capacity DynamoDB Local reports, with transactional writes counted at two units per item as DynamoDB bills them.", routeSamples)
	p("")
	p("| route | p50 | p99 | own | own p99 | hash | mail | DynamoDB | round trips | RCU | WCU | est. Lambda | $ per 1M |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, rt := range r.Routes {
		p("| `%s %s` | %.2f ms | %.2f ms | %.3f ms | %.3f ms | %.1f ms | %.1f ms | %.2f ms | %d | %.1f | %.1f | %.0f ms | %.2f |", rt.Method, rt.Path, rt.P50MS, rt.P99MS, rt.OwnMS, rt.OwnP99MS, rt.KDFMS, rt.MailMS, rt.DynamoMS, rt.DynamoRoundTrips, rt.ReadUnits, rt.WriteUnits, rt.LambdaMS, rt.CostPerMillionUSD)
	}
	p("")
	p("## Password hash")
	p("")
	p("%s at %s: hash %.1f ms, verify %.1f ms here (assembly); %.1f ms with Go's portable code, which arm64 runs.", r.PasswordHash.Algorithm, r.PasswordHash.Params, r.PasswordHash.HashMS, r.PasswordHash.VerifyMS, r.PasswordHash.PortableVerifyMS)
	p("")
	p("## Throughput")
	p("")
	p("| route | concurrency | requests/s | requests | errors |")
	p("|---|---:|---:|---:|---:|")
	for _, t := range r.Throughput {
		p("| `%s %s` | %d | %.1f | %d | %d |", t.Method, t.Path, t.Concurrency, t.PerSecond, t.Requests, t.Errors)
	}
	p("")
	p("## Cost")
	p("")
	p("Per million requests of each route: see the table above (breakdown in results.json). For 10,000 monthly active users with the profile below: **$%.2f a month** on AWS, against $%.2f on Amazon Cognito Lite ($%.4f/MAU) or $%.2f on Cognito Essentials ($%.3f/MAU). %s", r.Monthly.GatehouseUSD, r.Monthly.CognitoLiteUSD, prices.CognitoLitePerMAU, r.Monthly.CognitoEssUSD, prices.CognitoEssentialMAU, r.Monthly.Note)
	p("")
	p("| route | requests per user per month |")
	p("|---|---:|")
	for _, rt := range r.Routes {
		if n, ok := profile[rt.Method+" "+rt.Path]; ok {
			p("| `%s %s` | %g |", rt.Method, rt.Path, n)
		}
	}
	p("")
	p("Prices assumed: %s.", prices.Source)
	p("")
	p("| item | price |")
	p("|---|---:|")
	p("| Lambda arm64 | $%.10f per GB-second, $%.2f per million requests |", prices.LambdaGBSecond, prices.LambdaRequest)
	p("| API Gateway HTTP API | $%.2f per million requests |", prices.HTTPAPIRequest)
	p("| DynamoDB on-demand | $%.3f per million read units, $%.3f per million write units |", prices.DynamoReadUnit, prices.DynamoWriteUnit)
	p("| CloudWatch Logs | $%.2f per GB ingested |", prices.LogsIngestGB)
	p("| SES | $%.2f per 1,000 mails |", prices.SESPerThousand)
	p("| X-Ray | $%.2f per million traces |", prices.XRayPerMillion)
	p("| Cognito user pools | Lite $%.4f, Essentials $%.3f per MAU |", prices.CognitoLitePerMAU, prices.CognitoEssentialMAU)
	p("")
	p("Assumptions:")
	p("")
	for _, a := range r.Assumptions {
		p("- %s", a)
	}
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
		if rt.OwnMS > maxOwn {
			maxOwn, ownRoute = rt.OwnMS, rt.Method+" "+rt.Path
		}
	}
	return []budget{
		{"cold start (process start to first /next), every function", "< 30 ms", fmt.Sprintf("p50 at most %.2f ms (%s)", maxCold, coldFn), maxCold < 30},
		{"bootstrap size, every function", "< 10 MB", fmt.Sprintf("at most %.2f MB (%s)", maxSize, sizeFn), maxSize < 10},
		{"session check (GET /users/info)", "1 round trip", fmt.Sprintf("%.0f", session), session == 1},
		{"login (POST /users/login)", "<= 3 round trips", fmt.Sprintf("%.0f", login), login <= 3},
		{"registration (POST /users/register)", "2 round trips", fmt.Sprintf("%.0f", register), register == 2},
		{"handler's own time (no hash, mail, DynamoDB), every route", "< 1 ms", fmt.Sprintf("p50 at most %.3f ms (%s)", maxOwn, ownRoute), maxOwn < 1},
	}
}

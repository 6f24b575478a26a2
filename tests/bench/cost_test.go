package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The cost model: every line item that bills, at several sizes, against Amazon Cognito.

// Prices are the list prices the model assumes: us-east-1, arm64, on-demand, standard
// classes. Each names its source page; PricesAsOf says when they were taken from there.
type Prices struct {
	AsOf                 string            `json:"as_of"`
	Sources              map[string]string `json:"sources"`
	LambdaGBSecond       float64           `json:"lambda_arm64_per_gb_second"`
	LambdaRequest        float64           `json:"lambda_per_million_requests"`
	HTTPAPIRequest       float64           `json:"http_api_per_million_requests"`
	DynamoReadUnit       float64           `json:"dynamodb_per_million_read_units"`
	DynamoWriteUnit      float64           `json:"dynamodb_per_million_write_units"`
	DynamoStorageGB      float64           `json:"dynamodb_storage_per_gb_month"`
	DynamoPITRGB         float64           `json:"dynamodb_pitr_per_gb_month"`
	LogsIngestGB         float64           `json:"cloudwatch_logs_ingest_per_gb"`
	LogsStoreGB          float64           `json:"cloudwatch_logs_storage_per_gb_month"`
	AlarmMetric          float64           `json:"cloudwatch_alarm_per_metric_month"`
	SESPerThousand       float64           `json:"ses_per_1000_mails"`
	XRayPerMillion       float64           `json:"xray_per_million_traces_recorded"`
	SecretMonth          float64           `json:"secrets_manager_per_secret_month"`
	SecretPer10k         float64           `json:"secrets_manager_per_10000_calls"`
	TransferOutGB        float64           `json:"data_transfer_out_per_gb"`
	TransferFreeGB       float64           `json:"data_transfer_out_free_gb_month"`
	CognitoFreeMAU       float64           `json:"cognito_free_mau"`
	CognitoLiteTiers     []Tier            `json:"cognito_lite_tiers"`
	CognitoEssentialsMAU float64           `json:"cognito_essentials_per_mau"`
	FreeTiers            map[string]string `json:"free_tiers"`
}

// Tier is a per-MAU price that applies up to UpToMAU (0: no upper end).
type Tier struct {
	UpToMAU float64 `json:"up_to_mau"`
	PerMAU  float64 `json:"per_mau"`
}

var prices = Prices{
	AsOf: "2026-12-01 (list prices as recorded in tests/bench/cost_test.go from the pages below; the bench does not fetch them. Cross-checked that day against public copies of the pricing pages: Lambda arm64 $0.0000133334 per GB-second and $0.20 per million requests, DynamoDB on-demand $0.125 / $0.625 per million read / write units after the November 2024 cut, Cognito's 10,000 free MAU on Lite and Essentials; check the pages before relying on a figure)",
	Sources: map[string]string{
		"lambda":          "https://aws.amazon.com/lambda/pricing/ (arm64; since 2025-08-01 the INIT phase is billed for every runtime, as it always was for provided.al2023)",
		"api_gateway":     "https://aws.amazon.com/api-gateway/pricing/ (HTTP API, first 300 million requests a month)",
		"dynamodb":        "https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand after the 2024-11-01 reduction; standard table class; PITR continuous backups)",
		"cloudwatch":      "https://aws.amazon.com/cloudwatch/pricing/ (Logs standard class ingestion and storage; standard-resolution alarms per metric)",
		"ses":             "https://aws.amazon.com/ses/pricing/ (outbound mail)",
		"xray":            "https://aws.amazon.com/xray/pricing/ (traces recorded)",
		"secrets_manager": "https://aws.amazon.com/secrets-manager/pricing/",
		"data_transfer":   "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer (to the internet, first 10 TB; 100 GB a month free across services)",
		"cognito":         "https://aws.amazon.com/cognito/pricing/ (user pools, tiers of 2024-11-22: Lite and Essentials, 10,000 MAU free on both)",
	},
	LambdaGBSecond:       0.0000133334,
	LambdaRequest:        0.20,
	HTTPAPIRequest:       1.00,
	DynamoReadUnit:       0.125,
	DynamoWriteUnit:      0.625,
	DynamoStorageGB:      0.25,
	DynamoPITRGB:         0.20,
	LogsIngestGB:         0.50,
	LogsStoreGB:          0.03,
	AlarmMetric:          0.10,
	SESPerThousand:       0.10,
	XRayPerMillion:       5.00,
	SecretMonth:          0.40,
	SecretPer10k:         0.05,
	TransferOutGB:        0.09,
	TransferFreeGB:       100,
	CognitoFreeMAU:       10_000,
	CognitoLiteTiers:     []Tier{{100_000, 0.0055}, {1_000_000, 0.0046}, {10_000_000, 0.00325}, {0, 0.0025}},
	CognitoEssentialsMAU: 0.015,
	FreeTiers: map[string]string{
		"lambda":      "1 million requests and 400,000 GB-seconds a month, always free (per account, shared with every other function)",
		"dynamodb":    "25 GB of storage a month, always free",
		"cloudwatch":  "5 GB of log ingestion and storage, 10 alarm metrics, always free (per account)",
		"xray":        "100,000 traces recorded a month, always free",
		"transfer":    "100 GB out to the internet a month, always free (subtracted in the data-transfer line, as it is per account and rarely used up by anything else here)",
		"api_gateway": "1 million HTTP API calls a month for the first 12 months only",
		"ses":         "3,000 message charges a month for the first 12 months only",
		"cognito":     "10,000 MAU a month on Lite and Essentials (subtracted in the Cognito columns: it is what Cognito charges)",
	},
}

// MAU levels of the model.
var mauLevels = []float64{10_000, 100_000, 1_000_000}

// profile: what an active user does in a month, per route. Source: an assumption, not a
// measurement. A web application where a user signs in about twice a week (10 logins
// across the two login routes), has a session checked on each of ~300 page views (the two
// session routes), looks at 20 profiles, and rarely registers, resets or changes a
// password; the manager (Nebula) looks a user up or lists users a few times per 100 users.
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
	"GET /api/v2/users/{username}":      0.05,
	"GET /api/v2/users":                 0.01,
}

// Usage assumptions beyond the profile (each stated in the output).
const (
	registeredPerMAU   = 3.0  // accounts kept per monthly active user
	bytesPerAccount    = 1500 // account item, username and email keys, a live session
	responseBytes      = 600  // answer with headers, to the internet
	accessLogBytes     = 420  // one access-log record of the template's format, filled in
	logCompression     = 0.15 // CloudWatch bills stored logs compressed
	instanceLifeMin    = 10   // minutes an idle-ish instance lives before it is replaced
	secondsPerMonth    = 30 * 24 * 3600
	tracingSampledRate = 0.05 // Lambda's fixed rule: first request each second, 5% of the rest
	tracingReservoir   = 1.0
)

// Monthly is the model at one MAU level: every line item, and Cognito's tiers.
type Monthly struct {
	MAU                float64            `json:"mau"`
	Requests           float64            `json:"requests"`
	LineItemsUSD       map[string]float64 `json:"line_items_usd"`
	GatehouseUSD       float64            `json:"gatehouse_usd"`
	TracingActiveUSD   float64            `json:"xray_if_tracing_active_usd"`
	CognitoLiteUSD     float64            `json:"cognito_lite_usd"`
	CognitoEssUSD      float64            `json:"cognito_essentials_usd"`
	ColdStartsPerMonth float64            `json:"cold_starts"`
	Notes              []string           `json:"notes"`
}

// templateFacts are what the cost depends on in template.yaml.
type templateFacts struct {
	alarmMetrics   int
	alarms         int
	retentionDays  float64
	tracingDefault string
	pitr           bool
	rateLimit      string
	burstLimit     string
}

func readTemplateFacts(root string) (templateFacts, error) {
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return templateFacts{}, err
	}
	t := string(b)
	f := templateFacts{retentionDays: 30, tracingDefault: "PassThrough", pitr: strings.Contains(t, "PointInTimeRecoveryEnabled: true")}
	// Each alarm bills per metric it reads: one, or each MetricStat of a metric-math alarm.
	parts := strings.Split(t, "Type: AWS::CloudWatch::Alarm")
	for _, p := range parts[1:] {
		end := regexp.MustCompile(`(?m)^  \S`).FindStringIndex(p)
		body := p
		if end != nil {
			body = p[:end[0]]
		}
		f.alarms++
		f.alarmMetrics += max(1, strings.Count(body, "MetricStat:"))
	}
	param := func(name string) string {
		m := regexp.MustCompile(`(?ms)^  ` + name + `:\n.*?^    Default: "?([^"\n]*)"?$`).FindStringSubmatch(t)
		if m == nil {
			return ""
		}
		return m[1]
	}
	if v := param("LogRetentionDays"); v != "" {
		fmt.Sscan(v, &f.retentionDays)
	}
	if v := param("Tracing"); v != "" {
		f.tracingDefault = v
	}
	f.rateLimit, f.burstLimit = param("ThrottlingRateLimit"), param("ThrottlingBurstLimit")
	return f, nil
}

// xrayTraces is how many requests Lambda's fixed sampling rule records in a month at
// this request count, spread evenly: the first each second, then 5% of the rest.
func xrayTraces(requests float64) float64 {
	perSecond := requests / secondsPerMonth
	sampled := math.Min(perSecond, tracingReservoir) + tracingSampledRate*math.Max(0, perSecond-tracingReservoir)
	return sampled * secondsPerMonth
}

func cognitoLite(mau float64) float64 {
	total, low := 0.0, prices.CognitoFreeMAU
	for _, t := range prices.CognitoLiteTiers {
		hi := t.UpToMAU
		if hi == 0 {
			hi = math.Inf(1)
		}
		n := math.Max(0, math.Min(mau, hi)-low)
		total += n * t.PerMAU
		low = hi
		if low >= mau {
			break
		}
	}
	return total
}

// estimateCosts turns the measurements into costs: per million requests of each route,
// and the month at each MAU level with every line item.
func (r *Results) estimateCosts(root string) error {
	tf, err := readTemplateFacts(root)
	if err != nil {
		return err
	}
	r.Prices = prices
	portable := r.PasswordHash.PortableVerifyMS / math.Max(r.PasswordHash.VerifyMS, 0.001)
	logBytes := r.LogBytes.Total
	r.Assumptions = []string{
		"Lambda duration = the handler's own time + DynamoDB time as measured here + the password hash scaled to Lambda: the hash measured here, times the portable/assembly ratio (arm64 runs Go's portable argon2), times 1769 MB / memory (Lambda's CPU share; one lane uses at most one vCPU); rounded up to whole milliseconds, plus the runtime loop's overhead. DynamoDB Local is slower per call than DynamoDB in-region (3-5 ms), so the DynamoDB share errs high.",
		fmt.Sprintf("Portable/assembly argon2id ratio measured here: %.2f.", portable),
		"DynamoDB units are what DynamoDB Local reports as consumed capacity, transactional writes at two units per item as DynamoDB bills them.",
		fmt.Sprintf("Function logs: %.0f bytes per request ingested: the request line as measured (%.0f bytes on average) plus, at the template's system log level %s, Lambda's platform lines (%d bytes at INFO, none at WARN). API access log: %d bytes per request (the template's format with typical values). Stored %.0f days (the template's LogRetentionDays default), billed compressed at %.0f%% of the ingested size.", logBytes, r.LogBytes.RequestLine, r.LogBytes.SystemLogLevel, platformLineBytes, accessLogBytes, tf.retentionDays, logCompression*100),
		fmt.Sprintf("Alarms: %d in template.yaml, reading %d metrics, at $%.2f per metric a month.", tf.alarms, tf.alarmMetrics, prices.AlarmMetric),
		fmt.Sprintf("X-Ray: the template's Tracing default is %s. PassThrough records nothing (the HTTP API sends no sampled header); Active records with Lambda's fixed rule, per function (the first request each second, then %.0f%%), each function's requests spread evenly over the month; shown as its own line, in the total only when Active is the default.", tf.tracingDefault, tracingSampledRate*100),
		fmt.Sprintf("Cold starts: each function used at all is replaced about every %d minutes, at most once per invocation; each bills its INIT duration (the cold start measured here, first request included) at the function's memory, and each admin cold start reads the token-index key from Secrets Manager (one call).", instanceLifeMin),
		fmt.Sprintf("Storage: %.0f accounts per MAU at %d bytes each, in the table and in its PITR backups (PITR enabled: %v).", registeredPerMAU, bytesPerAccount, tf.pitr),
		fmt.Sprintf("Data transfer: %d bytes per answer to the internet, after the 100 GB a month free.", responseBytes),
		"Mail routes add one SES mail per request. Free tiers other than data transfer's are not subtracted on Gatehouse's side (they are per account and shared); Cognito's 10,000 free MAU are, as Cognito bills that way. Cognito would also need SES for its mails beyond its built-in 50 a day: not added to its columns.",
	}
	cost := map[string]map[string]float64{}
	fnOf := map[string]string{}
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
			"logs_ingestion":  (logBytes + accessLogBytes) * 1e6 / 1e9 * prices.LogsIngestGB,
		}
		if rt.Path == "/users/requestotp" || rt.Path == "/user/password-reset-token" {
			b["ses"] = prices.SESPerThousand * 1000
		}
		total := 0.0
		for k, v := range b {
			total += v
			b[k] = round(v, 4)
		}
		rt.CostBreakdown, rt.CostPerMillionUSD = b, round(total, 2)
		cost[rt.Method+" "+rt.Path] = b
		fnOf[rt.Method+" "+rt.Path] = rt.Function
	}
	r.MonthlyCost = nil
	for _, mau := range mauLevels {
		m := Monthly{MAU: mau, LineItemsUSD: map[string]float64{}}
		perFn := map[string]float64{}
		for route, n := range profile {
			req := n * mau
			m.Requests += req
			perFn[fnOf[route]] += req
			for k, v := range cost[route] {
				m.LineItemsUSD[k] += v * req / 1e6
			}
		}
		// Cold starts and their INIT billing, per function.
		for fn, inv := range perFn {
			f := r.function(fn)
			if f == nil {
				continue
			}
			cold := math.Min(inv, secondsPerMonth/60/instanceLifeMin)
			m.ColdStartsPerMonth += cold
			initMS := math.Ceil(math.Max(f.FirstRequestMS.P50, f.ColdStartMS.P50))
			m.LineItemsUSD["lambda_init"] += cold * initMS / 1000 * float64(f.MemoryMB) / 1024 * prices.LambdaGBSecond
			if strings.HasPrefix(fn, "Admin") {
				m.LineItemsUSD["secrets_manager_calls"] += cold / 10_000 * prices.SecretPer10k
			}
		}
		m.LineItemsUSD["secrets_manager_secret"] = prices.SecretMonth
		ingestedGB := m.Requests * (logBytes + accessLogBytes) / 1e9
		m.LineItemsUSD["logs_storage"] = ingestedGB * logCompression * tf.retentionDays / 30 * prices.LogsStoreGB
		m.LineItemsUSD["alarms"] = float64(tf.alarmMetrics) * prices.AlarmMetric
		storeGB := mau * registeredPerMAU * bytesPerAccount / 1e9
		m.LineItemsUSD["dynamodb_storage"] = storeGB * prices.DynamoStorageGB
		if tf.pitr {
			m.LineItemsUSD["dynamodb_pitr"] = storeGB * prices.DynamoPITRGB
		}
		m.LineItemsUSD["data_transfer"] = math.Max(0, m.Requests*responseBytes/1e9-prices.TransferFreeGB) * prices.TransferOutGB
		traces := 0.0 // Lambda's fixed rule samples per function
		for _, inv := range perFn {
			traces += xrayTraces(inv)
		}
		m.TracingActiveUSD = round(traces/1e6*prices.XRayPerMillion, 2)
		xray := 0.0
		if tf.tracingDefault == "Active" {
			xray = m.TracingActiveUSD
		}
		m.LineItemsUSD["xray"] = xray
		for k, v := range m.LineItemsUSD {
			m.GatehouseUSD += v
			m.LineItemsUSD[k] = round(v, 2)
		}
		m.GatehouseUSD = round(m.GatehouseUSD, 2)
		m.CognitoLiteUSD = round(cognitoLite(mau), 2)
		m.CognitoEssUSD = round(math.Max(0, mau-prices.CognitoFreeMAU)*prices.CognitoEssentialsMAU, 2)
		m.Requests = math.Round(m.Requests)
		m.ColdStartsPerMonth = math.Round(m.ColdStartsPerMonth)
		m.Notes = []string{fmt.Sprintf("X-Ray with Tracing=Active: %.0f traces, $%.2f (included in the total only when the template's default is Active).", traces, m.TracingActiveUSD)}
		r.MonthlyCost = append(r.MonthlyCost, m)
	}
	r.throttle = fmt.Sprintf("%s requests/s steady, %s burst per route (template.yaml ThrottlingRateLimit/ThrottlingBurstLimit defaults)", tf.rateLimit, tf.burstLimit)
	return nil
}

func (r *Results) function(name string) *Function {
	for i := range r.Functions {
		if r.Functions[i].Name == name {
			return &r.Functions[i]
		}
	}
	return nil
}

// costMarkdown is the Cost section of RESULTS.md.
func (r *Results) costMarkdown(p func(string, ...any)) {
	p("## Cost")
	p("")
	p("A month on AWS at each size, every line item that bills, against Amazon Cognito user pools (Lite: $%.4f/MAU to 100k, then tiers; Essentials: $%.3f/MAU; both free for the first %.0f MAU, subtracted). Computed by `tests/bench/cost_test.go` from the measurements above, the usage profile and the assumptions below; prices as of %s.", prices.CognitoLiteTiers[0].PerMAU, prices.CognitoEssentialsMAU, prices.CognitoFreeMAU, prices.AsOf)
	p("")
	items := map[string]bool{}
	for _, m := range r.MonthlyCost {
		for k := range m.LineItemsUSD {
			items[k] = true
		}
	}
	names := make([]string, 0, len(items))
	for k := range items {
		names = append(names, k)
	}
	sort.Strings(names)
	head, sep := "| line item |", "|---|"
	for _, m := range r.MonthlyCost {
		head += fmt.Sprintf(" %s MAU |", human(m.MAU))
		sep += "---:|"
	}
	p("%s", head)
	p("%s", sep)
	row := func(name string, f func(Monthly) string) {
		line := "| " + name + " |"
		for _, m := range r.MonthlyCost {
			line += " " + f(m) + " |"
		}
		p("%s", line)
	}
	row("requests a month", func(m Monthly) string { return human(m.Requests) })
	row("cold starts a month", func(m Monthly) string { return human(m.ColdStartsPerMonth) })
	for _, k := range names {
		row(k, func(m Monthly) string { return fmt.Sprintf("$%.2f", m.LineItemsUSD[k]) })
	}
	row("**Gatehouse total**", func(m Monthly) string { return fmt.Sprintf("**$%.2f**", m.GatehouseUSD) })
	row("X-Ray if Tracing=Active (not in the total)", func(m Monthly) string { return fmt.Sprintf("$%.2f", m.TracingActiveUSD) })
	row("Cognito Lite", func(m Monthly) string { return fmt.Sprintf("$%.2f", m.CognitoLiteUSD) })
	row("Cognito Essentials", func(m Monthly) string { return fmt.Sprintf("$%.2f", m.CognitoEssUSD) })
	p("")
	p("Usage profile (requests per active user per month; an assumption, see `profile` in cost_test.go for its reasoning):")
	p("")
	p("| route | requests per user per month |")
	p("|---|---:|")
	keys := make([]string, 0, len(profile))
	for k := range profile {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p("| `%s` | %g |", k, profile[k])
	}
	p("")
	p("Prices (us-east-1, as of %s):", prices.AsOf)
	p("")
	p("| item | price | source |")
	p("|---|---:|---|")
	p("| Lambda arm64 | $%.10f per GB-second, $%.2f per million requests | %s |", prices.LambdaGBSecond, prices.LambdaRequest, prices.Sources["lambda"])
	p("| API Gateway HTTP API | $%.2f per million requests | %s |", prices.HTTPAPIRequest, prices.Sources["api_gateway"])
	p("| DynamoDB on-demand | $%.3f per million read units, $%.3f per million write units, $%.2f per GB-month stored, PITR $%.2f per GB-month | %s |", prices.DynamoReadUnit, prices.DynamoWriteUnit, prices.DynamoStorageGB, prices.DynamoPITRGB, prices.Sources["dynamodb"])
	p("| CloudWatch | Logs $%.2f per GB ingested, $%.2f per GB-month stored; alarms $%.2f per metric a month | %s |", prices.LogsIngestGB, prices.LogsStoreGB, prices.AlarmMetric, prices.Sources["cloudwatch"])
	p("| SES | $%.2f per 1,000 mails | %s |", prices.SESPerThousand, prices.Sources["ses"])
	p("| X-Ray | $%.2f per million traces recorded | %s |", prices.XRayPerMillion, prices.Sources["xray"])
	p("| Secrets Manager | $%.2f per secret a month, $%.2f per 10,000 calls | %s |", prices.SecretMonth, prices.SecretPer10k, prices.Sources["secrets_manager"])
	p("| Data transfer out | $%.2f per GB after %.0f GB a month | %s |", prices.TransferOutGB, prices.TransferFreeGB, prices.Sources["data_transfer"])
	p("| Cognito Lite | %s | %s |", liteTiers(), prices.Sources["cognito"])
	p("| Cognito Essentials | $%.3f per MAU after %.0f free | %s |", prices.CognitoEssentialsMAU, prices.CognitoFreeMAU, prices.Sources["cognito"])
	p("")
	p("Free tiers:")
	p("")
	fk := make([]string, 0, len(prices.FreeTiers))
	for k := range prices.FreeTiers {
		fk = append(fk, k)
	}
	sort.Strings(fk)
	for _, k := range fk {
		p("- %s: %s.", k, prices.FreeTiers[k])
	}
	p("")
	p("Assumptions:")
	p("")
	for _, a := range r.Assumptions {
		p("- %s", a)
	}
}

func liteTiers() string {
	var parts []string
	low := prices.CognitoFreeMAU
	for _, t := range prices.CognitoLiteTiers {
		if t.UpToMAU == 0 {
			parts = append(parts, fmt.Sprintf("$%.5g above %s", t.PerMAU, human(low)))
			break
		}
		parts = append(parts, fmt.Sprintf("$%.5g to %s", t.PerMAU, human(t.UpToMAU)))
		low = t.UpToMAU
	}
	return fmt.Sprintf("%s free, then per MAU %s", human(prices.CognitoFreeMAU), strings.Join(parts, ", "))
}

func human(v float64) string {
	switch {
	case v >= 1e6 && math.Mod(v, 1e6) == 0:
		return fmt.Sprintf("%.0fM", v/1e6)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3 && math.Mod(v, 1e3) == 0:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// opsTemplate is the part of template.yaml the operations checks read; intrinsic
// functions decode as their arguments (!Ref X is "X", !Sub s is s).
type opsTemplate struct {
	Parameters map[string]struct {
		Default       any   `yaml:"Default"`
		AllowedValues []any `yaml:"AllowedValues"`
	} `yaml:"Parameters"`
	Rules   map[string]any `yaml:"Rules"`
	Globals struct {
		Function map[string]any `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string         `yaml:"Type"`
		Condition  string         `yaml:"Condition"`
		Properties map[string]any `yaml:"Properties"`
	} `yaml:"Resources"`
}

func loadOps(t *testing.T) (string, opsTemplate) {
	t.Helper()
	root, _ := repo(t)
	var doc opsTemplate
	readYAML(t, root, "template.yaml", &doc)
	return root, doc
}

// TestTracingIsAParameter: X-Ray tracing follows the Tracing parameter, PassThrough (no
// traces: the HTTP API sends no sampled header) unless a stack asks for Active.
func TestTracingIsAParameter(t *testing.T) {
	_, doc := loadOps(t)
	p, ok := doc.Parameters["Tracing"]
	if !ok || p.Default != "PassThrough" || fmt.Sprint(p.AllowedValues) != "[PassThrough Active]" {
		t.Fatalf("Tracing parameter %+v, want PassThrough (default) or Active", p)
	}
	if got := doc.Globals.Function["Tracing"]; got != "Tracing" {
		t.Fatalf("Globals.Function.Tracing is %v, want !Ref Tracing", got)
	}
	for id, r := range doc.Resources {
		if r.Type == "AWS::Serverless::Function" && r.Properties["Tracing"] != nil {
			t.Errorf("%s sets its own Tracing", id)
		}
	}
}

// TestAlarmsReachTheAlarmRecipients: every alarm notifies both the AlarmTopicArn topic
// and the AlarmEmail topic (each when set), on alarm and on recovery.
func TestAlarmsReachTheAlarmRecipients(t *testing.T) {
	_, doc := loadOps(t)
	topic := doc.Resources["AlarmEmailTopic"]
	if topic.Type != "AWS::SNS::Topic" || topic.Condition != "HasAlarmEmail" || !strings.Contains(fmt.Sprint(topic.Properties["Subscription"]), "Endpoint:AlarmEmail") {
		t.Fatalf("AlarmEmailTopic %+v, want an SNS topic subscribing AlarmEmail", topic)
	}
	n := 0
	for id, r := range doc.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		n++
		for _, k := range []string{"AlarmActions", "OKActions"} {
			got := fmt.Sprint(r.Properties[k])
			if !strings.Contains(got, "HasAlarmTopic AlarmTopicArn") || !strings.Contains(got, "HasAlarmEmail AlarmEmailTopic") {
				t.Errorf("%s.%s is %s, want both alarm topics", id, k, got)
			}
		}
	}
	if n == 0 {
		t.Fatal("no alarms")
	}
}

// samconfigOverrides returns each samconfig.toml environment's parameter_overrides.
func samconfigOverrides(t *testing.T, root string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`^\[(\w+)\.deploy\.parameters\]$`)
	pair := regexp.MustCompile(`(\w+)=\\"([^"\\]*)\\"`)
	out := map[string]map[string]string{}
	env := ""
	for _, line := range strings.Split(string(b), "\n") {
		if m := section.FindStringSubmatch(line); m != nil {
			env = m[1]
		} else if strings.HasPrefix(line, "[") {
			env = ""
		}
		if v, ok := strings.CutPrefix(line, "parameter_overrides = "); ok && env != "" {
			out[env] = map[string]string{}
			for _, m := range pair.FindAllStringSubmatch(v, -1) {
				out[env][m[1]] = m[2]
			}
		}
	}
	return out
}

// TestProdMustNameAnAlarmRecipient: the template refuses a prod stack with neither
// AlarmEmail nor AlarmTopicArn, and samconfig.toml's prod environment is such a stack,
// so its deploy is refused until one is filled in; every override names a parameter.
func TestProdMustNameAnAlarmRecipient(t *testing.T) {
	root, doc := loadOps(t)
	rule := fmt.Sprint(doc.Rules["ProdAlarmsReachSomeone"])
	for _, want := range []string{"RuleCondition:[Stage prod]", "[[AlarmEmail ] [AlarmTopicArn ]]"} {
		if !strings.Contains(rule, want) {
			t.Fatalf("rule ProdAlarmsReachSomeone is %s, want %q in it", rule, want)
		}
	}
	envs := samconfigOverrides(t, root)
	stages := map[string]string{"default": "dev", "staging": "staging", "prod": "prod"}
	for env, stage := range stages {
		o, ok := envs[env]
		if !ok {
			t.Fatalf("samconfig.toml has no %s environment", env)
		}
		if o["Stage"] != stage {
			t.Errorf("%s: Stage=%q, want %q", env, o["Stage"], stage)
		}
		for k := range o {
			if _, ok := doc.Parameters[k]; !ok {
				t.Errorf("%s: override of %s, which the template does not declare", env, k)
			}
		}
	}
	if _, ok := envs["prod"]["AlarmEmail"]; !ok {
		t.Error("prod: no AlarmEmail placeholder to fill in")
	}
}

// TestUnverifiedSenderAlarm: each mailing function's log group counts the handlers'
// "mail not sent" lines whose reason is the unverified sender (the reason the code
// writes), into the metric of an alarm; the stack can create the sender identity.
func TestUnverifiedSenderAlarm(t *testing.T) {
	_, doc := loadOps(t)
	reason := account.MailFailureReason(account.E(account.CodeMailFailed, account.ErrSenderNotVerified))
	mailing := 0
	for id, r := range doc.Resources {
		env, _ := r.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if r.Type != "AWS::Serverless::Function" || vars["SENDER_EMAIL"] == nil {
			continue
		}
		mailing++
		f := doc.Resources[id+"SenderNotVerified"]
		pattern := fmt.Sprint(f.Properties["FilterPattern"])
		if f.Type != "AWS::Logs::MetricFilter" || f.Properties["LogGroupName"] != id+"LogGroup" ||
			!strings.Contains(pattern, `$.msg = "mail not sent"`) || !strings.Contains(pattern, `$.reason = "`+reason+`"`) ||
			!strings.Contains(fmt.Sprint(f.Properties["MetricTransformations"]), "MetricName:SenderNotVerified") {
			t.Errorf("%s: metric filter %+v, want reason %q counted into SenderNotVerified", id, f, reason)
		}
	}
	if mailing == 0 {
		t.Fatal("no function sends mail")
	}
	if a := doc.Resources["SenderNotVerifiedAlarm"]; a.Type != "AWS::CloudWatch::Alarm" || a.Properties["MetricName"] != "SenderNotVerified" {
		t.Fatalf("SenderNotVerifiedAlarm %+v", a)
	}
	if id := doc.Resources["SenderIdentity"]; id.Type != "AWS::SES::EmailIdentity" || id.Condition != "CreatesSenderIdentity" || id.Properties["EmailIdentity"] != "SenderEmail" {
		t.Fatalf("SenderIdentity %+v", id)
	}
}

// TestBenchIsItsOwnModule: the bench's plotting library stays out of the main module
// (tests/bench is a module of its own, built against this one), and make lint and make
// test still compile the bench.
func TestBenchIsItsOwnModule(t *testing.T) {
	root, _ := repo(t)
	mainMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mainMod), "gonum.org/v1/plot") {
		t.Error("go.mod requires gonum.org/v1/plot; only tests/bench may")
	}
	bench, err := os.ReadFile(filepath.Join(root, "tests", "bench", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), "replace github.com/gatehouse/gatehouse => ../..") {
		t.Error("tests/bench/go.mod does not build against this checkout (replace => ../..)")
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"lint:", "test:"} {
		_, body, _ := strings.Cut(string(mk), "\n"+target)
		body, _, _ = strings.Cut(body, "\n\n")
		if !strings.Contains(body, "cd tests/bench && $(GO) vet ./...") {
			t.Errorf("make %s does not vet (compile) tests/bench", strings.TrimSuffix(target, ":"))
		}
	}
}

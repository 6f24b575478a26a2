package project

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/routes"
	"github.com/gatehouse/gatehouse/pkg/events"
)

// TestEventBusPolicyScopedToTheBus: putting events is allowed by one managed policy, only
// while EventBusName is set (condition HasEventBus), only events:PutEvents, and only on
// that bus of this account and region; exactly the functions that emit events (the route
// table's writers) attach it, under the same condition.
func TestEventBusPolicyScopedToTheBus(t *testing.T) {
	_, doc := loadOps(t)
	if p, ok := doc.Parameters["EventBusName"]; !ok || p.Default != "" {
		t.Fatalf("EventBusName parameter %+v, want default empty", p)
	}
	pol := doc.Resources["PublishEventsPolicy"]
	if pol.Type != "AWS::IAM::ManagedPolicy" || pol.Condition != "HasEventBus" {
		t.Fatalf("PublishEventsPolicy %+v, want a managed policy under HasEventBus", pol)
	}
	root := templateRoot(t)
	if hasBus := field(field(root, "Conditions"), "HasEventBus"); hasBus == nil || hasBus.Tag != "!Not" ||
		!strings.Contains(nodeText(hasBus), "EventBusName") {
		t.Fatalf("condition HasEventBus is %q, want !Not [!Equals [!Ref EventBusName, \"\"]]", nodeText(hasBus))
	}
	resources := field(root, "Resources")
	sts := field(field(field(field(resources, "PublishEventsPolicy"), "Properties"), "PolicyDocument"), "Statement")
	if sts == nil || len(sts.Content) != 1 {
		t.Fatalf("PublishEventsPolicy: want one statement")
	}
	st := sts.Content[0]
	if a := scalars(field(st, "Action")); !slices.Equal(a, []string{"events:PutEvents"}) || field(st, "Effect").Value != "Allow" {
		t.Fatalf("PublishEventsPolicy allows %v, want events:PutEvents only", a)
	}
	if res := field(st, "Resource"); res == nil || res.Tag != "!Sub" ||
		res.Value != "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}" {
		t.Fatalf("PublishEventsPolicy resource %v, want the EventBusName bus's ARN", res)
	}
	const attach = "HasEventBus PublishEventsPolicy AWS::NoValue"
	for _, f := range routes.Functions {
		attached := false
		for _, p := range field(field(field(resources, f.LogicalID()), "Properties"), "Policies").Content {
			if p.Tag == "!If" && strings.Join(scalars(p), " ") == attach {
				attached = true
			} else if strings.Contains(nodeText(p), "PublishEventsPolicy") {
				t.Errorf("%s attaches PublishEventsPolicy other than under HasEventBus", f.LogicalID())
			}
		}
		if attached != f.Emits() {
			t.Errorf("%s: PublishEventsPolicy attached %v, emits events %v", f.LogicalID(), attached, f.Emits())
		}
	}
	if got := doc.Globals.Function["Environment"]; !strings.Contains(fmt.Sprint(got), "EVENT_BUS_NAME:EventBusName") {
		t.Errorf("Globals environment %v: no EVENT_BUS_NAME from EventBusName", got)
	}
}

// nodeText is a node's scalars, depth first, joined by spaces.
func nodeText(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, nodeText(c))
	}
	return strings.Join(parts, " ")
}

// TestEventPublishFailedAlarm: events EventBridge did not take (the metric pkg/events
// emits) raise an alarm, which exists with the bus.
func TestEventPublishFailedAlarm(t *testing.T) {
	_, doc := loadOps(t)
	a := doc.Resources["EventPublishFailedAlarm"]
	if a.Type != "AWS::CloudWatch::Alarm" || a.Condition != "HasEventBus" ||
		a.Properties["Namespace"] != events.Namespace || a.Properties["MetricName"] != events.EventPublishFailed ||
		a.Properties["Statistic"] != "Sum" || fmt.Sprint(a.Properties["Threshold"]) != "1" {
		t.Fatalf("EventPublishFailedAlarm %+v", a)
	}
}

// TestDashboardShowsEmittedMetrics: the template has one dashboard; every Gatehouse metric
// it names is one pkg/events emits (so no widget stays empty for a typo), it shows the
// issue's logins ok/failed, lockouts and mails sent/failed per family, and the Lambda
// errors/throttles and the API's 4xx, 5xx and latency.
func TestDashboardShowsEmittedMetrics(t *testing.T) {
	_, doc := loadOps(t)
	var body string
	n := 0
	for id, r := range doc.Resources {
		if r.Type == "AWS::CloudWatch::Dashboard" {
			n++
			s, ok := r.Properties["DashboardBody"].(string)
			if !ok {
				t.Fatalf("%s: DashboardBody %T, want a !Sub string", id, r.Properties["DashboardBody"])
			}
			body = s
		}
	}
	if n != 1 {
		t.Fatalf("%d dashboards, want 1", n)
	}
	var named []string
	for _, m := range regexp.MustCompile(`\{Gatehouse,Family\} MetricName=\\"(\w+)\\"`).FindAllStringSubmatch(body, -1) {
		named = append(named, m[1])
	}
	for _, m := range regexp.MustCompile(`\["Gatehouse", "(\w+)"`).FindAllStringSubmatch(body, -1) {
		named = append(named, m[1])
	}
	emitted := events.MetricNames()
	for _, m := range named {
		if !slices.Contains(emitted, m) {
			t.Errorf("the dashboard shows %s, which pkg/events never emits (%v)", m, emitted)
		}
	}
	for _, want := range []string{"LoginSucceeded", "LoginFailed", "LoginRefused", "MailSent", "MailFailed", events.EventPublishFailed} {
		if !slices.Contains(named, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
	for _, want := range []string{`MetricName=\"Errors\"`, `MetricName=\"Throttles\"`, `"AWS/ApiGateway", "4xx"`, `"AWS/ApiGateway", "5xx"`, `"AWS/ApiGateway", "Latency"`, "${GatehouseApi}"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard has no %s", want)
		}
	}
}

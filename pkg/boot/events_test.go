package boot_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/events"
	"github.com/gatehouse/gatehouse/pkg/events/bus"
)

// TestObserverPublishesOnlyWithABus: every function's service gets the metrics and the
// unstored-event log; the EventBridge publisher (and its client) only when EVENT_BUS_NAME
// names a bus, publishing to that bus.
func TestObserverPublishesOnlyWithABus(t *testing.T) {
	for _, busName := range []string{"", "audit"} {
		env := map[string]string{
			"TABLE_NAME": "gatehouse-test", "AWS_REGION": "us-east-1",
			"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "LOG_LEVEL": "ERROR",
			"EVENT_BUS_NAME": busName,
		}
		rt, err := boot.New(context.Background(), func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		fan, ok := rt.Service.Observer.(events.Fanout)
		if !ok {
			t.Fatalf("bus %q: observer %T, want events.Fanout", busName, rt.Service.Observer)
		}
		var metrics, unstored int
		var pub *bus.Publisher
		for _, o := range fan {
			switch o := o.(type) {
			case *events.Metrics:
				metrics++
			case events.Unstored:
				unstored++
			case *bus.Publisher:
				pub = o
			}
		}
		if metrics != 1 || unstored != 1 {
			t.Fatalf("bus %q: %d metrics and %d unstored observers, want one each", busName, metrics, unstored)
		}
		switch {
		case busName == "" && pub != nil:
			t.Fatal("a publisher without EVENT_BUS_NAME")
		case busName != "" && (pub == nil || pub.Bus != busName || pub.API == nil || pub.Metrics == nil):
			t.Fatalf("bus %q: publisher %+v", busName, pub)
		}
	}
}

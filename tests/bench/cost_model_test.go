package bench

import (
	"math"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
)

// TestCognitoTiers: Lite's graduated tiers and Essentials' flat price, after the free MAU.
func TestCognitoTiers(t *testing.T) {
	for _, tc := range []struct{ mau, lite float64 }{
		{10_000, 0}, {100_000, 90_000 * 0.0055}, {1_000_000, 90_000*0.0055 + 900_000*0.0046},
	} {
		if got := cognitoLite(tc.mau); math.Abs(got-tc.lite) > 0.001 {
			t.Errorf("Lite at %.0f MAU = %.2f, want %.2f", tc.mau, got, tc.lite)
		}
	}
}

// TestXRayTraces: the fixed rule records every request below one a second, then 5%.
func TestXRayTraces(t *testing.T) {
	if got := xrayTraces(secondsPerMonth / 2); math.Abs(got-secondsPerMonth/2) > 1 {
		t.Errorf("half a request a second: %.0f traces, want all", got)
	}
	if got, want := xrayTraces(21*secondsPerMonth), (1+0.05*20)*float64(secondsPerMonth); math.Abs(got-want) > 1 {
		t.Errorf("21 requests a second: %.0f traces, want %.0f", got, want)
	}
}

// TestTemplateFacts: the alarms, retention, tracing and throttle come from template.yaml.
func TestTemplateFacts(t *testing.T) {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	f, err := readTemplateFacts(root)
	if err != nil {
		t.Fatal(err)
	}
	if f.alarms < 24 || f.alarmMetrics < f.alarms || f.retentionDays <= 0 || f.rateLimit == "" || f.burstLimit == "" {
		t.Errorf("template facts = %+v", f)
	}
	if f.tracingDefault != "PassThrough" && f.tracingDefault != "Active" {
		t.Errorf("tracing default %q", f.tracingDefault)
	}
}

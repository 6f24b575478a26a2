package awsenv

import (
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestConfigBoundsClients(t *testing.T) {
	cfg, err := Config(env(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPClient == nil || cfg.Retryer == nil {
		t.Fatal("the SDK's unbounded defaults are in use")
	}
	if r := cfg.Retryer(); r.MaxAttempts() != MaxAttempts {
		t.Fatalf("%d attempts", r.MaxAttempts())
	}
	if _, err := Config(env(ResponseTimeoutVar, "30s"), nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"2", "10ms", "soon"} {
		if _, err := Config(env(ResponseTimeoutVar, bad), nil); err == nil || !strings.Contains(err.Error(), ResponseTimeoutVar) {
			t.Errorf("%s=%s: %v", ResponseTimeoutVar, bad, err)
		}
	}
}

func TestBackoffStaysUnderCap(t *testing.T) {
	for attempt := 1; attempt < 12; attempt++ {
		for range 100 {
			if d, _ := backoff(attempt, nil); d < 0 || d > MaxBackoff || (attempt == 1 && d > baseBackoff) {
				t.Fatalf("attempt %d: backoff %v", attempt, d)
			}
		}
	}
}

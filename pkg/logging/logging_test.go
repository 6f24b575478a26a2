package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

func TestRedactsSecretsAndAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	log.InfoContext(ctx, "login", "username", "alice", "password", "hunter2hunter2", "ssid", "tok-abc",
		slog.Group("req", "Authorization", "Basic YWRtaW46eA==", "newPassword", "p@ss"), "password_hash", "$argon2id$x")
	out := buf.String()
	for _, secret := range []string{"hunter2hunter2", "tok-abc", "YWRtaW46eA==", "p@ss", "$argon2id$x"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q: %s", secret, out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %s", out)
	}
	if m["request_id"] != "req-123" || m["username"] != "alice" || m["msg"] != "login" {
		t.Fatalf("record %v", m)
	}
	buf.Reset()
	log.Debug("hidden")
	log.Warn("shown", "error", errors.New("boom"))
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "boom") {
		t.Fatalf("levels: %s", buf.String())
	}
}

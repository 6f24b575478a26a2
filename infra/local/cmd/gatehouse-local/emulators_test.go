package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
)

// TestEmulatorsOnly runs the command as `make emulators` does: DynamoDB Local with make
// run's table and the SES emulator, no gateway; SIGTERM stops it cleanly.
func TestEmulatorsOnly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gatehouse-local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-emulators-only", "-dynamodb-port", "0", "-ses-port", "0", "-in-memory", "-quiet")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	dynamoRe := regexp.MustCompile(`DynamoDB\s+(http://127\.0\.0\.1:\d+)\s+table (\S+)`)
	inboxRe := regexp.MustCompile(`Inbox\s+(http://127\.0\.0\.1:\d+)`)
	var dynamoURL, table, inbox string
	var banner strings.Builder
	lines := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(3*time.Minute, func() { _ = cmd.Process.Kill() })
	for lines.Scan() {
		banner.WriteString(lines.Text() + "\n")
		if m := dynamoRe.FindStringSubmatch(lines.Text()); m != nil {
			dynamoURL, table = m[1], m[2]
		}
		if m := inboxRe.FindStringSubmatch(lines.Text()); m != nil {
			inbox = m[1]
		}
		if strings.Contains(lines.Text(), "Press Ctrl-C to stop") {
			break
		}
	}
	deadline.Stop()
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if dynamoURL == "" || inbox == "" || table != "gatehouse-local" {
		t.Fatalf("banner:\n%s\nstderr:\n%s", banner.String(), stderr.String())
	}
	if strings.Contains(banner.String(), "API ") {
		t.Errorf("emulators only, but the banner names an API:\n%s", banner.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := emulators.DynamoDBClient(dynamoURL).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Errorf("table %s: %v", table, err)
	}
	resp, err := http.Get(inbox + "/store")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("inbox: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
}

package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/infra/local/apidocs"
	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
	"github.com/gatehouse/gatehouse/infra/local/internal/testlambda"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
)

// These tests run the stack on infra/local/testdata/template.yaml, whose functions are the
// echo and hello-world test Lambdas, so they do not depend on Gatehouse's own functions.

func testOptions(t *testing.T) (Options, *syncbuf.Buffer) {
	t.Helper()
	tmpl, err := testlambda.TemplatePath()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	return Options{TemplatePath: tmpl, LogWriter: logs, FunctionLogWriter: logs}, logs
}

// startStack starts a stack and registers a cleanup that stops it and checks that none of
// its processes survive.
func startStack(t *testing.T, opts Options, logs *syncbuf.Buffer) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v\nlogs:\n%s", err, logs)
	}
	t.Cleanup(func() {
		stopAndCheck(t, s)
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	return s
}

func stopAndCheck(t *testing.T, s *Stack) {
	t.Helper()
	pids := s.PIDs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	for _, pid := range pids {
		if proc.Alive(pid) {
			t.Errorf("process %d still alive after Stop", pid)
		}
	}
}

type echoReply struct {
	PID   int                            `json:"pid"`
	Env   map[string]string              `json:"env"`
	Event events.APIGatewayV2HTTPRequest `json:"event"`
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := testlambda.Do(t, req)
	return resp.StatusCode, body
}

func echo(t *testing.T, base string) echoReply {
	t.Helper()
	status, body := get(t, base+"/echo")
	if status != 200 {
		t.Fatalf("GET /echo: %d %s", status, body)
	}
	var r echoReply
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return r
}

func TestStackEndToEnd(t *testing.T) {
	t.Parallel()
	opts, logs := testOptions(t)
	var hookCalls []string
	opts.Environ = []string{"GREETING=hello", "FLAG=from-host", "UNDECLARED=secret", "AWS_ACCESS_KEY_ID=real-key"}
	opts.EnvOverrides = map[string]string{"EXTRA": "1", "FLAG": "from-test"}
	opts.AfterTable = func(ctx context.Context, endpoint, table string) error {
		hookCalls = append(hookCalls, endpoint+" "+table)
		// The table exists by now.
		_, err := emulators.DynamoDBClient(endpoint).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		return err
	}
	s := startStack(t, opts, logs)

	if len(hookCalls) != 1 || hookCalls[0] != s.DynamoEndpoint+" gatehouse-local" {
		t.Errorf("AfterTable calls = %q", hookCalls)
	}
	if s.TableName != "gatehouse-local" || s.b.tableID != "Table" {
		t.Errorf("table = %q %q", s.TableName, s.b.tableID)
	}
	for _, u := range []string{s.URL, s.DynamoEndpoint, s.SESEndpoint} {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("endpoint %q is not on loopback", u)
		}
	}

	r := echo(t, s.URL)
	want := map[string]string{
		"TABLE_NAME":                "gatehouse-local",
		"GREETING":                  "hello",     // declared by the template, set on the host
		"FLAG":                      "from-test", // EnvOverrides win over everything
		"EXTRA":                     "1",
		"SENDER_EMAIL":              "no-reply@gatehouse.local",
		"AWS_ENDPOINT_URL_DYNAMODB": s.DynamoEndpoint,
		"AWS_ENDPOINT_URL_SESV2":    s.SESEndpoint,
		"AWS_ACCESS_KEY_ID":         "local", // the host's keys never reach a function
		"AWS_REGION":                "us-east-1",
		"AWS_LAMBDA_FUNCTION_NAME":  "EchoFunction",
		"TABLE_ARN":                 "arn:aws:dynamodb:us-east-1:123456789012:table/gatehouse-local",
	}
	for k, v := range want {
		if r.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, r.Env[k], v)
		}
	}
	if _, ok := r.Env["UNDECLARED"]; ok {
		t.Error("a host variable the template does not declare reached the function")
	}

	// The function reaches the emulators with the environment it was given.
	status, body := get(t, s.URL+"/echo?dynamo=1")
	if status != 200 || body != `["gatehouse-local"]` {
		t.Errorf("ListTables from the function: %d %s", status, body)
	}
	status, body = get(t, s.URL+"/echo?mail=bob@example.com")
	if status != 200 || !strings.Contains(body, "messageId") {
		t.Errorf("SendEmail from the function: %d %s", status, body)
	}
	mails, err := emulators.Mails(context.Background(), s.SESEndpoint)
	if err != nil || len(mails) != 1 || mails[0].Destination.To[0] != "bob@example.com" || mails[0].From != "no-reply@gatehouse.local" {
		t.Errorf("mails = %+v, %v", mails, err)
	}

	if status, body := get(t, s.URL+"/hello/world"); status != 200 || body != "hello world" {
		t.Errorf("GET /hello/world: %d %q", status, body)
	}
	// The API's documentation is served beside the routes.
	if err := apidocs.Check(s.URL); err != nil {
		t.Error(err)
	}
	if status, body := get(t, s.URL+"/nope"); status != 404 || body != `{"message":"Not Found"}` {
		t.Errorf("GET /nope: %d %q", status, body)
	}

	stats := s.Stats()
	if len(stats) != 2 || stats[0].Function != "EchoFunction" || len(stats[0].ColdStarts) == 0 || stats[1].Invocations != 1 {
		t.Errorf("stats = %+v", stats)
	}
	out := logs.String()
	defer func() {
		// An emulator that dies is reported through Done and Err.
		if err := syscall.Kill(s.b.ses.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case <-s.Done():
			if err := s.Err(); err == nil || !strings.Contains(err.Error(), "SES local exited unexpectedly") {
				t.Errorf("Err = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Done not closed after SES local died")
		}
	}()
	for _, line := range []string{"[EchoFunction] REPORT RequestId: ", "[HelloWorldFunction] START RequestId: ", "[gateway] 127.0.0.1 \"GET /hello/world\" 200 ", `route="GET /hello/{name}"`} {
		if !strings.Contains(out, line) {
			t.Errorf("logs lack %q", line)
		}
	}
}

func TestNewGatewaySharesEmulatorsWithOtherEnv(t *testing.T) {
	t.Parallel()
	opts, logs := testOptions(t)
	parent := startStack(t, opts, logs)

	closed := closedPort(t)
	ctx := context.Background()
	child, err := parent.NewGateway(ctx, map[string]string{
		"GREETING":               "child",
		"AWS_ENDPOINT_URL_SESV2": fmt.Sprintf("http://127.0.0.1:%d", closed),
	})
	if err != nil {
		t.Fatal(err)
	}
	if child.URL == parent.URL || child.DynamoEndpoint != parent.DynamoEndpoint || child.TableName != parent.TableName {
		t.Errorf("child %s %s, parent %s %s", child.URL, child.DynamoEndpoint, parent.URL, parent.DynamoEndpoint)
	}
	if got := echo(t, child.URL).Env["GREETING"]; got != "child" {
		t.Errorf("child GREETING = %q", got)
	}
	if got := echo(t, parent.URL).Env["GREETING"]; got != "hi" {
		t.Errorf("parent GREETING = %q", got)
	}
	// A failing mail service fails the child's function, not the parent's.
	if status, body := get(t, child.URL+"/echo?mail=a@example.com"); status != 500 || body != `{"message":"Internal Server Error"}` {
		t.Errorf("child mail: %d %s", status, body)
	}
	if status, _ := get(t, parent.URL+"/echo?mail=a@example.com"); status != 200 {
		t.Errorf("parent mail: %d", status)
	}
	// The child sees the parent's data.
	if status, body := get(t, child.URL+"/echo?dynamo=1"); status != 200 || body != `["gatehouse-local"]` {
		t.Errorf("child ListTables: %d %s", status, body)
	}

	childPIDs := child.PIDs()
	if len(childPIDs) == 0 {
		t.Fatal("child has no instances")
	}
	if err := child.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range childPIDs {
		if proc.Alive(pid) {
			t.Errorf("child process %d alive after its Stop", pid)
		}
	}
	echo(t, parent.URL) // the parent is unaffected

	// A gateway still running when its parent stops goes down with it.
	orphan, err := parent.NewGateway(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, orphan.URL)
	orphanPIDs := orphan.PIDs()
	stopAndCheck(t, parent)
	for _, pid := range orphanPIDs {
		if proc.Alive(pid) {
			t.Errorf("process %d of a child gateway alive after the parent's Stop", pid)
		}
	}
	if _, err := http.Get(orphan.URL + "/echo"); err == nil {
		t.Error("child gateway still serving after the parent's Stop")
	}
}

func TestSeveralStacksAtOnce(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	stacks := make([]*Stack, 2)
	for i := range stacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts, logs := testOptions(t)
			s, err := Start(context.Background(), opts)
			if err != nil {
				t.Errorf("Start %d: %v\n%s", i, err, logs)
				return
			}
			stacks[i] = s
		}()
	}
	wg.Wait()
	for _, s := range stacks {
		if s != nil {
			t.Cleanup(func() { stopAndCheck(t, s) })
		}
	}
	if t.Failed() {
		return
	}
	if stacks[0].DynamoEndpoint == stacks[1].DynamoEndpoint || stacks[0].URL == stacks[1].URL {
		t.Errorf("stacks share endpoints: %s %s", stacks[0].DynamoEndpoint, stacks[1].DynamoEndpoint)
	}
	for _, s := range stacks {
		if got := echo(t, s.URL).Env["AWS_ENDPOINT_URL_DYNAMODB"]; got != s.DynamoEndpoint {
			t.Errorf("function of %s talks to %s", s.URL, got)
		}
	}
}

func TestStartFailsCleanly(t *testing.T) {
	t.Parallel()
	t.Run("gateway port taken", func(t *testing.T) {
		opts, _ := testOptions(t)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		opts.Port = ln.Addr().(*net.TCPAddr).Port
		_, err = Start(context.Background(), opts)
		if want := fmt.Sprintf("port %d (gateway) is already in use", opts.Port); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
	t.Run("function does not build", func(t *testing.T) {
		opts, _ := testOptions(t)
		dir := t.TempDir()
		opts.TemplatePath = filepath.Join(dir, "template.yaml")
		tmpl := "Resources:\n  MissingFunction:\n    Type: AWS::Serverless::Function\n"
		if err := os.WriteFile(opts.TemplatePath, []byte(tmpl), 0o644); err != nil {
			t.Fatal(err)
		}
		opts.BinDir = filepath.Join(dir, "bin")
		// Markers to find this start's emulator processes among those of parallel tests.
		opts.DynamoDBDataDir = filepath.Join(dir, "dynamodb")
		opts.SESPort = closedPort(t)
		_, err := Start(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), "building the functions failed") {
			t.Errorf("err = %v", err)
		}
		// Emulators started alongside the build were stopped again.
		for _, marker := range []string{opts.DynamoDBDataDir, fmt.Sprintf("--port\x00%d\x00", opts.SESPort)} {
			if pids := processesWith(t, marker); len(pids) > 0 {
				t.Errorf("processes with %q left behind: %v", marker, pids)
			}
		}
	})
	t.Run("template problem", func(t *testing.T) {
		opts, _ := testOptions(t)
		opts.Parameters = map[string]string{"Greeting": "yo"}
		_, err := Start(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), "Greeting") {
			t.Errorf("err = %v", err)
		}
	})
}

// processesWith lists processes whose command line contains marker (arguments are
// separated by NUL bytes in /proc/PID/cmdline).
func processesWith(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), marker) {
			if pid, err := strconv.Atoi(e.Name()); err == nil && proc.Alive(pid) {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

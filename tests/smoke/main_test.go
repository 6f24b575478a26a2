package smoke

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/internal/syncbuf"
	"github.com/gatehouse/gatehouse/internal/testkit"
	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// TestMain points the suite at API_URL, or, without it, at a local stack started here
// with an admin account and the SES emulator's inbox, so every step runs.
func TestMain(m *testing.M) {
	target.api = os.Getenv("API_URL")
	target.adminUser, target.adminPassword = os.Getenv("SMOKE_ADMIN_USER"), os.Getenv("SMOKE_ADMIN_PASSWORD")
	target.mailURL = os.Getenv("SMOKE_MAIL_URL")
	if target.api != "" {
		fmt.Printf("smoke: against %s (admin steps: %v, mail steps: %v)\n", target.api, haveAdmin(), target.mailURL != "")
		code := m.Run()
		if err := cleanup(); err != nil {
			fmt.Fprintln(os.Stderr, "smoke:", err)
			code = 1
		}
		os.Exit(code)
	}
	fmt.Println("smoke: API_URL not set: running the suite against a local stack started for it (make smoke API_URL=... runs it against a deployment)")
	os.Exit(runLocal(m))
}

func runLocal(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	target.adminUser, target.adminPassword = "smoke-admin", rand.Text()
	var log syncbuf.Buffer
	st, err := stack.Start(ctx, stack.Options{
		LogWriter: &log, FunctionLogWriter: &log,
		AfterTable: func(ctx context.Context, endpoint, table string) error {
			hasher, err := password.New(password.OWASP)
			if err != nil {
				return err
			}
			svc := account.NewService(dynamo.New(emulators.DynamoDBClient(endpoint), table), hasher, nil, account.Config{}, nil)
			_, _, err = svc.EnsureAdmin(ctx, target.adminUser, target.adminPassword)
			return err
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "smoke: local stack did not start:", err)
		fmt.Fprint(os.Stderr, log.String())
		return 1
	}
	target.api, target.mailURL = st.URL, st.SESEndpoint
	code := m.Run()
	if err := cleanup(); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		code = 1
	}
	if !testkit.Stopped("smoke", st.Stop) {
		code = 1
	}
	if code != 0 {
		fmt.Fprint(os.Stderr, log.String())
	}
	return code
}

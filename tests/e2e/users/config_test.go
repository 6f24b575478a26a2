package users_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/infra/local/stack"
	"github.com/gatehouse/gatehouse/tests/e2e"
)

// TestSettingFromHostEnvironment: `OTP_TTL=1m make run` mails codes valid for 1 minute.
// The variable reaches the functions as make run passes it, as the host environment
// (Options.Environ), which only carries variables the template declares: OTP_TTL is one
// because every setting is a template parameter (pkg/config).
func TestSettingFromHostEnvironment(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g, err := e2e.Stack.NewGatewayEnviron(ctx, []string{"OTP_TTL=1m"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Stop(context.Background()) }()
	if o := stack.HostOverrides(g.Template, []string{"OTP_TTL=1m"}); !strings.Contains(strings.Join(o, " "), "OTP_TTL=1m") {
		t.Errorf("make run's banner would not list OTP_TTL=1m: %v", o)
	}
	for _, c := range []struct{ base, want string }{{g.URL, "valid for 1 minutes"}, {e2e.Stack.URL, "valid for 15 minutes"}} {
		name, _, email := e2e.RegisterUser(t, true)
		r := e2e.Do(t, c.base, http.MethodPost, "/users/requestotp", "application/json", fmt.Sprintf(`{"username":%q}`, name))
		if r.Status != 200 {
			t.Fatalf("requestotp: %d %s", r.Status, r.Body)
		}
		if text := e2e.LastMailTo(t, email).Body.Text; !strings.Contains(text, c.want) {
			t.Errorf("mail through %s does not say %q:\n%s", c.base, c.want, text)
		}
	}
}

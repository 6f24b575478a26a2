package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/accounttest"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
)

// TestUnknownIdentifiersAnswerAlike: wrong passwords for an email (or username) that has
// an account and for one that has none get the same answers in the same order, with the
// same number of DynamoDB round trips each, on the routes that check a password by them
// (v1 changepassword by email; /users/login and /user/auth by username): the lockout's
// 429 does not tell which exist. Admin Basic credentials answer alike too (an account is
// read there before its check, so a known name costs one read more).
func TestUnknownIdentifiersAnswerAlike(t *testing.T) {
	api := newCounting()
	svc, _ := frozen(t, api, account.Config{})
	ctx := account.WithSourceIP(context.Background(), "203.0.113.9")
	known, err := svc.Register(ctx, account.NewAccount{Username: "known", Email: "known@example.com", Password: "right-password"})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]func(id string) error{
		"changepassword": func(email string) error {
			return svc.ChangePasswordByEmail(ctx, email, "wrong-password", "next-password")
		},
		"login": func(name string) error { _, _, err := svc.Login(ctx, name, "wrong-password"); return err },
		"admin Basic": func(name string) error {
			_, err := svc.AuthenticateAdmin(ctx, name, "wrong-password")
			return err
		},
	}
	ids := map[string][2]string{
		"changepassword": {"known@example.com", "unknown@example.com"},
		"login":          {"known", "unknown"},
		"admin Basic":    {"known", "unknown2"},
	}
	for _, route := range []string{"changepassword", "login", "admin Basic"} {
		var seq [2][]string
		for i, id := range ids[route] {
			for range 8 {
				api.n.Store(0)
				err := routes[route](id)
				if route == "admin Basic" {
					seq[i] = append(seq[i], string(account.ErrorCode(err)))
				} else {
					seq[i] = append(seq[i], fmt.Sprintf("%s/%d", account.ErrorCode(err), api.n.Load()))
				}
			}
		}
		t.Logf("%s: known %v", route, seq[0])
		t.Logf("%s: unknown %v", route, seq[1])
		if !slices.Equal(seq[0], seq[1]) {
			t.Errorf("%s: known and unknown identifiers answer differently:\n known   %v\n unknown %v", route, seq[0], seq[1])
		}
		if !strings.HasPrefix(seq[1][7], string(account.CodeTooManyAttempts)) {
			t.Errorf("%s: the 8th wrong attempt was not refused: %v", route, seq[1])
		}
		// The three routes share one count per account, so each route starts on a fresh one.
		if err := svc.Store.ClearLoginFailures(ctx, known.Account.UserID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGuessBudgetRaceOnDynamoDB: 50 racing wrong codes against DynamoDB Local get at most
// the account's budget of checks (here 3, below the 5 tries of one code), and the right
// code is refused once it is spent.
func TestGuessBudgetRaceOnDynamoDB(t *testing.T) {
	svc, mailer := frozen(t, client, account.Config{OTPFailuresPerDay: 3})
	ctx := context.Background()
	c, err := svc.Register(ctx, account.NewAccount{Username: "guessed", Email: "guessed@example.com", Password: "right-password"})
	if err != nil {
		t.Fatal(err)
	}
	_, reqID, err := svc.RequestOTP(ctx, "guessed")
	if err != nil {
		t.Fatal(err)
	}
	mail, _ := mailer.LastOTP()
	wrong := "000000"
	if mail.Code == wrong {
		wrong = "111111"
	}
	codes := map[account.Code]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			err := svc.ChangePasswordWithOTP(ctx, c.Account.UserHash(), reqID, wrong, "new-password")
			mu.Lock()
			codes[account.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("50 racing wrong codes: %v", codes)
	if codes[account.CodeInvalidOTP] > 3 || codes[account.CodeInvalidOTP]+codes[account.CodeTooManyAttempts]+codes[account.CodeOTPExpired] != 50 {
		t.Fatalf("answers %v; want at most 3 checked (invalid_otp)", codes)
	}
	if codes[account.CodeInvalidOTP] == 3 {
		err = svc.ChangePasswordWithOTP(ctx, c.Account.UserHash(), reqID, mail.Code, "new-password")
		if account.ErrorCode(err) != account.CodeTooManyAttempts && account.ErrorCode(err) != account.CodeOTPExpired {
			t.Fatalf("right code after the budget: %v", err)
		}
	}
}

// TestLoginThrottleRaceOnDynamoDB: 50 concurrent wrong passwords against DynamoDB Local
// get at most 5 password checks; the rest are refused without one.
func TestLoginThrottleRaceOnDynamoDB(t *testing.T) {
	ctx := context.Background()
	hasher := accounttest.NewHasher()
	svc := account.NewService(dynamo.New(client, newTable(t)), hasher, nil, account.Config{AllowRegistration: true}, nil)
	// A clock that stands still: on a loaded machine the first lock (1 s) could otherwise
	// end while the 50 are still running, and a check after it is allowed.
	now := time.Now()
	svc.Now = func() time.Time { return now }
	if _, err := svc.Register(ctx, account.NewAccount{Username: "target", Password: "right-password"}); err != nil {
		t.Fatal(err)
	}
	codes := map[account.Code]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, _, err := svc.Login(ctx, "target", "wrong-password")
			mu.Lock()
			codes[account.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	checks := hasher.Verifies.Load() - hasher.Dummies.Load()
	t.Logf("50 concurrent wrong passwords: %d password checks, answers %v", checks, codes)
	if checks > 5 || codes[account.CodeInvalidCredentials] > 5 || codes[account.CodeTooManyAttempts]+codes[account.CodeInvalidCredentials] != 50 {
		t.Fatalf("%d checks, answers %v; want at most 5 checks and the rest refused", checks, codes)
	}
	a, err := svc.AccountByUsername(ctx, "target")
	if err != nil || a.FailedLogins > 5 {
		t.Fatalf("stored count %d, %v", a.FailedLogins, err)
	}
}

package account_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Issue 12, item 6: ten accounts on aliases of one victim's address get at most
// RecipientMailsPerHour mails to it in a clock hour, whichever route asks; the rest wait
// for the next hour.
func TestRecipientMailLimit(t *testing.T) {
	e := newEnv(t)
	e.advance(5 * time.Second) // 10:00:05
	var names []string
	for i := range 10 {
		name := fmt.Sprintf("squatter%d", i)
		e.register(t, name, fmt.Sprintf("Victim+%d@Example.com", i), "right-password")
		names = append(names, name)
	}
	for i, name := range names {
		var err error
		if i%2 == 0 {
			_, _, err = e.svc.RequestOTP(ctx, name)
		} else {
			err = e.svc.RequestPasswordReset(ctx, fmt.Sprintf("victim+%d@example.com", i))
		}
		if i < account.DefaultRecipientMailsPerHour {
			if err != nil {
				t.Fatalf("mail %d: %v", i+1, err)
			}
			continue
		}
		throttled(t, err, time.Hour-5*time.Second)
	}
	if n := len(e.mailer.OTPs) + len(e.mailer.Reset); n != account.DefaultRecipientMailsPerHour {
		t.Fatalf("%d mails reached the victim, want %d", n, account.DefaultRecipientMailsPerHour)
	}
	// Another mailbox is not affected; the victim's is again in the next hour.
	e.register(t, "bystander", "bystander@example.com", "right-password")
	if _, _, err := e.svc.RequestOTP(ctx, "bystander"); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Hour - 5*time.Second)
	if _, _, err := e.svc.RequestOTP(ctx, names[9]); err != nil {
		t.Fatalf("next hour: %v", err)
	}
}

// Racing requests from ten accounts on one mailbox send RecipientMailsPerHour mails.
func TestRecipientMailLimitRace(t *testing.T) {
	e := newEnv(t)
	for i := range 10 {
		e.register(t, fmt.Sprintf("racer%d", i), fmt.Sprintf("target+%d@example.com", i), "right-password")
	}
	var sent atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, _, err := e.svc.RequestOTP(ctx, fmt.Sprintf("racer%d", i)); err == nil {
				sent.Add(1)
			} else if account.ErrorCode(err) != account.CodeTooManyAttempts {
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	if int(sent.Load()) != account.DefaultRecipientMailsPerHour || len(e.mailer.OTPs) != account.DefaultRecipientMailsPerHour {
		t.Fatalf("%d of 10 racing requests sent a mail (%d mails)", sent.Load(), len(e.mailer.OTPs))
	}
}

// The installation's budget refuses every mail past it until the hour is over, and a
// refused request costs the account nothing (its own limit would otherwise make it wait a
// minute).
func TestMailBudget(t *testing.T) {
	e := newEnv(t)
	e.svc.MailBudgetPerHour = 4
	e.advance(30 * time.Minute)
	for i := range 6 {
		name := fmt.Sprintf("member%d", i)
		e.register(t, name, name+"@example.com", "right-password")
		_, _, err := e.svc.RequestOTP(ctx, name)
		if i < 4 {
			if err != nil {
				t.Fatalf("mail %d: %v", i+1, err)
			}
			continue
		}
		throttled(t, err, 30*time.Minute)
	}
	if len(e.mailer.OTPs) != 4 {
		t.Fatalf("%d mails sent, budget 4", len(e.mailer.OTPs))
	}
	e.svc.MailBudgetPerHour = 5
	if _, _, err := e.svc.RequestOTP(ctx, "member5"); err != nil {
		t.Fatalf("a refused request counted on the account: %v", err)
	}
}

package ses

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/gatehouse/gatehouse/pkg/account"
)

type recorder struct{ in *sesv2.SendEmailInput }

func (r *recorder) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	r.in = in
	return &sesv2.SendEmailOutput{}, nil
}

func TestOTPMail(t *testing.T) {
	r := &recorder{}
	m := New(r, "no-reply@example.com")
	err := m.SendOTP(context.Background(), account.OTPMail{To: "bob@example.com", Code: "012345", ValidFor: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	in := r.in
	if *in.FromEmailAddress != "no-reply@example.com" || in.Destination.ToAddresses[0] != "bob@example.com" || len(in.Destination.ToAddresses) != 1 {
		t.Fatalf("addresses %+v", in)
	}
	msg := in.Content.Simple
	text, html := *msg.Body.Text.Data, *msg.Body.Html.Data
	if *msg.Subject.Data != otpSubject || !strings.Contains(text, "012345") || !strings.Contains(html, "012345") {
		t.Fatal("code missing")
	}
	if !strings.Contains(text, "15 minutes") || !strings.HasPrefix(text, "Hello,\n") || !strings.Contains(html, "<p>Hello,</p>") {
		t.Fatalf("text body: %s", text)
	}
	if strings.Contains(text, "{{") || strings.Contains(html, "{{") {
		t.Fatal("unfilled placeholder")
	}
}

func TestResetMail(t *testing.T) {
	r := &recorder{}
	token := "0b7e9a3c-6f3e-4d6b-9c39-1c2b3d4e5f60"
	if err := New(r, "s@example.com").SendResetToken(context.Background(), account.ResetMail{To: "a@example.com", Token: token, ValidFor: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	msg := r.in.Content.Simple
	text, html := *msg.Body.Text.Data, *msg.Body.Html.Data
	for _, body := range []string{text, html} {
		if !strings.Contains(body, token) || !strings.Contains(body, "30 minutes") || !strings.Contains(body, "/user/password-reset") {
			t.Fatalf("body: %s", body)
		}
	}
	if *msg.Subject.Data != resetSubject {
		t.Fatal(*msg.Subject.Data)
	}
}

func TestMinutes(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Second: "1", 15 * time.Minute: "15", 30*time.Minute - time.Second: "30", 90 * time.Second: "2"} {
		if got := minutes(d); got != want {
			t.Errorf("minutes(%v) = %s, want %s", d, got, want)
		}
	}
}

// Mails hold no text a user chose (issue 12, item 6): every placeholder of every template is
// one the mailer fills with a code, a token or a lifetime, never a username or a name.
func TestTemplatesHoldNoUserText(t *testing.T) {
	// link is the operator's APP_URL with the token; hours a lifetime.
	allowed := map[string]bool{"code": true, "token": true, "minutes": true, "hours": true, "link": true}
	for name, body := range templates {
		for rest := body; ; {
			i := strings.Index(rest, "{{")
			if i < 0 {
				break
			}
			j := strings.Index(rest[i:], "}}")
			if j < 0 {
				t.Fatalf("%s: unterminated placeholder", name)
			}
			if ph := rest[i+2 : i+j]; !allowed[ph] {
				t.Errorf("%s: placeholder {{%s}} is not a code, token or lifetime", name, ph)
			}
			rest = rest[i+j:]
		}
	}
}

// Mail goes through the configured SES configuration set, and without one when none is set.
func TestConfigurationSet(t *testing.T) {
	r := &recorder{}
	mail := account.OTPMail{To: "a@example.com", Code: "012345", ValidFor: time.Minute}
	if err := New(r, "s@example.com").WithConfigurationSet("gatehouse-mail").SendOTP(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	if r.in.ConfigurationSetName == nil || *r.in.ConfigurationSetName != "gatehouse-mail" {
		t.Fatalf("ConfigurationSetName %v", r.in.ConfigurationSetName)
	}
	if err := New(r, "s@example.com").WithConfigurationSet("").SendOTP(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	if r.in.ConfigurationSetName != nil {
		t.Fatalf("ConfigurationSetName %q without a configuration set", *r.in.ConfigurationSetName)
	}
}

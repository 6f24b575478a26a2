// Package ses implements account.Mailer on Amazon SES v2, rendering each mail as text and
// HTML from the templates in this package.
package ses

import (
	"context"
	"embed"
	"fmt"
	htmlpkg "html"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/invocation"
)

// API is the part of the SES v2 client the mailer uses.
type API interface {
	SendEmail(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

//go:embed templates
var files embed.FS

// The templates are small and fixed, so they use plain {{name}} placeholders filled by a
// replacer rather than text/template and html/template: those reach methods by
// reflection, which keeps the linker from dropping unused code and grows every binary
// that sends mail by megabytes. Values are HTML-escaped for the HTML body; placeholders
// only ever stand in element text, where escaping is all that is needed.
var templates = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{"otp.txt", "otp.html", "reset.txt", "reset.html", "verify.txt", "verify.html", "emailchange.txt", "emailchange.html"} {
		b, err := files.ReadFile("templates/" + name)
		if err != nil {
			panic(err)
		}
		m[name] = string(b)
	}
	return m
}()

// Subjects are fixed ASCII text: SES requires 7-bit subjects, and no user input goes there.
const (
	otpSubject    = "Your Gatehouse one-time password"
	resetSubject  = "Reset your Gatehouse password"
	verifySubject = "Confirm your Gatehouse email address"
	noticeSubject = "Your Gatehouse email address is being changed"
)

// Mailer sends Gatehouse's mails from one sender address.
type Mailer struct {
	api    API
	sender string

	configSet string // SES configuration set of every mail; "" for none
}

var _ account.Mailer = (*Mailer)(nil)

// New returns a Mailer sending from sender (a verified SES identity).
func New(api API, sender string) *Mailer { return &Mailer{api: api, sender: sender} }

// WithConfigurationSet makes every mail go through the SES configuration set name (its
// suppression list drops addresses that bounced or complained); "" sends without one.
func (m *Mailer) WithConfigurationSet(name string) *Mailer {
	m.configSet = name
	return m
}

// NewClient builds the SES v2 client from an AWS config (once per cold start), with an
// optional endpoint override (nil for AWS's own).
func NewClient(cfg aws.Config, endpoint *string) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = endpoint })
}

// SendOTP sends the one-time password mail.
func (m *Mailer) SendOTP(ctx context.Context, msg account.OTPMail) error {
	return m.send(ctx, msg.To, otpSubject, "otp", map[string]string{
		"code": msg.Code, "minutes": minutes(msg.ValidFor),
	})
}

// SendResetToken sends the password reset token mail.
func (m *Mailer) SendResetToken(ctx context.Context, msg account.ResetMail) error {
	return m.send(ctx, msg.To, resetSubject, "reset", map[string]string{
		"token": msg.Token, "minutes": minutes(msg.ValidFor),
	})
}

// SendVerification sends the email verification mail. Without a link (no APP_URL) the
// text's link line carries the token-only instructions alone.
func (m *Mailer) SendVerification(ctx context.Context, msg account.VerifyMail) error {
	link := msg.Link
	if link == "" {
		link = "(no link: send the token below)"
	}
	hours := strconv.Itoa(max(1, int((msg.ValidFor+time.Hour-1)/time.Hour)))
	return m.send(ctx, msg.To, verifySubject, "verify", map[string]string{"token": msg.Token, "link": link, "hours": hours})
}

// SendEmailChangeNotice tells the old address of an email change; it carries no link.
func (m *Mailer) SendEmailChangeNotice(ctx context.Context, msg account.EmailChangeNotice) error {
	return m.send(ctx, msg.To, noticeSubject, "emailchange", nil)
}

// Render returns the text and HTML bodies of template name with vars filled in.
func Render(name string, vars map[string]string) (text, html string, err error) {
	t, okT := templates[name+".txt"]
	h, okH := templates[name+".html"]
	if !okT || !okH {
		return "", "", fmt.Errorf("no mail template %q", name)
	}
	plain := make([]string, 0, 2*len(vars))
	escaped := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		plain = append(plain, "{{"+k+"}}", v)
		escaped = append(escaped, "{{"+k+"}}", htmlpkg.EscapeString(v))
	}
	return strings.NewReplacer(plain...).Replace(t), strings.NewReplacer(escaped...).Replace(h), nil
}

// minutes renders a lifetime in whole minutes, rounded up, so that a short lifetime
// (OTP_TTL=30s) never reads "0 minutes".
func minutes(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Minute-1)/time.Minute)))
}

func (m *Mailer) send(ctx context.Context, to, subject, name string, vars map[string]string) error {
	text, html, err := Render(name, vars)
	if err != nil {
		return err
	}
	utf8 := aws.String("UTF-8")
	start := time.Now()
	defer func() { invocation.From(ctx).AddMail(time.Since(start)) }()
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.sender),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: utf8},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(text), Charset: utf8},
				Html: &types.Content{Data: aws.String(html), Charset: utf8},
			},
		}},
	}
	if m.configSet != "" {
		in.ConfigurationSetName = aws.String(m.configSet)
	}
	_, err = m.api.SendEmail(ctx, in)
	if err != nil {
		return m.classify(name, err)
	}
	return nil
}

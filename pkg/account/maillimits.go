package account

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/pkg/config/defaults"
)

// Mail limits beyond the account's own (API.md, "Further limits"): the per-account limits
// do not stop ten accounts on aliases of one stranger's address from mailing it ten times,
// nor many accounts from spending the installation's SES reputation.
const (
	DefaultRecipientMailsPerHour = defaults.RecipientMailsPerHour
	DefaultMailBudgetPerHour     = defaults.MailBudgetPerHour
)

// MailQuota is one mail to count against the hourly counters of its recipient and of the
// installation. Both count per clock hour (UTC), so one conditional write each keeps them
// exact under any concurrency.
type MailQuota struct {
	Recipient    string    // RecipientKey of the address
	Hour         time.Time // start of the clock hour the mail counts in
	PerRecipient int       // most mails to one recipient in the hour
	Budget       int       // most mails of the installation in the hour
}

// mailQuota is the quota a mail to a's address sent at now takes.
func (s *Service) mailQuota(a *Account, now time.Time) MailQuota {
	return MailQuota{
		Recipient:    RecipientKey(a.EmailKey),
		Hour:         now.UTC().Truncate(time.Hour),
		PerRecipient: s.RecipientMailsPerHour,
		Budget:       s.MailBudgetPerHour,
	}
}

// quotaRefused answers a mail the recipient's or the installation's counter refused: 429
// until the hour is over. Which limit it was is for operators (a spent budget refuses
// everyone); the client's answer is the same.
func (s *Service) quotaRefused(ctx context.Context, a *Account, now time.Time, err error) error {
	s.Log.WarnContext(ctx, "mail limit reached", "user_id", a.UserID, "error", err.Error())
	return tooMany(now.UTC().Truncate(time.Hour).Add(time.Hour).Sub(now))
}

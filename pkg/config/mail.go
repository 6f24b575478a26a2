package config

import "regexp"

// sesName is what SES allows as a configuration set name.
var sesName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// mailLimits reads the per-recipient and installation mail limits and the SES
// configuration set.
func mailLimits(getenv func(string) string, c *Config, uintVar func(string, *uint32, uint64), fail func(string, ...any)) {
	recipient, budget := uint32(c.RecipientMailsPerHour), uint32(c.MailBudgetPerHour)
	uintVar("RECIPIENT_MAILS_PER_HOUR", &recipient, 1000)
	uintVar("MAIL_BUDGET_PER_HOUR", &budget, 1_000_000)
	c.RecipientMailsPerHour, c.MailBudgetPerHour = int(recipient), int(budget)
	if c.SESConfigurationSet = getenv("SES_CONFIGURATION_SET"); c.SESConfigurationSet != "" && !sesName.MatchString(c.SESConfigurationSet) {
		fail("SES_CONFIGURATION_SET %q must be 1 to 64 letters, digits, _ or -", c.SESConfigurationSet)
	}
}

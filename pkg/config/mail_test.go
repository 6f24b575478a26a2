package config

import (
	"strings"
	"testing"
)

func TestMailLimitSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"TABLE_NAME": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RecipientMailsPerHour != 3 || c.MailBudgetPerHour != 1000 || c.SESConfigurationSet != "" {
		t.Fatalf("defaults %+v", c)
	}
	c, err = Load(env(map[string]string{"TABLE_NAME": "t", "RECIPIENT_MAILS_PER_HOUR": "5", "MAIL_BUDGET_PER_HOUR": "20000", "SES_CONFIGURATION_SET": "gatehouse-Mail_1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RecipientMailsPerHour != 5 || c.MailBudgetPerHour != 20000 || c.SESConfigurationSet != "gatehouse-Mail_1" {
		t.Fatalf("values %+v", c)
	}
	_, err = Load(env(map[string]string{"TABLE_NAME": "t", "RECIPIENT_MAILS_PER_HOUR": "0", "MAIL_BUDGET_PER_HOUR": "many", "SES_CONFIGURATION_SET": "no spaces"}))
	for _, name := range []string{"RECIPIENT_MAILS_PER_HOUR", "MAIL_BUDGET_PER_HOUR", "SES_CONFIGURATION_SET"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

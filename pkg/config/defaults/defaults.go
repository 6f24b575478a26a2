// Package defaults holds the default of every Gatehouse setting that has one, defined
// once: pkg/config's settings table (the environment, the template parameters, the README)
// and pkg/account's Config (what a zero field means) both take them from here. It imports
// nothing of Gatehouse, so any package can.
package defaults

import "time"

const (
	AllowRegistration     = true
	SessionTTL            = 7 * 24 * time.Hour
	OTPTTL                = 15 * time.Minute
	ResetTTL              = 30 * time.Minute
	MailInterval          = time.Minute // least time between two mails to one account
	MailPerHour           = 5           // most mails to one account an hour
	RecipientMailsPerHour = 3           // most mails to one recipient address a clock hour
	MailBudgetPerHour     = 1000        // most mails of the installation a clock hour
	OTPFailuresPerDay     = 10          // wrong codes and reset-token guesses per account per 24 h
	IPFailedChecksPerHour = 100         // failed checks per source network per clock hour
	LogLevel              = "INFO"
	AuditTTL              = 90 * 24 * time.Hour // how long stored audit events are kept
)

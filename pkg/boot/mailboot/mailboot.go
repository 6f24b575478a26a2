// Package mailboot is boot.Init for the functions that send mail: it also requires the
// sender address and hands the service an SES mailer. It is a package of its own so that
// the other functions never link the SES client.
package mailboot

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/config"
	"github.com/gatehouse/gatehouse/pkg/ses"
)

// Init builds the Runtime with an SES mailer sending from SENDER_EMAIL through the
// configuration set SES_CONFIGURATION_SET (when set).
func Init() *boot.Runtime { return boot.InitWith(Mailer, config.NeedMail) }

// Mailer is the SES mailer of cfg.
func Mailer(cfg *config.Config, awsCfg aws.Config, getenv func(string) string) account.Mailer {
	client := ses.NewClient(awsCfg, awsenv.Endpoint(getenv, sesv2.ServiceID))
	return ses.New(client, cfg.SenderEmail).WithConfigurationSet(cfg.SESConfigurationSet)
}

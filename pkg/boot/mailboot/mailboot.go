// Package mailboot is boot.Init for the functions that send mail: it also requires the
// sender address and attaches the SES mailer. It is a package of its own so that the
// other functions never link the SES client.
package mailboot

import (
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/config"
	"github.com/gatehouse/gatehouse/pkg/ses"
)

// Init builds the Runtime with an SES mailer sending from SENDER_EMAIL through the
// configuration set SES_CONFIGURATION_SET (when set).
func Init() *boot.Runtime {
	rt := boot.Init(config.NeedMail)
	client := ses.NewClient(rt.AWS, awsenv.Endpoint(rt.Getenv, sesv2.ServiceID))
	rt.Service.Mailer = ses.New(client, rt.Config.SenderEmail).WithConfigurationSet(rt.Config.SESConfigurationSet)
	return rt
}

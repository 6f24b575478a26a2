// Command user-password-reset-token is the Lambda function of POST /user/password-reset-token.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/gatehouse/gatehouse/pkg/api/user"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/config"
	"github.com/gatehouse/gatehouse/pkg/ses"
)

func main() {
	rt := boot.Init(config.NeedMail)
	rt.Service.Mailer = ses.New(ses.NewClient(rt.AWS, awsenv.Endpoint(rt.Getenv, sesv2.ServiceID)), rt.Config.SenderEmail)
	h := user.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.PasswordResetToken))
}

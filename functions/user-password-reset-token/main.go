// Command user-password-reset-token is the Lambda function of POST /user/password-reset-token.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/user"
	"github.com/gatehouse/gatehouse/pkg/boot/mailboot"
)

func main() {
	rt := mailboot.Init()
	h := user.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.PasswordResetToken))
}

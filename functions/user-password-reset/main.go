// Command user-password-reset is the Lambda function of POST /user/password-reset.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/user"
	"github.com/gatehouse/gatehouse/pkg/boot"
)

func main() {
	rt := boot.Init()
	h := user.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.PasswordReset))
}

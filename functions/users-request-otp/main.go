// Command users-request-otp is the Lambda function of POST and GET /users/requestotp.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/users"
	"github.com/gatehouse/gatehouse/pkg/boot/mailboot"
)

func main() {
	rt := mailboot.Init()
	h := users.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.RequestOTP))
}

// Command account-register is the Lambda function of POST /api/user/v1/register.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	accountv1 "github.com/gatehouse/gatehouse/pkg/api/v1"
	"github.com/gatehouse/gatehouse/pkg/boot"
)

func main() {
	rt := boot.Init()
	h := accountv1.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.Register))
}

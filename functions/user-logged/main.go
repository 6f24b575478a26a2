// Command user-logged is the Lambda function of GET /user/logged.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/user"
	"github.com/gatehouse/gatehouse/pkg/boot"
)

func main() {
	rt := boot.Init()
	h := user.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.Logged))
}

// Command user-profile is the Lambda function of GET /user/profile/{username}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/user"
	"github.com/gatehouse/gatehouse/pkg/boot"
)

func main() {
	rt := boot.Init()
	h := user.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.Profile))
}

// Command admin-refresh-token is the Lambda function of POST /api/v2/users/{username}/refresh.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/admin"
	"github.com/gatehouse/gatehouse/pkg/boot/adminboot"
)

func main() {
	rt := adminboot.Init()
	h := admin.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.RefreshToken))
}

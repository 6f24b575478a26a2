// Command users-login is the Lambda function of POST /users/login and POST /login (MMDL's path).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/users"
	"github.com/gatehouse/gatehouse/pkg/boot"
)

func main() {
	rt := boot.Init()
	h := users.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.Login))
}

// Command admin-delete-user is the Lambda function of DELETE /api/v2/users/{username}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/admin"
	"github.com/gatehouse/gatehouse/pkg/boot/adminboot"
)

func main() {
	rt := adminboot.Init()
	h := admin.New(rt.Service, rt.Log)
	lambda.Start(h.Lambda(h.DeleteUser))
}

// Command session-authorizer is the HTTP API Lambda authorizer other stacks attach
// (SessionAuthorizerFunction); it has no route of its own.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/gatehouse/gatehouse/pkg/api/authorizer"
	"github.com/gatehouse/gatehouse/pkg/boot"
)

func main() {
	rt := boot.Init()
	lambda.Start(authorizer.New(rt.Service, rt.Log).Lambda)
}

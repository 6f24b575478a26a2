// Command hello-world is a second test Lambda of the local stack's own tests: it proves
// that the stack builds and routes more than one function.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
			Body:       "hello " + ev.PathParameters["name"],
		}, nil
	})
}

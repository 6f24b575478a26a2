// Package awsenv builds the AWS SDK configuration of a Lambda function from its
// environment, which is where Lambda puts the region and the execution role's
// credentials. The SDK's config package would find the same values the same way (its
// environment provider comes first in the chain), but it links the SSO, STS and IMDS
// clients as well, which costs about 2 MB per binary and nothing is gained on Lambda.
// Tools that run outside Lambda use the SDK's full credential chain instead.
package awsenv

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// Config returns an aws.Config with the region and credentials of the environment, and
// with timeouts and retries that fit in a function's timeout (bounds.go).
func Config(getenv func(string) string, log logging.Logger) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	var missing []string
	if region == "" {
		missing = append(missing, "AWS_REGION")
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID")
	}
	if secret == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY")
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("aws environment: %w", errors.New(strings.Join(missing, ", ")+" not set"))
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
		Logger:      log,
	}
	if err := bound(&cfg, getenv); err != nil {
		return aws.Config{}, fmt.Errorf("aws environment: %w", err)
	}
	return cfg, nil
}

// Endpoint returns the endpoint override for a service, as the SDK's config package reads
// it: AWS_ENDPOINT_URL_<SERVICE ID> (upper case, spaces as underscores), else
// AWS_ENDPOINT_URL. The local stack uses it to point the functions at its emulators.
func Endpoint(getenv func(string) string, serviceID string) *string {
	id := strings.ToUpper(strings.ReplaceAll(serviceID, " ", "_"))
	if v := getenv("AWS_ENDPOINT_URL_" + id); v != "" {
		return aws.String(v)
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		return aws.String(v)
	}
	return nil
}

package main

import (
	"context"
	"flag"
	"net"
	"net/url"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// The local stack's defaults (make run): DynamoDB Local on this port, this table. They are
// repeated here rather than imported, so the command does not link the local stack.
const (
	localDynamoDBPort = 8000
	localTable        = "gatehouse-local"
	localRegion       = "us-east-1"
)

// localOptions returns the SDK options for DynamoDB Local, which checks neither the region
// nor the credentials: with --local (endpoint http://127.0.0.1:PORT), or when
// AWS_ENDPOINT_URL_DYNAMODB already names a loopback address. Nothing changes for AWS.
func localOptions(local bool, port int) (opts []func(*config.LoadOptions) error, endpoint string) {
	endpoint = os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if local {
		endpoint = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	} else if !isLoopbackURL(endpoint) {
		return nil, ""
	}
	opts = append(opts,
		config.WithRegion(localRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
	)
	return opts, endpoint
}

func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// withEndpoint points the client at endpoint ("" keeps the SDK's own resolution).
func withEndpoint(endpoint string) *string {
	if endpoint == "" {
		return nil
	}
	return aws.String(endpoint)
}

// target is where every command works: the stack's table (--table, --region) or the local
// stack's (--local, --dynamodb-port).
type target struct {
	table, region string
	local         bool
	dynamoPort    int
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.table, "table", "", "")
	fs.StringVar(&t.region, "region", "", "")
	fs.BoolVar(&t.local, "local", false, "")
	fs.IntVar(&t.dynamoPort, "dynamodb-port", localDynamoDBPort, "")
}

// dial loads the AWS configuration (it fetches no credentials yet) and builds the client.
func (t *target) dial() (aws.Config, *dynamodb.Client, error) {
	loadOpts, localEndpoint := localOptions(t.local, t.dynamoPort)
	if t.region != "" {
		loadOpts = append(loadOpts, config.WithRegion(t.region))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), loadOpts...)
	if err != nil {
		return aws.Config{}, nil, failf("AWS configuration: %v", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, nil, usageError("no AWS region: pass --region or set AWS_REGION")
	}
	// The client is built from the config as is (not with dynamo.NewClient's endpoint
	// override), so the SDK's own endpoint settings, AWS_ENDPOINT_URL_DYNAMODB among them,
	// apply.
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
		if e := withEndpoint(localEndpoint); e != nil {
			o.BaseEndpoint = e
		}
	})
	return cfg, client, nil
}

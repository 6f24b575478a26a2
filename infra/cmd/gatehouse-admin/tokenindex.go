package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/boot/adminboot"
	gconfig "github.com/gatehouse/gatehouse/pkg/config"
)

// tokenIndexKey is the stack's token-index key from the same source the admin functions
// use: TOKEN_INDEX_KEY_ARN (the stack output TokenIndexKeySecretArn, read from Secrets
// Manager with the tool's AWS credentials) or TOKEN_INDEX_KEY (the local stack's key, in
// .local/dynamodb/token-index-key). Neither set: nil, and the tool sets no token (creating
// or promoting an admin with a password needs none).
func tokenIndexKey(ctx context.Context, cfg aws.Config, getenv func(string) string) ([]byte, error) {
	c := &gconfig.Config{TokenIndexKeyARN: getenv("TOKEN_INDEX_KEY_ARN"), TokenIndexKey: getenv("TOKEN_INDEX_KEY")}
	if c.TokenIndexKeyARN == "" && c.TokenIndexKey == "" {
		return nil, nil
	}
	if c.TokenIndexKeyARN != "" && c.TokenIndexKey != "" {
		return nil, failf("TOKEN_INDEX_KEY_ARN and TOKEN_INDEX_KEY are both set: set only one")
	}
	key, err := adminboot.TokenIndexKey(ctx, c, func() adminboot.SecretsAPI { return secretsmanager.NewFromConfig(cfg) })
	if err != nil {
		return nil, failf("%v", err)
	}
	if len(key) < account.MinTokenIndexKey {
		return nil, failf("TOKEN_INDEX_KEY must be at least %d characters", account.MinTokenIndexKey)
	}
	return key, nil
}

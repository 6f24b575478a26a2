// Package adminboot is boot.Init for the admin functions: it also requires the token-index
// key (config.NeedTokenIndexKey) and gives it to the account service, reading it once per
// cold start from Secrets Manager on a deployed stack. It is a package of its own so that
// the other functions never link the Secrets Manager client.
package adminboot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/boot"
	"github.com/gatehouse/gatehouse/pkg/config"
	"github.com/gatehouse/gatehouse/pkg/logging"
)

// fetchTimeout bounds the one Secrets Manager call of a cold start.
const fetchTimeout = 5 * time.Second

// Init builds the Runtime with the token-index key, or logs why not and exits (an init
// error, like any configuration problem).
func Init() *boot.Runtime {
	rt := boot.Init(config.NeedTokenIndexKey)
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	key, err := TokenIndexKey(ctx, rt.Config, func() SecretsAPI { return NewClient(rt.AWS, rt.Getenv) })
	if err != nil {
		logging.New(os.Stdout, slog.LevelInfo).Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	rt.Service.TokenIndexKey = key
	return rt
}

// SecretsAPI is the part of the Secrets Manager client the key needs.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// NewClient builds the Secrets Manager client, honouring AWS_ENDPOINT_URL_SECRETS_MANAGER.
func NewClient(cfg aws.Config, getenv func(string) string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = awsenv.Endpoint(getenv, secretsmanager.ServiceID)
	})
}

// TokenIndexKey returns the key of a validated configuration: TOKEN_INDEX_KEY as given, or
// the string of the secret TOKEN_INDEX_KEY_ARN names (client is only called then). The
// error never contains the key.
func TokenIndexKey(ctx context.Context, cfg *config.Config, client func() SecretsAPI) ([]byte, error) {
	if cfg.TokenIndexKey != "" {
		return []byte(cfg.TokenIndexKey), nil
	}
	if cfg.TokenIndexKeyARN == "" {
		return nil, fmt.Errorf("token index key: neither TOKEN_INDEX_KEY_ARN nor TOKEN_INDEX_KEY is set")
	}
	out, err := client().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(cfg.TokenIndexKeyARN)})
	if err != nil {
		return nil, fmt.Errorf("token index key: read secret %s: %w", cfg.TokenIndexKeyARN, err)
	}
	v := aws.ToString(out.SecretString)
	if len(v) < account.MinTokenIndexKey {
		return nil, fmt.Errorf("token index key: secret %s holds no string of at least %d characters", cfg.TokenIndexKeyARN, account.MinTokenIndexKey)
	}
	return []byte(v), nil
}

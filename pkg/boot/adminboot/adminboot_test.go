package adminboot

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/gatehouse/gatehouse/pkg/config"
)

type fakeSecrets struct {
	calls  int
	asked  string
	secret *string
	err    error
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	f.asked = aws.ToString(in.SecretId)
	return &secretsmanager.GetSecretValueOutput{SecretString: f.secret}, f.err
}

func TestTokenIndexKey(t *testing.T) {
	ctx := context.Background()
	arn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tik-AbCdEf"
	generated := strings.Repeat("Ab3", 20) // letters and digits, as GenerateSecretString makes them

	// The local key is used as is, without asking Secrets Manager.
	f := &fakeSecrets{}
	key, err := TokenIndexKey(ctx, &config.Config{TokenIndexKey: strings.Repeat("k", 32)}, func() SecretsAPI { return f })
	if err != nil || string(key) != strings.Repeat("k", 32) || f.calls != 0 {
		t.Fatalf("local key: %q %v, %d calls", key, err, f.calls)
	}
	// The deployed key is the secret's string.
	f = &fakeSecrets{secret: aws.String(generated)}
	key, err = TokenIndexKey(ctx, &config.Config{TokenIndexKeyARN: arn}, func() SecretsAPI { return f })
	if err != nil || string(key) != generated || f.calls != 1 || f.asked != arn {
		t.Fatalf("secret: %q %v, %d calls for %q", key, err, f.calls, f.asked)
	}
	// A failed read or an unusable secret is a startup error that names the secret and
	// never shows its value.
	f = &fakeSecrets{err: errors.New("AccessDeniedException")}
	if _, err := TokenIndexKey(ctx, &config.Config{TokenIndexKeyARN: arn}, func() SecretsAPI { return f }); err == nil || !strings.Contains(err.Error(), arn) {
		t.Fatalf("denied: %v", err)
	}
	f = &fakeSecrets{secret: aws.String("tiny-secret")}
	if _, err := TokenIndexKey(ctx, &config.Config{TokenIndexKeyARN: arn}, func() SecretsAPI { return f }); err == nil || strings.Contains(err.Error(), "tiny-secret") {
		t.Fatalf("short secret: %v", err)
	}
	f = &fakeSecrets{}
	if _, err := TokenIndexKey(ctx, &config.Config{TokenIndexKeyARN: arn}, func() SecretsAPI { return f }); err == nil {
		t.Fatal("binary-only secret accepted")
	}
}

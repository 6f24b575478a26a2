package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestTokenIndexKeySource(t *testing.T) {
	ctx := context.Background()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	key := strings.Repeat("k", 40)
	if k, err := tokenIndexKey(ctx, aws.Config{}, env(nil)); k != nil || err != nil {
		t.Fatalf("neither set: %q %v", k, err)
	}
	if k, err := tokenIndexKey(ctx, aws.Config{}, env(map[string]string{"TOKEN_INDEX_KEY": key})); string(k) != key || err != nil {
		t.Fatalf("local key: %q %v", k, err)
	}
	for what, m := range map[string]map[string]string{
		"both":  {"TOKEN_INDEX_KEY": key, "TOKEN_INDEX_KEY_ARN": "arn:aws:secretsmanager:eu-west-1:1:secret:x"},
		"short": {"TOKEN_INDEX_KEY": "short-key"},
	} {
		if _, err := tokenIndexKey(ctx, aws.Config{}, env(m)); err == nil || strings.Contains(err.Error(), "short-key") {
			t.Errorf("%s: %v", what, err)
		}
	}
}

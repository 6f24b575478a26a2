package config

import (
	"strings"
	"testing"
)

func TestTokenIndexKey(t *testing.T) {
	key := strings.Repeat("k", 32)
	arn := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse-token-index-AbCdEf"
	for _, tc := range []struct {
		name     string
		env      map[string]string
		wantErr  string // "" = accepted
		wantKey  string
		wantARN  string
		needless bool // loaded without NeedTokenIndexKey
	}{
		{name: "key", env: map[string]string{"TOKEN_INDEX_KEY": key}, wantKey: key},
		{name: "arn", env: map[string]string{"TOKEN_INDEX_KEY_ARN": arn}, wantARN: arn},
		// The local stack blanks the template's ARN and passes the key.
		{name: "empty arn and key", env: map[string]string{"TOKEN_INDEX_KEY_ARN": "", "TOKEN_INDEX_KEY": key}, wantKey: key},
		{name: "neither", env: map[string]string{}, wantErr: "TOKEN_INDEX_KEY_ARN"},
		{name: "both", env: map[string]string{"TOKEN_INDEX_KEY": key, "TOKEN_INDEX_KEY_ARN": arn}, wantErr: "both set"},
		{name: "short key", env: map[string]string{"TOKEN_INDEX_KEY": "short"}, wantErr: "TOKEN_INDEX_KEY must be at least 32"},
		{name: "not an arn", env: map[string]string{"TOKEN_INDEX_KEY_ARN": "TokenIndexKeySecret"}, wantErr: "not the ARN"},
		{name: "other service", env: map[string]string{"TOKEN_INDEX_KEY_ARN": "arn:aws:ssm:eu-west-1:1:parameter/x"}, wantErr: "not the ARN"},
		{name: "not needed", env: map[string]string{}, needless: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["TABLE_NAME"] = "t"
			var opts []Option
			if !tc.needless {
				opts = append(opts, NeedTokenIndexKey)
			}
			c, err := Load(env(tc.env), opts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "short") && tc.name == "short key" {
					t.Fatalf("the error shows the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.TokenIndexKey != tc.wantKey || c.TokenIndexKeyARN != tc.wantARN {
				t.Fatalf("key %q arn %q", c.TokenIndexKey, c.TokenIndexKeyARN)
			}
		})
	}
}

package stack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The admin functions' token-index key. A deployed stack keeps it in Secrets Manager and
// passes its ARN (TOKEN_INDEX_KEY_ARN); the local stack has no Secrets Manager, so it
// passes a generated key itself (TOKEN_INDEX_KEY) to the functions the template gives the
// ARN. With DynamoDB data on disk the key is kept next to that data, so the Bearer tokens
// of `make run` keep working across restarts, and `make reset-local` removes both.

// TokenIndexKeyFile is the key's file in the DynamoDB data directory.
const TokenIndexKeyFile = "token-index-key"

// setTokenIndexKey settles the key: Options.TokenIndexKey, the one kept in the data
// directory, or a new one for a stack in memory.
func (b *backends) setTokenIndexKey() error {
	switch {
	case b.opts.TokenIndexKey != "":
		b.tokenIndexKey = b.opts.TokenIndexKey
	case b.opts.DynamoDBDataDir != "":
		key, err := LoadOrCreateTokenIndexKey(b.opts.DynamoDBDataDir)
		if err != nil {
			return err
		}
		b.tokenIndexKey = key
	default:
		b.tokenIndexKey = newTokenIndexKey()
	}
	return nil
}

// LoadOrCreateTokenIndexKey returns the key kept in dir, creating dir and the key (readable
// by its owner only) when missing.
func LoadOrCreateTokenIndexKey(dir string) (string, error) {
	path := filepath.Join(dir, TokenIndexKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < 32 {
			return "", fmt.Errorf("%s: the token-index key is too short (delete the file to make a new one; tokens must then be set again)", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("token-index key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("token-index key: %w", err)
	}
	key := newTokenIndexKey()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("token-index key: %w", err)
	}
	return key, nil
}

// newTokenIndexKey returns 256 random bits in hex.
func newTokenIndexKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// localTokenIndexEnv gives the key itself to the functions the template gives the ARN.
func localTokenIndexEnv(env map[string]string, key string) {
	if _, ok := env["TOKEN_INDEX_KEY_ARN"]; ok {
		env["TOKEN_INDEX_KEY_ARN"] = ""
		env["TOKEN_INDEX_KEY"] = key
	}
}

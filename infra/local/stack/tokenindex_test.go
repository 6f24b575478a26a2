package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// TestTokenIndexKeyKept: the key of a stack with data on disk survives a restart, lives
// with the data, and only the owner can read it.
func TestTokenIndexKeyKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dynamodb")
	first, err := LoadOrCreateTokenIndexKey(dir)
	if err != nil || len(first) != 64 {
		t.Fatalf("key %q, %v", first, err)
	}
	again, err := LoadOrCreateTokenIndexKey(dir)
	if err != nil || again != first {
		t.Fatalf("after a restart %q, %v; want %q", again, err, first)
	}
	fi, err := os.Stat(filepath.Join(dir, TokenIndexKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if other, _ := LoadOrCreateTokenIndexKey(t.TempDir()); other == first {
		t.Fatal("two data directories share a key")
	}
	if err := os.WriteFile(filepath.Join(dir, TokenIndexKeyFile), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateTokenIndexKey(dir); err == nil {
		t.Fatal("a short key accepted")
	}
}

// TestTokenIndexKeyEnv: the functions the template gives the secret's ARN get the key
// itself, with the ARN blanked (config refuses both at once); the others get neither.
func TestTokenIndexKeyEnv(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := testGateway(t, tmpl, Options{TokenIndexKey: "k", TableName: "t"})
	withKey := 0
	for _, fn := range tmpl.Functions {
		env, err := s.functionEnv(fn)
		if err != nil {
			t.Fatal(err)
		}
		_, arn := fn.Environment["TOKEN_INDEX_KEY_ARN"]
		if arn != (env["TOKEN_INDEX_KEY"] == "k") || env["TOKEN_INDEX_KEY_ARN"] != "" {
			t.Errorf("%s: TOKEN_INDEX_KEY %q, TOKEN_INDEX_KEY_ARN %q", fn.LogicalID, env["TOKEN_INDEX_KEY"], env["TOKEN_INDEX_KEY_ARN"])
		}
		if arn != strings.HasPrefix(fn.LogicalID, "Admin") {
			t.Errorf("%s: TOKEN_INDEX_KEY_ARN declared %v; the admin functions, and only they, need it", fn.LogicalID, arn)
		}
		if arn {
			withKey++
		}
	}
	if withKey == 0 {
		t.Fatal("no function gets the key")
	}
}

package password

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestCheckHash: CheckHash accepts what Verify can check (argon2id at any parameters in
// bounds, bcrypt of each prefix) and refuses the rest, without hashing.
func TestCheckHash(t *testing.T) {
	h, err := New(OWASP)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(Params{MemoryKiB: 64, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	argon, err := other.Hash("some password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bcrypt.GenerateFromPassword([]byte("some password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bc := string(b)
	for _, ok := range []string{argon, bc, strings.Replace(bc, "$2a$", "$2b$", 1), strings.Replace(bc, "$2a$", "$2y$", 1)} {
		if err := h.CheckHash(ok); err != nil {
			t.Errorf("%.12s…: %v", ok, err)
		}
	}
	salt := strings.Split(argon, "$")[4]
	for name, bad := range map[string]string{
		"md5":              "5f4dcc3b5aa765d61d8327deb882cf99",
		"argon2i":          strings.Replace(argon, "$argon2id$", "$argon2i$", 1),
		"argon2 v16":       strings.Replace(argon, "v=19", "v=16", 1),
		"argon2 huge m":    strings.Replace(argon, "m=64,", "m=99999999,", 1),
		"argon2 keyid":     strings.Replace(argon, "p=2", "p=2,keyid=x", 1),
		"argon2 bad salt":  strings.Replace(argon, salt, "!!!!"+salt[4:], 1),
		"argon2 short key": argon[:strings.LastIndex(argon, "$")] + "$AAAA",
		"bcrypt short":     bc[:59],
		"bcrypt cost 3":    strings.Replace(bc, "$04$", "$03$", 1),
		"bcrypt cost 32":   strings.Replace(bc, "$04$", "$32$", 1),
		"bcrypt alphabet":  bc[:59] + "!",
		"too long":         "$argon2id$" + strings.Repeat("a", 2000),
	} {
		if err := h.CheckHash(bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

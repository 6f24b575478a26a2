package password

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// CheckHash reports whether Verify can check passwords against hash, without hashing
// anything: an argon2id PHC string within Verify's bounds (any parameters; a login then
// rehashes it to the configured ones), or a bcrypt hash ($2a$, $2b$, $2y$) of a valid
// cost. An import uses it to refuse a hash no login could ever match.
func (h *Hasher) CheckHash(hash string) error {
	switch {
	case len(hash) > 1024:
		return errors.New("hash too long")
	case isBcrypt(hash):
		// bcrypt.Cost parses the version and the cost; the rest is 22 salt and 31 hash
		// characters of bcrypt's base64.
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return fmt.Errorf("bcrypt: %w", err)
		}
		if len(hash) != 60 || !bcryptAlphabet(hash[7:]) {
			return errors.New("malformed bcrypt hash")
		}
		return nil
	case !strings.HasPrefix(hash, "$argon2id$"):
		return errors.New("neither bcrypt nor argon2id")
	default:
		_, _, _, err := decode(hash)
		return err
	}
}

func bcryptAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && c != '/' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

package account

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// Limits of the shared rules (API.md, "Shared rules"), all counted in Unicode code points.
const (
	UsernameMin  = 3
	UsernameMax  = 100
	EmailMax     = 254
	PasswordMin  = 8
	PasswordMax  = 200
	NameMin      = 3
	NameMax      = 150
	BioMax       = 200
	WebsiteMax   = 200
	PronounceMax = 100
)

// Username is a validated username: the spelling kept for display and the canonical key
// that makes "Alice" and "alice" one account.
type Username struct {
	Display string // PRECIS UsernameCasePreserved: width-mapped, NFC, case kept
	Key     string // PRECIS UsernameCaseMapped (RFC 8265): what uniqueness and lookups use
}

// Hash is the account's userhash: lowercase hex SHA-256 of the canonical username.
func (u Username) Hash() string { return UserHash(u.Key) }

// UserHash is the lowercase hex SHA-256 of a canonical username.
func UserHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// ParseUsername checks the username rules in a fixed order (empty, white space, length,
// profile) so every API family reports the same first failure.
func ParseUsername(s string) (Username, error) {
	if s == "" {
		return Username{}, Invalid(FieldUsername, ReasonEmpty)
	}
	if !utf8.ValidString(s) {
		return Username{}, Invalid(FieldUsername, ReasonFormat)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return Username{}, Invalid(FieldUsername, ReasonWhitespace)
	}
	if n := utf8.RuneCountInString(s); n < UsernameMin || n > UsernameMax {
		return Username{}, Invalid(FieldUsername, ReasonLength)
	}
	display, err := precis.UsernameCasePreserved.String(s)
	if err != nil {
		return Username{}, Invalid(FieldUsername, ReasonFormat)
	}
	key, err := precis.UsernameCaseMapped.String(s)
	if err != nil || key == "" {
		return Username{}, Invalid(FieldUsername, ReasonFormat)
	}
	// Checked after the width mapping too: a fullwidth solidus becomes "/".
	if !pathSafe(s) || !pathSafe(display) {
		return Username{}, Invalid(FieldUsername, ReasonFormat)
	}
	return Username{Display: display, Key: key}, nil
}

// usernameForbidden are the characters a username cannot hold although PRECIS allows
// them: a name must be addressable as one path segment ({username} in the admin API, which
// API Gateway delivers decoded), and in query strings and URLs built from it.
const usernameForbidden = `/?#%\`

func pathSafe(s string) bool {
	return !strings.ContainsAny(s, usernameForbidden) && !hasControl(s)
}

// Email is a validated address: as given, and its key (uniqueness; see emailKey).
type Email struct {
	Address string
	Key     string
}

// ParseEmail accepts one bare address (name@domain.tld): no display name, no angle
// brackets, no comments, no control characters, at most EmailMax code points.
func ParseEmail(s string) (Email, error) {
	if s == "" {
		return Email{}, Invalid(FieldEmail, ReasonEmpty)
	}
	if !utf8.ValidString(s) || hasControl(s) {
		return Email{}, Invalid(FieldEmail, ReasonFormat)
	}
	if utf8.RuneCountInString(s) > EmailMax {
		return Email{}, Invalid(FieldEmail, ReasonLength)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return Email{}, Invalid(FieldEmail, ReasonFormat)
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	// A mail service needs a routable domain: at least one dot, no empty labels.
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return Email{}, Invalid(FieldEmail, ReasonFormat)
	}
	key, ok := emailKey(s[:at], domain)
	if !ok {
		return Email{}, Invalid(FieldEmail, ReasonFormat)
	}
	return Email{Address: s, Key: key}, nil
}

// ValidatePassword applies the password rule of every family: 8 to 200 code points of valid
// UTF-8 without NUL. Passwords are never trimmed or truncated.
func ValidatePassword(s string) error { return validateSecret(FieldPassword, s) }

// ValidateToken applies the password rule to a chosen API token.
func ValidateToken(s string) error { return validateSecret(FieldToken, s) }

func validateSecret(field, s string) error {
	if s == "" {
		return Invalid(field, ReasonEmpty)
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return Invalid(field, ReasonFormat)
	}
	if n := utf8.RuneCountInString(s); n < PasswordMin || n > PasswordMax {
		return Invalid(field, ReasonLength)
	}
	return nil
}

// Profile holds the optional public profile fields. A nil pointer is "not given".
type Profile struct {
	Name, Bio, Website, Pronounce *string
}

// Validate checks the profile fields in the documented order: name, bio, website, pronounce.
func (p Profile) Validate() error {
	checks := []struct {
		field    string
		v        *string
		min, max int
	}{
		{FieldName, p.Name, NameMin, NameMax},
		{FieldBio, p.Bio, 1, BioMax},
		{FieldWebsite, p.Website, 1, WebsiteMax},
		{FieldPronounce, p.Pronounce, 1, PronounceMax},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if err := validateText(c.field, *c.v, c.min, c.max); err != nil {
			return err
		}
	}
	return nil
}

func validateText(field, s string, min, max int) error {
	if s == "" {
		return Invalid(field, ReasonEmpty)
	}
	if !utf8.ValidString(s) {
		return Invalid(field, ReasonFormat)
	}
	if n := utf8.RuneCountInString(s); n < min || n > max {
		return Invalid(field, ReasonLength)
	}
	// Profile text ends up in JSON and mails; control characters (CR/LF above all) have no
	// business there.
	if hasControl(s) {
		return Invalid(field, ReasonFormat)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// IsUserHash reports whether s has the shape of a userhash (64 lowercase hex digits).
func IsUserHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

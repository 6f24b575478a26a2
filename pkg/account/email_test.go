package account_test

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Issue 12, item 5: only ASCII letters of the local part fold, the domain compares in its
// IDNA ASCII form, and a local part that Unicode case mapping would turn into another one
// (another person's address) is refused.
func TestParseEmailFoldsASCIIOnly(t *testing.T) {
	for in, key := range map[string]string{
		"Alice@Example.COM":          "alice@example.com",
		"josé@example.com":           "josé@example.com",
		"ωmega@example.com":          "ωmega@example.com",
		"user@BÜCHER.de":             "user@xn--bcher-kva.de",
		"user@bücher.de":             "user@xn--bcher-kva.de",
		"USER@xn--bcher-kva.DE":      "user@xn--bcher-kva.de",
		"Mixed.Case+Tag@EXAMPLE.org": "mixed.case+tag@example.org",
	} {
		e, err := account.ParseEmail(in)
		if err != nil || e.Key != key || e.Address != in {
			t.Errorf("ParseEmail(%q) = %+v, %v; want key %q", in, e, err, key)
		}
	}
	for in, why := range map[string]string{
		"vİctim@example.com":      "U+0130 lowercases to i",
		"\u212Aate@example.com":   "the Kelvin sign lowercases to k",
		"\u017Fam@example.com":    "long s folds to s",
		"v\u0131ctim@example.com": "dotless i uppercases to I",
		"stra\u00dfe@example.de":  "ß folds to ss",
		"\ufb01le@example.com":    "the ligature ﬁ folds to fi",
		"JOSÉ@example.com":        "É folds to é: not ASCII-stable",
		"ΩMEGA@example.com":       "Ω folds to ω",
		"jose\u0301@example.com":  "not NFC: é spelt as e and a combining accent",
		"alice@-example.com":      "a label starts with a hyphen",
		"alice@exa\u200dmple.com": "a joiner in the domain",
	} {
		if e, err := account.ParseEmail(in); !errors.Is(err, account.Invalid(account.FieldEmail, account.ReasonFormat)) {
			t.Errorf("ParseEmail(%q) = %+v, %v; want an invalid email (%s)", in, e, err, why)
		}
	}
}

// No accepted address shares a key with an address that differs from it in more than
// ASCII case: the squatter of "vİctim" cannot block victim or receive victim's resets.
func TestEmailKeysDoNotCollide(t *testing.T) {
	owner, err := account.ParseEmail("victim@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"vİctim@example.com", "v\u0131ctim@example.com", "VICTIM@example.com", "victim@EXAMPLE.com", "\u212Aate@example.com"} {
		e, err := account.ParseEmail(in)
		if err == nil && e.Key == owner.Key && asciiFold(in) != asciiFold(owner.Address) {
			t.Errorf("%q shares the key %q of %q", in, e.Key, owner.Address)
		}
	}
}

func asciiFold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func TestMailAddress(t *testing.T) {
	for in, want := range map[string]string{
		"Alice@Example.com": "Alice@example.com",
		"josé@Bücher.de":    "josé@xn--bcher-kva.de",
	} {
		if got := account.MailAddress(in); got != want {
			t.Errorf("MailAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// Aliases of one mailbox share one per-recipient limit; other mailboxes do not.
func TestRecipientKey(t *testing.T) {
	key := func(addr string) string {
		t.Helper()
		e, err := account.ParseEmail(addr)
		if err != nil {
			t.Fatal(err)
		}
		return account.RecipientKey(e.Key)
	}
	same := [][2]string{
		{"victim@example.com", "Victim+1@Example.com"},
		{"victim@example.com", "victim+a+b@example.com"},
		{"jane.doe@gmail.com", "JaneDoe+x@googlemail.com"},
		{"j.a.n.e.d.o.e@gmail.com", "janedoe@gmail.com"},
	}
	for _, p := range same {
		if key(p[0]) != key(p[1]) {
			t.Errorf("%s and %s have different recipient keys", p[0], p[1])
		}
	}
	different := [][2]string{
		{"victim@example.com", "victim2@example.com"},
		{"v.ictim@example.com", "victim@example.com"},
		{"victim@example.com", "victim@example.org"},
	}
	for _, p := range different {
		if key(p[0]) == key(p[1]) {
			t.Errorf("%s and %s share a recipient key", p[0], p[1])
		}
	}
	if k := key("victim@example.com"); !account.IsUserHash(k) {
		t.Errorf("recipient key %q is not a hex SHA-256", k)
	}
}

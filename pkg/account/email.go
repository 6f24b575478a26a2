package account

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// emailDomain turns a domain into its IDNA ASCII form (RFC 5891 lookup: UTS 46 mapping,
// so case and width fold as DNS would resolve them; host-name letters, digits and hyphens
// only; DNS lengths).
var emailDomain = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true),
	idna.VerifyDNSLength(true), idna.Transitional(false))

// emailKey is the uniqueness key of local@domain: the local part with only its ASCII
// letters lowercased, and the domain in IDNA ASCII form. Unicode case mapping would make
// another person's address of "vİctim" or a Kelvin-sign "K", so a local part on which it
// would act differently from ASCII folding is refused (ok false): then no two accepted
// addresses that differ in more than ASCII case share a key, and no server folding the
// local part either way can reach a mailbox other than the key's.
func emailKey(local, domain string) (key string, ok bool) {
	if !asciiStable(local) {
		return "", false
	}
	d, err := emailDomain.ToASCII(domain)
	if err != nil || d == "" {
		return "", false
	}
	return asciiLower(local) + "@" + d, true
}

// asciiStable reports whether Unicode case folding of s changes nothing but ASCII letters,
// and no case mapping of a non-ASCII character in it leads to ASCII (ı upper-cases to I).
// It also asks for NFC, so "é" cannot be spelt two ways.
func asciiStable(s string) bool {
	ascii := true
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		ascii = false
		if unicode.ToLower(r) < utf8.RuneSelf || unicode.ToUpper(r) < utf8.RuneSelf || unicode.ToTitle(r) < utf8.RuneSelf {
			return false
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				return false
			}
		}
	}
	if ascii {
		return true
	}
	return norm.NFC.IsNormalString(s) && cases.Fold().String(s) == asciiLower(s)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// MailAddress is the address a mail to addr is sent to: as given, with its domain in IDNA
// ASCII form (SES takes no other). addr is an address ParseEmail accepted.
func MailAddress(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	d, err := emailDomain.ToASCII(addr[at+1:])
	if err != nil {
		return addr
	}
	return addr[:at+1] + d
}

// RecipientKey is what the per-recipient mail limit counts by: the SHA-256 of the email
// key's mailbox, without a "+tag" subaddress (RFC 5233) and, at Gmail, without the dots it
// ignores, so that aliases of one mailbox share one limit. emailKey is an Email.Key.
func RecipientKey(emailKey string) string {
	at := strings.LastIndexByte(emailKey, '@')
	local, domain := emailKey, ""
	if at >= 0 {
		local, domain = emailKey[:at], emailKey[at+1:]
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		local, domain = strings.ReplaceAll(local, ".", ""), "gmail.com"
	}
	sum := sha256.Sum256([]byte(local + "@" + domain))
	return hex.EncodeToString(sum[:])
}

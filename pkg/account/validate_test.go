package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/pkg/account"
)

func TestParseUsername(t *testing.T) {
	tests := []struct {
		in          string
		display     string
		key         string
		wantReason  account.Reason
		description string
	}{
		{"alice", "alice", "alice", "", "plain"},
		{"Alice", "Alice", "alice", "", "case is kept for display, mapped for the key"},
		{"ÅSA_1.2-x", "ÅSA_1.2-x", "åsa_1.2-x", "", "non-ASCII letters and punctuation"},
		{"ＡＢＣ", "ABC", "abc", "", "fullwidth letters are width-mapped"},
		{"ΩMEGA", "ΩMEGA", "ωmega", "", "Greek is case-mapped"},
		{"", "", "", account.ReasonEmpty, "empty"},
		{"al ice", "", "", account.ReasonWhitespace, "space"},
		{"al\tice", "", "", account.ReasonWhitespace, "tab"},
		{"alice\u00a0", "", "", account.ReasonWhitespace, "no-break space"},
		{"ab", "", "", account.ReasonLength, "too short"},
		{"éé", "", "", account.ReasonLength, "two code points, four bytes"},
		{"ééé", "ééé", "ééé", "", "three code points"},
		{strings.Repeat("a", 100), strings.Repeat("a", 100), strings.Repeat("a", 100), "", "100 is the maximum"},
		{strings.Repeat("a", 101), "", "", account.ReasonLength, "101 is too long"},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), strings.Repeat("é", 100), "", "100 code points of 2 bytes"},
		{"abc\xff", "", "", account.ReasonFormat, "invalid UTF-8"},
		{"abc\x00", "", "", account.ReasonFormat, "NUL"},
		{"ab\u200bc", "", "", account.ReasonFormat, "zero-width space is not allowed by PRECIS"},
		{"😀😀😀", "", "", account.ReasonFormat, "emoji are not IdentifierClass"},
		// Characters that cannot stand in one path segment (issue 12, item 7).
		{"bob/refresh", "", "", account.ReasonFormat, "slash"},
		{"bob?x=1", "", "", account.ReasonFormat, "question mark"},
		{"bob#frag", "", "", account.ReasonFormat, "hash"},
		{"bob%2Frefresh", "", "", account.ReasonFormat, "percent"},
		{`bob\x`, "", "", account.ReasonFormat, "backslash"},
		{"bob／x", "", "", account.ReasonFormat, "fullwidth solidus maps to a slash"},
		{"bob＃x", "", "", account.ReasonFormat, "fullwidth number sign maps to a hash"},
		{"bob\x7f", "", "", account.ReasonFormat, "DEL"},
		{"bob\x1b[0m", "", "", account.ReasonFormat, "escape"},
		{"bob\u009b0mx", "", "", account.ReasonFormat, "C1 control (CSI)"},
		{"b.o_b-1+x@y", "b.o_b-1+x@y", "b.o_b-1+x@y", "", "other ASCII punctuation stays allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.description, func(t *testing.T) {
			u, err := account.ParseUsername(tc.in)
			if tc.wantReason != "" {
				if !errors.Is(err, account.Invalid(account.FieldUsername, tc.wantReason)) {
					t.Fatalf("ParseUsername(%q) = %+v, %v; want reason %s", tc.in, u, err, tc.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUsername(%q): %v", tc.in, err)
			}
			if u.Display != tc.display || u.Key != tc.key {
				t.Fatalf("ParseUsername(%q) = %+v, want display %q key %q", tc.in, u, tc.display, tc.key)
			}
		})
	}
}

func TestUserHash(t *testing.T) {
	// sha256("alice")
	const want = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
	u, err := account.ParseUsername("ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if u.Hash() != want || !account.IsUserHash(want) {
		t.Fatalf("hash %q", u.Hash())
	}
	if account.IsUserHash(strings.ToUpper(want)) || account.IsUserHash(want[:63]) {
		t.Fatal("IsUserHash accepts non-canonical input")
	}
}

func TestParseEmail(t *testing.T) {
	// 254, with DNS labels of at most 63 octets
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 63) + ".com"
	tests := []struct {
		in     string
		key    string
		reason account.Reason
	}{
		{"alice@example.com", "alice@example.com", ""},
		{"Alice.Smith+tag@Example.COM", "alice.smith+tag@example.com", ""},
		{long, strings.ToLower(long), ""},
		{"a" + long, "", account.ReasonLength},
		{"a@" + strings.Repeat("b", 64) + ".com", "", account.ReasonFormat}, // a DNS label is at most 63 octets
		{"", "", account.ReasonEmpty},
		{"alice", "", account.ReasonFormat},
		{"alice@", "", account.ReasonFormat},
		{"@example.com", "", account.ReasonFormat},
		{"alice@localhost", "", account.ReasonFormat},
		{"alice@example..com", "", account.ReasonFormat},
		{"alice@example.com.", "", account.ReasonFormat},
		{"Alice <alice@example.com>", "", account.ReasonFormat},
		{"<alice@example.com>", "", account.ReasonFormat},
		{"alice@example.com, bob@example.com", "", account.ReasonFormat},
		{"alice@example.com\r\nBcc: x@example.com", "", account.ReasonFormat},
		{" alice@example.com", "", account.ReasonFormat},
		{"alice@exa\xffmple.com", "", account.ReasonFormat},
		{"alice(comment)@example.com", "", account.ReasonFormat},
	}
	for _, tc := range tests {
		e, err := account.ParseEmail(tc.in)
		if tc.reason != "" {
			if !errors.Is(err, account.Invalid(account.FieldEmail, tc.reason)) {
				t.Errorf("ParseEmail(%q) = %+v, %v; want %s", tc.in, e, err, tc.reason)
			}
			continue
		}
		if err != nil || e.Key != tc.key || e.Address != tc.in {
			t.Errorf("ParseEmail(%q) = %+v, %v", tc.in, e, err)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		in     string
		reason account.Reason
	}{
		{"12345678", ""},
		{"pass word with spaces ", ""},
		{strings.Repeat("é", 8), ""},
		{strings.Repeat("😀", 200), ""}, // 200 code points, 800 bytes: never truncated
		{strings.Repeat("😀", 201), account.ReasonLength},
		{"", account.ReasonEmpty},
		{"1234567", account.ReasonLength},
		{"éééé", account.ReasonLength}, // 8 bytes, 4 code points
		{"12345678\x00", account.ReasonFormat},
		{"12345678\xff", account.ReasonFormat},
	}
	for _, tc := range tests {
		err := account.ValidatePassword(tc.in)
		if tc.reason == "" && err != nil {
			t.Errorf("ValidatePassword(%q): %v", tc.in, err)
		}
		if tc.reason != "" && !errors.Is(err, account.Invalid(account.FieldPassword, tc.reason)) {
			t.Errorf("ValidatePassword(%q) = %v, want %s", tc.in, err, tc.reason)
		}
	}
}

func TestProfileValidate(t *testing.T) {
	s := func(v string) *string { return &v }
	tests := []struct {
		p      account.Profile
		field  string
		reason account.Reason
	}{
		{account.Profile{}, "", ""},
		{account.Profile{Name: s("Al Ice"), Bio: s("x"), Website: s("https://x.example"), Pronounce: s("al-ice")}, "", ""},
		{account.Profile{Name: s("")}, account.FieldName, account.ReasonEmpty},
		{account.Profile{Name: s("Al")}, account.FieldName, account.ReasonLength},
		{account.Profile{Name: s(strings.Repeat("n", 151))}, account.FieldName, account.ReasonLength},
		{account.Profile{Bio: s(strings.Repeat("b", 201))}, account.FieldBio, account.ReasonLength},
		{account.Profile{Bio: s("")}, account.FieldBio, account.ReasonEmpty},
		{account.Profile{Website: s("")}, account.FieldWebsite, account.ReasonEmpty},
		{account.Profile{Pronounce: s("")}, account.FieldPronounce, account.ReasonEmpty},
		{account.Profile{Name: s("Name\r\nX")}, account.FieldName, account.ReasonFormat},
		// Order: name before bio.
		{account.Profile{Name: s(""), Bio: s("")}, account.FieldName, account.ReasonEmpty},
	}
	for i, tc := range tests {
		err := tc.p.Validate()
		if tc.field == "" && err != nil {
			t.Errorf("%d: %v", i, err)
		}
		if tc.field != "" && !errors.Is(err, account.Invalid(tc.field, tc.reason)) {
			t.Errorf("%d: got %v, want %s %s", i, err, tc.field, tc.reason)
		}
	}
}

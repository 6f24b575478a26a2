package password

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var cheap = Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustNew(t *testing.T, p Params) *Hasher {
	t.Helper()
	h, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashAndVerify(t *testing.T) {
	h := mustNew(t, cheap)
	hash, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Count(hash, "$") != 5 {
		t.Fatalf("not a PHC string: %s", hash)
	}
	other, _ := h.Hash("correct horse battery staple")
	if other == hash {
		t.Fatal("same hash twice: salt not random")
	}
	ok, rehash, err := h.Verify(hash, "correct horse battery staple")
	if !ok || rehash || err != nil {
		t.Fatalf("verify right: %v %v %v", ok, rehash, err)
	}
	ok, _, err = h.Verify(hash, "correct horse battery stapler")
	if ok || err != nil {
		t.Fatalf("verify wrong: %v %v", ok, err)
	}
	// Long passwords are not truncated: they differ in the last character.
	long := strings.Repeat("x", 199)
	lh, _ := h.Hash(long + "a")
	if ok, _, _ := h.Verify(lh, long+"b"); ok {
		t.Fatal("long passwords compared truncated")
	}
}

func TestRehashOnOtherParams(t *testing.T) {
	old := mustNew(t, cheap)
	hash, _ := old.Hash("pw-123456")
	stronger := cheap
	stronger.Time = 2
	h := mustNew(t, stronger)
	ok, rehash, err := h.Verify(hash, "pw-123456")
	if !ok || !rehash || err != nil {
		t.Fatalf("old params: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
}

func TestBcrypt(t *testing.T) {
	h := mustNew(t, cheap)
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		b, _ := bcrypt.GenerateFromPassword([]byte("legacy-pw"), bcrypt.MinCost)
		hash := prefix + string(b)[4:]
		ok, rehash, err := h.Verify(hash, "legacy-pw")
		if !ok || !rehash || err != nil {
			t.Fatalf("%s right: %v %v %v", prefix, ok, rehash, err)
		}
		if ok, _, _ := h.Verify(hash, "legacy-px"); ok {
			t.Fatalf("%s wrong password accepted", prefix)
		}
	}
	// bcrypt reads 72 bytes; a longer password must not match a hash of its prefix.
	p72 := strings.Repeat("p", 72)
	b, _ := bcrypt.GenerateFromPassword([]byte(p72), bcrypt.MinCost)
	if ok, _, _ := h.Verify(string(b), p72+"suffix"); ok {
		t.Fatal("bcrypt truncation accepted")
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	h := mustNew(t, cheap)
	good, _ := h.Hash("pw-123456")
	parts := strings.Split(good, "$")
	bad := []string{
		"", "plaintext", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
		"$argon2id$v=18$" + strings.Join(parts[3:], "$"),
		"$argon2id$v=19$m=99999999,t=1,p=1$" + parts[4] + "$" + parts[5], // memory bomb
		"$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$",
		"$2a$04$short",
	}
	for _, b := range bad {
		if ok, _, err := h.Verify(b, "pw-123456"); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want an error", b, ok, err)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	if err := OWASP.Validate(); err != nil {
		t.Fatal(err)
	}
	if OWASP.MemoryKiB < 19*1024 || OWASP.Time < 2 || OWASP.Threads != 1 {
		t.Fatalf("OWASP params weaker than the minimum: %+v", OWASP)
	}
	for _, p := range []Params{{}, {MemoryKiB: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}, {MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 32}} {
		if _, err := New(p); err == nil {
			t.Errorf("New(%+v) accepted", p)
		}
	}
}

func TestDummyCostsAVerification(t *testing.T) {
	h := mustNew(t, cheap)
	ok, _, err := h.Verify(h.dummy, "")
	if ok || err != nil {
		t.Fatalf("dummy hash must parse and match nothing: %v %v", ok, err)
	}
	p, _, _, err := decode(h.dummy)
	if err != nil || !p.same(cheap, cheap.SaltLen) {
		t.Fatalf("dummy params %+v, %v", p, err)
	}
}

func BenchmarkHashOWASP(b *testing.B) {
	h, _ := New(OWASP)
	for b.Loop() {
		_, _ = h.Hash("correct horse battery staple")
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	h, _ := New(OWASP)
	hash, _ := h.Hash("correct horse battery staple")
	for b.Loop() {
		_, _, _ = h.Verify(hash, "correct horse battery staple")
	}
}

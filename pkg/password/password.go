// Package password hashes passwords with argon2id in PHC string format and verifies
// argon2id and bcrypt hashes, choosing the algorithm by the hash's own prefix.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   int
	KeyLen    uint32
}

// OWASP is the OWASP Password Storage Cheat Sheet's minimum for argon2id: 19 MiB, two
// passes, one lane.
var OWASP = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits that keep a hostile stored hash (or a configuration typo) from exhausting memory.
const (
	maxMemoryKiB = 4 * 1024 * 1024
	maxTime      = 64
	maxKeyLen    = 1024
	// bcrypt reads at most 72 bytes; longer passwords would be silently truncated, which
	// Gatehouse never does, so they cannot match a bcrypt hash.
	bcryptMaxBytes = 72
)

// Validate reports parameters too weak or too large to use.
func (p Params) Validate() error {
	switch {
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB out of range", p.MemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d out of range", p.Time)
	case p.Threads < 1:
		return errors.New("argon2 threads must be at least 1")
	case p.SaltLen < 16:
		return errors.New("argon2 salt must be at least 16 bytes")
	case p.KeyLen < 16 || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2 key length %d out of range", p.KeyLen)
	}
	return nil
}

// Hasher implements account.Hasher.
type Hasher struct {
	params Params
	dummy  string // an argon2id hash at params that no password matches
	spent  atomic.Int64
}

// Spent is the time this Hasher has spent hashing and verifying, in total. The request
// wrapper reads it before and after a request for the request's measurement (kdf_ms): a
// Lambda process serves one request at a time, so the difference is that request's.
func (h *Hasher) Spent() time.Duration { return time.Duration(h.spent.Load()) }

func (h *Hasher) spend(start time.Time) { h.spent.Add(int64(time.Since(start))) }

// New returns a Hasher hashing with p.
func New(p Params) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// The dummy hash needs the real cost parameters but no real hashing: any key will do,
	// since nothing is meant to match it. Building it is free at cold start.
	salt := make([]byte, p.SaltLen)
	key := make([]byte, p.KeyLen)
	return &Hasher{params: p, dummy: encode(p, salt, key)}, nil
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Hash returns an argon2id PHC string of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	defer h.spend(time.Now())
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Time, h.params.MemoryKiB, h.params.Threads, h.params.KeyLen)
	return encode(h.params, salt, key), nil
}

// Verify checks password against an argon2id or bcrypt hash. rehash is true when the hash
// should be replaced by Hash's output: bcrypt, or argon2id with other parameters.
func (h *Hasher) Verify(hash, password string) (ok, rehash bool, err error) {
	defer h.spend(time.Now())
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, key, err := decode(hash)
		if err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
		ok := subtle.ConstantTimeCompare(got, key) == 1
		return ok, ok && !p.same(h.params, len(salt)), nil
	case isBcrypt(hash):
		if len(password) > bcryptMaxBytes {
			return false, false, nil
		}
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("bcrypt: %w", err)
		}
		return true, true, nil
	default:
		return false, false, errors.New("unknown password hash format")
	}
}

// VerifyDummy spends the time of one Verify at the configured parameters.
func (h *Hasher) VerifyDummy(password string) {
	_, _, _ = h.Verify(h.dummy, password)
}

// Params returns the hashing parameters.
func (h *Hasher) Params() Params { return h.params }

func (p Params) same(q Params, saltLen int) bool {
	return p.MemoryKiB == q.MemoryKiB && p.Time == q.Time && p.Threads == q.Threads &&
		p.KeyLen == q.KeyLen && saltLen >= q.SaltLen
}

func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// decode parses $argon2id$v=19$m=..,t=..,p=..$salt$key strictly.
func decode(hash string) (Params, []byte, []byte, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("malformed argon2id hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, errors.New("unsupported argon2 version")
	}
	var p Params
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Params{}, nil, nil, errors.New("malformed argon2id parameters")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, nil, nil, errors.New("malformed argon2id parameters")
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Params{}, nil, nil, errors.New("argon2 threads out of range")
			}
			p.Threads = uint8(n)
		default:
			return Params{}, nil, nil, errors.New("unknown argon2id parameter")
		}
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, errors.New("malformed argon2id salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, errors.New("malformed argon2id key")
	}
	p.SaltLen, p.KeyLen = len(salt), uint32(len(key))
	// Bounds, not policy: imported hashes may have shorter salts than we would choose
	// (Verify then asks for a rehash), but nothing stored may make us allocate gigabytes.
	if p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB || p.Time < 1 || p.Time > maxTime ||
		p.Threads < 1 || len(salt) < 8 || len(key) < 16 || len(key) > maxKeyLen {
		return Params{}, nil, nil, errors.New("argon2id parameters out of range")
	}
	return p, salt, key, nil
}

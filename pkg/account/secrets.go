package account

import (
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// Random secrets. A session token and an OTP request id carry the account's user_id in
// front of their random part, so the account's records can be read in the same round trip
// as the record itself and ending every session of an account is a single-partition query.
// The user_id is not secret (the API shows it); the random part is.
const (
	sessionRandomBytes = 32 // 256 bits
	reqIDRandomBytes   = 16 // 128 bits
	secretBytes        = 32 // user_secret and generated API tokens
	idBytes            = 8
)

var b64url = base64.RawURLEncoding

// sha256Hex is how random secrets are stored: they carry enough entropy that a fast hash
// cannot be reversed, and a fast hash keeps lookups by hash possible.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// HashSecret is the stored form of a high-entropy random secret given as text.
func HashSecret(s string) string { return sha256Hex([]byte(s)) }

// SecretMatches compares a presented secret with its stored hash in constant time.
func SecretMatches(storedHash, presented string) bool {
	h := HashSecret(presented)
	return len(storedHash) == len(h) && subtle.ConstantTimeCompare([]byte(storedHash), []byte(h)) == 1
}

func randomBytes(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// idToken builds base64url(user_id as 8 bytes big-endian || random).
func idToken(r io.Reader, userID int64, n int) (token string, raw []byte, err error) {
	raw = make([]byte, idBytes, idBytes+n)
	binary.BigEndian.PutUint64(raw, uint64(userID))
	rnd, err := randomBytes(r, n)
	if err != nil {
		return "", nil, err
	}
	raw = append(raw, rnd...)
	return b64url.EncodeToString(raw), raw, nil
}

// parseIDToken reverses idToken; ok is false for anything that is not exactly such a token.
func parseIDToken(s string, n int) (userID int64, raw []byte, ok bool) {
	if len(s) != b64url.EncodedLen(idBytes+n) {
		return 0, nil, false
	}
	raw, err := b64url.DecodeString(s)
	if err != nil || len(raw) != idBytes+n {
		return 0, nil, false
	}
	id := binary.BigEndian.Uint64(raw[:idBytes])
	if id == 0 || id > 1<<62 {
		return 0, nil, false
	}
	return int64(id), raw, true
}

// NewSessionToken returns a session token for the account and its stored hash.
func NewSessionToken(r io.Reader, userID int64) (token, hash string, err error) {
	token, raw, err := idToken(r, userID, sessionRandomBytes)
	if err != nil {
		return "", "", err
	}
	return token, sha256Hex(raw), nil
}

// ParseSessionToken returns the user_id and stored hash of a presented token.
func ParseSessionToken(token string) (userID int64, hash string, ok bool) {
	id, raw, ok := parseIDToken(token, sessionRandomBytes)
	if !ok {
		return 0, "", false
	}
	return id, sha256Hex(raw), true
}

// newReqID returns an OTP request id, its stored hash, and the raw bytes that key the
// code's HMAC.
func newReqID(r io.Reader, userID int64) (reqID, hash string, key []byte, err error) {
	reqID, raw, err := idToken(r, userID, reqIDRandomBytes)
	if err != nil {
		return "", "", nil, err
	}
	return reqID, sha256Hex(raw), raw, nil
}

func parseReqID(s string) (userID int64, hash string, key []byte, ok bool) {
	id, raw, ok := parseIDToken(s, reqIDRandomBytes)
	if !ok {
		return 0, "", nil, false
	}
	return id, sha256Hex(raw), raw, true
}

// newOTPCode returns six uniformly random decimal digits.
func newOTPCode(r io.Reader) (string, error) {
	n, err := randInt(r, 1_000_000)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n), nil
}

func randInt(r io.Reader, max int64) (int64, error) {
	n, err := crand.Int(r, big.NewInt(max))
	if err != nil {
		return 0, fmt.Errorf("random: %w", err)
	}
	return n.Int64(), nil
}

// otpMAC is the stored form of a code: HMAC-SHA-256 keyed by the request id, which is not
// stored, so a leaked table does not give the 6-digit codes away by brute force.
func otpMAC(key []byte, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

func otpMatches(stored string, key []byte, code string) bool {
	want := otpMAC(key, code)
	return len(stored) == len(want) && subtle.ConstantTimeCompare([]byte(stored), []byte(want)) == 1
}

func isOTPCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NewUUID returns a random (version 4) UUID in its canonical lowercase form.
func NewUUID(r io.Reader) (string, error) {
	b, err := randomBytes(r, 16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// CanonicalUUID lowercases a UUID in 8-4-4-4-12 form; ok is false for anything else.
func CanonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !isHex(c) {
				return "", false
			}
		}
	}
	return strings.ToLower(s), true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// NewUserSecret returns a user_secret (32 random bytes, standard base64) and its hash.
func NewUserSecret(r io.Reader) (secret, hash string, err error) {
	b, err := randomBytes(r, secretBytes)
	if err != nil {
		return "", "", err
	}
	secret = base64.StdEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// NewAPIToken returns a generated API token (32 random bytes, base64url, 43 characters).
func NewAPIToken(r io.Reader) (string, error) {
	b, err := randomBytes(r, secretBytes)
	if err != nil {
		return "", err
	}
	return b64url.EncodeToString(b), nil
}

const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewPassword returns n characters drawn uniformly from [A-Za-z0-9].
func NewPassword(r io.Reader, n int) (string, error) {
	var sb strings.Builder
	sb.Grow(n)
	for range n {
		i, err := randInt(r, int64(len(passwordAlphabet)))
		if err != nil {
			return "", err
		}
		sb.WriteByte(passwordAlphabet[i])
	}
	return sb.String(), nil
}

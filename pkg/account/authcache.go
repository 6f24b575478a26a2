package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"strconv"
	"sync"
	"time"
)

// authCache remembers, for a short time, that a secret matched an account's stored
// hashes, so a warm function does not pay a slow hash on every admin call.
//
// An entry is keyed by an HMAC (with a random per-process key) over the secret and the
// account's current password hash, token hash and credential version: once any of them
// changes, the old entry can no longer be found. Nothing in memory reveals the secret.
type authCache struct {
	mu      sync.Mutex
	hmacKey []byte
	ttl     time.Duration
	max     int
	entries map[[sha256.Size]byte]time.Time // expiry
	// ids remembers username keys' user ids (not secrets), so that an admin call reads the
	// acting admin's and the target's accounts in its first round trip.
	ids map[string]int64
}

const authCacheMax = 1024

func newAuthCache(ttl time.Duration) *authCache {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("crypto/rand: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return &authCache{hmacKey: k, ttl: ttl, max: authCacheMax, entries: map[[sha256.Size]byte]time.Time{}, ids: map[string]int64{}}
}

func (c *authCache) key(a *Account, secret string) [sha256.Size]byte {
	return c.mac(a.UsernameKey, a.PasswordHash, a.TokenHash, strconv.FormatInt(a.CredVersion, 10), secret)
}

// mac is the HMAC of the length-prefixed parts under the cache's key.
func (c *authCache) mac(parts ...string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.hmacKey)
	for _, part := range parts {
		m.Write([]byte(strconv.Itoa(len(part))))
		m.Write([]byte{':'})
		m.Write([]byte(part))
	}
	var k [sha256.Size]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (c *authCache) hit(k [sha256.Size]byte, now time.Time) bool {
	if c.ttl <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.entries[k]
	return ok && now.Before(exp)
}

func (c *authCache) add(k [sha256.Size]byte, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for e, exp := range c.entries {
			if !now.Before(exp) {
				delete(c.entries, e)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries) // bounded memory beats a perfect hit rate
		}
	}
	c.entries[k] = now.Add(c.ttl)
}

// userID is the remembered user id of a username key. A username names one account for
// its whole life and ids are never reused, so the mapping cannot go wrong, only stale:
// the account read by it must carry the username key (AuthenticateAdminFor checks), and
// a deleted account's id reads as nothing, which sends the caller back to the key.
func (c *authCache) userID(usernameKey string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[usernameKey]
	return id, ok
}

func (c *authCache) rememberID(usernameKey string, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) >= c.max {
		clear(c.ids)
	}
	c.ids[usernameKey] = id
}

func (c *authCache) forgetID(usernameKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ids, usernameKey)
}

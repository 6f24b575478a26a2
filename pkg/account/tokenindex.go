package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// API tokens presented as "Authorization: Bearer <token>" (Admin v2, as Nebula's SDK and CLI
// send them) name no account, so the account is found through a token index: an item keyed
// by HMAC-SHA-256(token) under a per-stack key that is not stored in the table. A leaked
// table therefore gives no fast way to test guesses of chosen tokens (their slow hash stays
// what protects them), and the lookup is one indexed read, never a scan.

// CodeTokenInUse: the chosen API token is held by another account (tokens are unique, so
// that a Bearer token names exactly one account).
const CodeTokenInUse Code = "token_in_use"

// ErrTokenInUse is the sentinel of CodeTokenInUse.
var ErrTokenInUse = &Error{Code: CodeTokenInUse}

// MinTokenIndexKey is the shortest token-index key accepted (256 bits).
const MinTokenIndexKey = 32

// TokenIndex returns the index of an API token: hex HMAC-SHA-256 under Config.TokenIndexKey.
// Without a key it is an internal error: a token set without its index could not be found
// by Bearer, and silently so.
func (s *Service) TokenIndex(token string) (string, error) {
	if len(s.TokenIndexKey) < MinTokenIndexKey {
		return "", Internal("token index key not configured")
	}
	m := hmac.New(sha256.New, s.TokenIndexKey)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// AuthenticateAdminToken checks a Bearer API token of the admin API. An unknown token is
// ErrInvalidCredentials; the token of a non-admin is ErrForbidden. The failed-login policy
// does not apply: a Bearer token is never refused because of a password lockout, and an
// unknown token has no account to count against.
//
// Round trips: the index item and the account, or the account alone by the user id a warm
// function remembers for the index; a warm function also skips the slow hash of a chosen
// token while the account's hashes are unchanged.
func (s *Service) AuthenticateAdminToken(ctx context.Context, token string) (*Account, error) {
	r, err := s.AuthenticateAdminTokenFor(ctx, token, AdminTarget{})
	if err != nil {
		return nil, err
	}
	return r.Actor, nil
}

// bearerMatches checks token against the account found by its index: the stored hash
// stays the authority (the index only finds the account).
func (s *Service) bearerMatches(a *Account, token string) error {
	now := s.now()
	key := bearerCacheKey(s.authCache(), a, token)
	if s.authCache().hit(key, now) {
		return nil
	}
	ok, err := s.tokenMatches(a, token)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidCredentials
	}
	s.authCache().add(key, now)
	return nil
}

// tokenMatches checks token against the account's API token hash only (never the
// password: a Bearer credential is a token).
func (s *Service) tokenMatches(a *Account, token string) (bool, error) {
	switch {
	case a.TokenHash == "":
		return false, nil
	case strings.HasPrefix(a.TokenHash, tokenSHA256):
		return SecretMatches(strings.TrimPrefix(a.TokenHash, tokenSHA256), token), nil
	default:
		ok, _, err := s.Hasher.Verify(a.TokenHash, token)
		if err != nil {
			return false, Internal("verify token of user %d: %w", a.UserID, err)
		}
		return ok, nil
	}
}

// bearerCacheKey is the auth cache key of a verified Bearer token. It has one part more
// than a Basic key (authCache.key), and the parts are length-prefixed, so the two kinds
// can never share an entry: a cached Bearer token never passes as a Basic secret.
func bearerCacheKey(c *authCache, a *Account, token string) [sha256.Size]byte {
	return c.mac("bearer", a.UsernameKey, a.TokenHash, a.TokenIndex, strconv.FormatInt(a.CredVersion, 10), token)
}

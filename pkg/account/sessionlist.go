package account

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Sessions an account's owner can see and end (API.md, "Account lifecycle"):
// GET /user/sessions, DELETE /user/sessions/{id}, POST /user/logout-all.

// SessionSeenInterval is how stale a session's LastSeenAt may be. A check writes it only
// when it is older than this, so a session check stays one read on most requests.
const SessionSeenInterval = time.Minute

// MaxUserAgent bounds the stored user agent (bytes): a header can be kilobytes long, and
// the item is read on every session check.
const MaxUserAgent = 256

// CodeSessionNotFound: DELETE /user/sessions/{id} names no live session of the account.
const CodeSessionNotFound Code = "session_not_found"

// ErrSessionNotFound is CodeSessionNotFound's sentinel.
var ErrSessionNotFound = &Error{Code: CodeSessionNotFound}

type userAgentKey struct{}

// WithUserAgent returns ctx carrying the request's user agent (the API Gateway event's
// requestContext.http.userAgent), which a new session records; set by the Lambda wrapper
// as WithSourceIP is.
func WithUserAgent(ctx context.Context, ua string) context.Context {
	return context.WithValue(ctx, userAgentKey{}, ua)
}

// requestOrigin is what a new session records of the request: its source IP and user
// agent (valid UTF-8, at most MaxUserAgent bytes).
func requestOrigin(ctx context.Context) (ip, ua string) {
	ip, _ = ctx.Value(sourceIPKey{}).(string)
	ua, _ = ctx.Value(userAgentKey{}).(string)
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	for len(ua) > MaxUserAgent {
		_, size := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-size]
	}
	return ip, ua
}

// SessionID is the id a session is shown under: the first 128 bits of a domain-separated
// SHA-256 of its stored token hash, in hex. It is not the token and cannot be turned
// into it (nor into the token hash): the input is itself a hash of 128+ random bits, so
// no key is needed to make it one-way, and every stored session has one without a
// migration. Deriving it rather than storing a random one also means nothing new to keep
// unique.
func SessionID(tokenHash string) string {
	sum := sha256.Sum256([]byte("gatehouse session id\x00" + tokenHash))
	return hex.EncodeToString(sum[:16])
}

// SessionInfo is one session as its account's owner sees it.
type SessionInfo struct {
	ID         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	IP         string
	UserAgent  string
	Current    bool // the session the request presented
}

// live reports whether sess is a valid session of a at now: not expired, and made under
// the account's current credentials (a password change or logout-all voids the rest).
func (s *Service) live(sess *Session, a *Account) bool {
	return !expired(s.now(), sess.ExpiresAt) && sess.CredVersion == a.CredVersion
}

// touch records that sess was used, at most once per SessionSeenInterval: a conditional
// write, so concurrent checks write once. It is bookkeeping: a failure is logged and the
// check still succeeds, since the session is valid all the same.
func (s *Service) touch(ctx context.Context, sess *Session) {
	now := s.now().Truncate(time.Millisecond) // what the table keeps
	if now.Sub(sess.LastSeenAt) < SessionSeenInterval {
		return
	}
	if err := s.Store.TouchSession(ctx, sess.UserID, sess.TokenHash, now, now.Add(-SessionSeenInterval)); err != nil {
		s.Log.WarnContext(ctx, "session last-seen not recorded", "user_id", sess.UserID, "error", err.Error())
		return
	}
	sess.LastSeenAt = now
}

// liveSessions checks token with check and returns the presented session and the
// account's valid sessions. Round trips: the check, then one query.
func (s *Service) liveSessions(ctx context.Context, token string,
	check func(context.Context, string) (*Account, *Session, error)) (*Account, *Session, []*Session, error) {
	a, cur, err := check(ctx, token)
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := s.Store.ListSessions(ctx, a.UserID)
	if err != nil {
		return nil, nil, nil, err
	}
	return a, cur, slices.DeleteFunc(all, func(x *Session) bool { return !s.live(x, a) }), nil
}

// Sessions lists the live sessions of the account of token, newest first. Round trips:
// the session check, then one query.
func (s *Service) Sessions(ctx context.Context, token string) ([]SessionInfo, error) {
	_, cur, all, err := s.liveSessions(ctx, token, s.Authorize)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(all))
	for _, x := range all {
		current := x.TokenHash == cur.TokenHash
		if current {
			x = cur // as this check has just touched it
		}
		seen := x.LastSeenAt
		if seen.IsZero() { // a session from before last-seen times: seen at its login
			seen = x.CreatedAt
		}
		out = append(out, SessionInfo{
			ID: SessionID(x.TokenHash), CreatedAt: x.CreatedAt, LastSeenAt: seen,
			IP: x.IP, UserAgent: x.UserAgent, Current: current,
		})
	}
	slices.SortFunc(out, func(p, q SessionInfo) int {
		return cmp.Or(q.CreatedAt.Compare(p.CreatedAt), strings.Compare(p.ID, q.ID))
	})
	return out, nil
}

// EndSession ends the account's session with this id (SessionID), which may be the
// presented one (current true). ErrSessionNotFound when the account has no live session
// of that id, which is also the answer for another account's. Round trips: the session
// check, one query, one delete.
func (s *Service) EndSession(ctx context.Context, token, id string) (current bool, err error) {
	a, cur, all, err := s.liveSessions(ctx, token, s.authorize)
	if err != nil {
		return false, err
	}
	for _, x := range all {
		if SessionID(x.TokenHash) == id {
			ev := s.sessionEnded(ctx, a, "by_id")
			if err := s.Store.DeleteSession(s.carry(ctx, ev), a.UserID, x.TokenHash); err != nil {
				return false, err
			}
			s.observe(ctx, ev)
			return x.TokenHash == cur.TokenHash, nil
		}
	}
	return false, ErrSessionNotFound
}

// LogoutAll ends every session of the account of token, this one too, at once: one
// write bumps the account's credential version, which every session check compares (so
// the authorizer denies them as well). The voided items expire by TTL and are never
// listed. Round trips: the session check + 1.
func (s *Service) LogoutAll(ctx context.Context, token string) error {
	a, _, err := s.authorize(ctx, token)
	if err != nil {
		return err
	}
	ev := s.sessionEnded(ctx, a, "all")
	err = s.Store.ChangeCredentials(s.carry(ctx, ev), CredentialChange{UserID: a.UserID, Now: s.now()})
	if errors.Is(err, ErrNotFound) {
		return ErrNotAuthenticated // deleted meanwhile: its sessions are gone with it
	}
	if err != nil {
		return err
	}
	s.observe(ctx, ev)
	return nil
}

// sessionEnded is the session.ended event of the owner ending sessions of a, how (method:
// by_id, all; the logout of the presented session has none).
func (s *Service) sessionEnded(ctx context.Context, a *Account, method string) Event {
	ev := s.event(ctx, EventSessionEnded, a, ActorSelf, OutcomeSuccess)
	ev.Method = method
	return ev
}

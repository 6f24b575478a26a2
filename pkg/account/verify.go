package account

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"net/url"
	"strings"
	"time"
)

// Email verification and email change (API.md, "Account lifecycle"): a mailed token proves
// control of an address. An account has at most one pending verification, kept in its own
// partition (so it dies with the account) and tied to the credential version it was made
// under (so a password change kills it).

// VerifyTTL is how long a verification token works.
const VerifyTTL = 24 * time.Hour

// verifyRandomBytes is the random part of a verification token (256 bits).
const verifyRandomBytes = 32

// EmailVerification is a pending verification of Email for the account. Only the hash of
// the token's random part is stored. When EmailKey differs from the account's, verifying
// it changes the account's address (reserving the new key then, releasing the old).
type EmailVerification struct {
	UserID      int64
	TokenHash   string
	Email       string
	EmailKey    string
	CredVersion int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// VerifyMail is the verification mail: the token, and a link to APP_URL when one is set.
// No user-chosen text.
type VerifyMail struct {
	To       string
	Token    string
	Link     string // "" when no APP_URL is set
	ValidFor time.Duration
}

// EmailChangeNotice tells the old address that a change was asked for; it has no link.
type EmailChangeNotice struct {
	To string
}

// newVerification draws a token's random part and returns it with a pending verification
// of e (UserID set later: at registration the id comes from the store).
func (s *Service) newVerification(e Email, credVersion int64, now time.Time) ([]byte, *EmailVerification, error) {
	rnd, err := randomBytes(s.Rand, verifyRandomBytes)
	if err != nil {
		return nil, nil, Internal("verification token: %w", err)
	}
	return rnd, &EmailVerification{
		TokenHash: sha256Hex(rnd), Email: e.Address, EmailKey: e.Key, CredVersion: credVersion,
		CreatedAt: now, ExpiresAt: expiry(now, VerifyTTL),
	}, nil
}

// verifyToken is the token the mail carries: the account's id in front of the random
// part, as session tokens are, so verifying reads the account's partition only.
func verifyToken(userID int64, rnd []byte) string {
	raw := binary.BigEndian.AppendUint64(make([]byte, 0, idBytes+len(rnd)), uint64(userID))
	return b64url.EncodeToString(append(raw, rnd...))
}

func parseVerifyToken(token string) (userID int64, hash string, ok bool) {
	id, raw, ok := parseIDToken(token, verifyRandomBytes)
	if !ok {
		return 0, "", false
	}
	return id, sha256Hex(raw[idBytes:]), true
}

// sendVerification mails the token for v (already stored or about to be).
func (s *Service) sendVerification(ctx context.Context, v *EmailVerification, rnd []byte) error {
	token := verifyToken(v.UserID, rnd)
	link := ""
	if s.AppURL != "" {
		link = strings.TrimRight(s.AppURL, "/") + "/verify-email?token=" + url.QueryEscape(token)
	}
	return s.send(ctx, func(ctx context.Context) error {
		return s.Mailer.SendVerification(ctx, VerifyMail{To: MailAddress(v.Email), Token: token, Link: link, ValidFor: VerifyTTL})
	})
}

// registerVerifying is Register's write when the account has an email and a mailer: the
// verification and the mail's recipient and installation quota go into the registration's
// own transaction (no extra round trip), and the mail goes out after it. A registration
// whose mail cannot go out (a limit, SES) still succeeds: it is logged.
func (s *Service) registerVerifying(ctx context.Context, a *Account, e Email) error {
	now := s.now().Truncate(time.Second)
	rnd, v, err := s.newVerification(e, a.CredVersion, now)
	if err != nil {
		return err
	}
	mailed, err := s.Store.CreateAccountWithVerification(ctx, a, v, s.mailQuota(a, now))
	if err != nil {
		return err
	}
	if !mailed {
		s.Log.WarnContext(ctx, "verification mail not sent: mail limit reached", "user_id", a.UserID)
		return nil
	}
	if err := s.sendVerification(ctx, v, rnd); err != nil {
		s.Log.WarnContext(ctx, "verification mail not sent", "user_id", a.UserID, "error", err.Error())
	}
	return nil
}

// VerifyEmail uses a mailed verification token. Unknown, used, or made before the
// account's password last changed: ErrTokenNotFound; past its 24 h: ErrTokenExpired; an
// address another account holds by now: ErrEmailTaken.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	id, hash, ok := parseVerifyToken(strings.TrimSpace(token))
	if !ok {
		return ErrTokenNotFound
	}
	v, a, err := s.Store.VerificationWithAccount(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return ErrTokenNotFound
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(v.TokenHash), []byte(hash)) != 1 || v.CredVersion != a.CredVersion {
		return ErrTokenNotFound
	}
	if expired(s.now(), v.ExpiresAt) {
		return ErrTokenExpired
	}
	if v.EmailKey != a.EmailKey {
		// Someone else holds the address by now: the early 409, without a write.
		if other, err := s.Store.UserIDByEmail(ctx, v.EmailKey); err == nil && other != a.UserID {
			return ErrEmailTaken
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	// The token alone authorises this (no session, no password): actor anonymous. A change
	// is one email.changed (the new address is verified by it), else email.verified.
	typ := EventEmailVerified
	if v.EmailKey != a.EmailKey {
		typ = EventEmailChanged
	}
	ev := s.event(ctx, typ, a, ActorAnonymous, OutcomeSuccess)
	if err := s.Store.ConfirmEmail(s.carry(ctx, ev), v, a, s.now()); err != nil {
		return err
	}
	s.observe(ctx, ev)
	return nil
}

// RequestEmailChange mails a verification to newEmail for the account of the session,
// after the password check (counted like a login's), and a notice without a link to the
// current address. The address changes only when verified (VerifyEmail).
func (s *Service) RequestEmailChange(ctx context.Context, a *Account, newEmail, password string) error {
	e, err := ParseEmail(newEmail)
	if err != nil {
		return err
	}
	if e.Key == a.EmailKey {
		return ErrEmailTaken
	}
	if _, err := s.Store.UserIDByEmail(ctx, e.Key); err == nil {
		return ErrEmailTaken
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	src, gated, gateErr := s.sourceGate(ctx)
	a, err = s.checkPassword(ctx, lookup{id: a.UserID, src: src, gated: gated}, gateErr, password)
	if err != nil {
		return err
	}
	if a.FailedLogins > 0 {
		if err := s.Store.ClearLoginFailures(ctx, a.UserID); err != nil {
			return err
		}
	}
	// The mail limits count the new recipient (the one that gets a token).
	target := *a
	target.EmailKey = e.Key
	if err := s.reserveMail(ctx, &target); err != nil {
		return err
	}
	now := s.now().Truncate(time.Second)
	rnd, v, err := s.newVerification(e, a.CredVersion, now)
	if err != nil {
		return err
	}
	v.UserID = a.UserID
	ev := s.event(ctx, EventEmailChangeRequested, a, ActorSelf, OutcomeSuccess)
	if err := s.Store.PutVerification(s.carry(ctx, ev), v); err != nil {
		return err
	}
	s.observe(ctx, ev)
	if err := s.sendVerification(ctx, v, rnd); err != nil {
		return err
	}
	if a.Email != "" {
		if err := s.send(ctx, func(ctx context.Context) error {
			return s.Mailer.SendEmailChangeNotice(ctx, EmailChangeNotice{To: MailAddress(a.Email)})
		}); err != nil {
			// The change itself is asked for and mailed; the notice is best effort.
			s.Log.WarnContext(ctx, "email change notice not sent", "user_id", a.UserID, "error", err.Error())
		}
	}
	return nil
}

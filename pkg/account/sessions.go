package account

import (
	"context"
	"errors"
	"time"
)

// Sessions: login, the session check and logout.

// Login authenticates by username and starts a session, returning its token.
func (s *Service) Login(ctx context.Context, username, password string) (*Account, string, error) {
	a, err := s.AuthenticateUsername(ctx, username, password)
	if err != nil {
		return nil, "", err
	}
	token, err := s.StartSession(ctx, a)
	if err != nil {
		return nil, "", err
	}
	return a, token, nil
}

// StartSession creates a session for an authenticated account.
func (s *Service) StartSession(ctx context.Context, a *Account) (string, error) {
	token, hash, err := NewSessionToken(s.Rand, a.UserID)
	if err != nil {
		return "", Internal("session token: %w", err)
	}
	now := s.now()
	ip, ua := requestOrigin(ctx)
	sess := &Session{
		UserID:      a.UserID,
		TokenHash:   hash,
		CredVersion: a.CredVersion,
		CreatedAt:   now,
		ExpiresAt:   expiry(now, s.SessionTTL),
		LastSeenAt:  now.Truncate(time.Millisecond), // what the table keeps
		IP:          ip,
		UserAgent:   ua,
	}
	// A successful login ends the run of failures, in the same write as the session.
	ev := s.event(ctx, EventLoginSucceeded, a, ActorSelf, OutcomeSuccess)
	if err := s.Store.CreateSession(s.carry(ctx, ev), sess, a.FailedLogins > 0); err != nil {
		return "", err
	}
	s.observe(ctx, ev)
	a.FailedLogins, a.LockedUntil = 0, time.Time{}
	return token, nil
}

// Authorize returns the account of a valid session token: the session exists, has not
// expired, and was made with the account's current credentials. One round trip (and a
// write of its last-seen time at most once a SessionSeenInterval).
func (s *Service) Authorize(ctx context.Context, token string) (*Account, *Session, error) {
	a, sess, err := s.authorize(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	s.touch(ctx, sess)
	return a, sess, nil
}

// PeekSession is Authorize without the last-seen write: for the session authorizer, whose
// policy only reads, and (unexported) for the routes that end sessions.
func (s *Service) PeekSession(ctx context.Context, token string) (*Account, *Session, error) {
	return s.authorize(ctx, token)
}

func (s *Service) authorize(ctx context.Context, token string) (*Account, *Session, error) {
	id, hash, ok := ParseSessionToken(token)
	if !ok {
		return nil, nil, ErrNotAuthenticated
	}
	sess, a, err := s.Store.SessionWithAccount(ctx, id, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrNotAuthenticated
	}
	if err != nil {
		return nil, nil, err
	}
	if !s.live(sess, a) {
		return nil, nil, ErrNotAuthenticated
	}
	return a, sess, nil
}

// Logout ends the session of token. ErrNotAuthenticated when it is not a valid session.
func (s *Service) Logout(ctx context.Context, token string) error {
	a, sess, err := s.authorize(ctx, token)
	if err != nil {
		return err
	}
	ev := s.event(ctx, EventSessionEnded, a, ActorSelf, OutcomeSuccess)
	if err := s.Store.DeleteSession(s.carry(ctx, ev), sess.UserID, sess.TokenHash); err != nil {
		return err
	}
	s.observe(ctx, ev)
	return nil
}

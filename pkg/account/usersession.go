package account

import (
	"context"
	"crypto/subtle"
	"strings"
)

// AuthorizeAs is Authorize for a session presented together with its account's userhash,
// as MMDL's front end does (Basic base64(userhash:ssid)): the session must belong to the
// account of that userhash, else ErrNotAuthenticated. Still one round trip: the userhash
// is derived from the account the session read returns.
func (s *Service) AuthorizeAs(ctx context.Context, userHash, token string) (*Account, *Session, error) {
	a, sess, err := s.authorizeAs(ctx, userHash, token)
	if err != nil {
		return nil, nil, err
	}
	s.touch(ctx, sess)
	return a, sess, nil
}

// PeekSessionAs is AuthorizeAs without the last-seen write (see PeekSession).
func (s *Service) PeekSessionAs(ctx context.Context, userHash, token string) (*Account, *Session, error) {
	return s.authorizeAs(ctx, userHash, token)
}

func (s *Service) authorizeAs(ctx context.Context, userHash, token string) (*Account, *Session, error) {
	userHash = strings.ToLower(userHash)
	if !IsUserHash(userHash) {
		return nil, nil, ErrNotAuthenticated
	}
	a, sess, err := s.authorize(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(a.UserHash()), []byte(userHash)) != 1 {
		return nil, nil, ErrNotAuthenticated
	}
	return a, sess, nil
}

// LogoutAs is Logout for a session presented with its account's userhash (see
// AuthorizeAs); another account's session is left alone.
func (s *Service) LogoutAs(ctx context.Context, userHash, token string) error {
	_, sess, err := s.authorizeAs(ctx, userHash, token)
	if err != nil {
		return err
	}
	return s.Store.DeleteSession(ctx, sess.UserID, sess.TokenHash)
}

package account

import (
	"context"
	"errors"
)

// Password changes by a known password, and server-generated passwords.

// ChangePasswordByEmail sets a new password after checking the old one. Unknown email and
// wrong password are the same ErrInvalidCredentials.
func (s *Service) ChangePasswordByEmail(ctx context.Context, email, oldPassword, newPassword string) error {
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	a, err := s.AuthenticateEmail(ctx, email, oldPassword)
	if err != nil {
		if errors.Is(err, ErrNoPassword) {
			return ErrInvalidCredentials
		}
		return err
	}
	hash, err := s.Hasher.Hash(newPassword)
	if err != nil {
		return Internal("hash password: %w", err)
	}
	old := a.PasswordHash
	ev := s.passwordChanged(ctx, a, ActorSelf, "changepassword")
	err = s.Store.ChangeCredentials(s.carry(ctx, ev), CredentialChange{
		UserID: a.UserID, PasswordHash: &hash, IfPasswordHash: &old, ResetHash: a.ResetHash, Now: s.now(),
	})
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		// Someone changed the password (or deleted the account) between our check and
		// our write: the old password is no longer right.
		return ErrInvalidCredentials
	}
	if err == nil {
		s.observe(ctx, ev)
	}
	return err
}

// ResetPasswordGenerated replaces the account's password with a generated one (at least
// 16 characters of [A-Za-z0-9]) and returns it. The caller has authorized the reset (an
// admin did); the account's user_secret stops working.
func (s *Service) ResetPasswordGenerated(ctx context.Context, a *Account) (string, error) {
	return s.resetGenerated(ctx, a, "")
}

// ResetPasswordWithSecret is ResetPasswordGenerated authorized by the account's own
// user_secret, the one route that keeps it. The write is conditional on the secret being
// still the one the caller verified: if another route set a password meanwhile (and so
// voided the secret), this is ErrNotAuthenticated.
func (s *Service) ResetPasswordWithSecret(ctx context.Context, a *Account) (string, error) {
	if a.SecretHash == "" {
		return "", ErrNotAuthenticated
	}
	pw, err := s.resetGenerated(ctx, a, a.SecretHash)
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		return "", ErrNotAuthenticated
	}
	return pw, err
}

func (s *Service) resetGenerated(ctx context.Context, a *Account, keepSecret string) (string, error) {
	pw, err := NewPassword(s.Rand, s.GeneratedPassword)
	if err != nil {
		return "", Internal("generate password: %w", err)
	}
	hash, err := s.Hasher.Hash(pw)
	if err != nil {
		return "", Internal("hash password: %w", err)
	}
	c := CredentialChange{UserID: a.UserID, PasswordHash: &hash, KeepSecret: keepSecret, ResetHash: a.ResetHash, Now: s.now()}
	ev := s.passwordChanged(ctx, a, actorOr(ctx, ActorSelf), methodOr(ctx, "generated"))
	if err := s.Store.ChangeCredentials(s.carry(ctx, ev), c); err != nil {
		return "", err
	}
	s.observe(ctx, ev)
	return pw, nil
}

package account

import (
	"context"
	"errors"
)

// Reset tokens: a mailed random token that authorises one password reset.

// RequestPasswordReset mails a reset token (a random UUID) to the account with this
// email. A newer token replaces the older one. As with OTPs, the mail goes out first.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	a, err := s.AccountByEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := s.reserveMail(ctx, a); err != nil {
		return err
	}
	token, err := NewUUID(s.Rand)
	if err != nil {
		return Internal("reset token: %w", err)
	}
	if err := s.send(ctx, func(ctx context.Context) error {
		return s.Mailer.SendResetToken(ctx, ResetMail{To: MailAddress(a.Email), Token: token, ValidFor: s.ResetTTL})
	}); err != nil {
		return err
	}
	now := s.now()
	r := &ResetToken{TokenHash: HashSecret(token), UserID: a.UserID, CreatedAt: now, ExpiresAt: expiry(now, s.ResetTTL)}
	// A concurrent request may have moved the account's pointer; re-read and retry so the
	// token just mailed is the one that stays valid.
	ev := s.event(ctx, EventResetIssued, a, ActorAnonymous, OutcomeSuccess)
	for range 3 {
		err = s.Store.PutResetToken(s.carry(ctx, ev), r, a.ResetHash)
		if err == nil {
			s.observe(ctx, ev)
		}
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if a, err = s.Store.AccountByID(ctx, a.UserID); err != nil {
			return err
		}
	}
	return err
}

// ResetPasswordWithToken sets a new password with a mailed reset token. Validation of
// the token's shape and of the password comes before the lookup. A token that does not
// work is a failed guess (failedTokenGuess); a valid one (122 random bits, not guessable)
// is refused by no limit.
func (s *Service) ResetPasswordWithToken(ctx context.Context, token, newPassword string) error {
	canon, ok := CanonicalUUID(token)
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	if !ok {
		return ErrTokenNotFound
	}
	hash := HashSecret(canon)
	r, err := s.Store.ResetToken(ctx, hash)
	if errors.Is(err, ErrTokenNotFound) {
		return s.failedTokenGuess(ctx, 0, err)
	}
	if err != nil {
		return err
	}
	if expired(s.now(), r.ExpiresAt) {
		return s.failedTokenGuess(ctx, r.UserID, ErrTokenExpired)
	}
	pw, err := s.Hasher.Hash(newPassword)
	if err != nil {
		return Internal("hash password: %w", err)
	}
	who := &Account{UserID: r.UserID}
	evs := []Event{s.event(ctx, EventResetUsed, who, ActorSelf, OutcomeSuccess), s.passwordChanged(ctx, who, ActorSelf, "reset_token")}
	err = s.Store.ChangeCredentials(s.carry(ctx, evs...), CredentialChange{
		UserID: r.UserID, PasswordHash: &pw, ConsumeReset: hash, ResetHash: hash, Now: s.now(), VerifyEmail: true,
	})
	if err == nil {
		s.observe(ctx, evs...)
	}
	return err
}

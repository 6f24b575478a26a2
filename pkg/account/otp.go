package account

import (
	"context"
	"errors"
	"time"
)

// One-time passwords (OTP): a mailed 6-digit code that authorises one password change.

// RequestOTP mails a 6-digit code to the account's address and returns the request id
// that must come back with it. The mail goes out before the code is stored, so a failed
// send leaves no usable code behind.
func (s *Service) RequestOTP(ctx context.Context, username string) (*Account, string, error) {
	a, err := s.AccountByUsername(ctx, username)
	if err != nil {
		return nil, "", err
	}
	if a.Email == "" {
		return nil, "", ErrNoEmail
	}
	if err := s.reserveMail(ctx, a); err != nil {
		return nil, "", err
	}
	reqID, reqHash, key, err := newReqID(s.Rand, a.UserID)
	if err != nil {
		return nil, "", Internal("otp request id: %w", err)
	}
	code, err := newOTPCode(s.Rand)
	if err != nil {
		return nil, "", Internal("otp code: %w", err)
	}
	if err := s.send(ctx, func(ctx context.Context) error {
		return s.Mailer.SendOTP(ctx, OTPMail{To: MailAddress(a.Email), Code: code, ValidFor: s.OTPTTL})
	}); err != nil {
		return nil, "", err
	}
	now := s.now()
	o := &OTP{
		UserID:    a.UserID,
		ReqIDHash: reqHash,
		UserHash:  a.UserHash(),
		CodeMAC:   otpMAC(key, code),
		CreatedAt: now,
		ExpiresAt: expiry(now, s.OTPTTL),
	}
	ev := s.event(ctx, EventOTPIssued, a, ActorAnonymous, OutcomeSuccess)
	if err := s.Store.PutOTP(s.carry(ctx, ev), o); err != nil {
		return nil, "", err
	}
	s.observe(ctx, ev)
	return a, reqID, nil
}

// reserveMail applies the per-account mail limits (one per MailInterval, MailPerHour an
// hour) and records this mail before it is sent; a concurrent request for the same account
// loses the race and is refused, which is what the interval rule asks anyway. A mail that
// then fails to send still counts: the limit protects the mail service as much as the user.
// The recipient's and the installation's limits are counted in the same write, so a
// request any limit refuses costs no other.
func (s *Service) reserveMail(ctx context.Context, a *Account) error {
	now := s.now().Truncate(time.Second)
	var recent []time.Time
	for _, t := range a.MailSent {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	if n := len(recent); n > 0 {
		if wait := s.MailInterval - now.Sub(recent[n-1]); wait > 0 {
			return tooMany(wait)
		}
		if n >= s.MailPerHour {
			return tooMany(recent[n-s.MailPerHour].Add(time.Hour).Sub(now))
		}
	}
	next := append(recent[:len(recent):len(recent)], now)
	err := s.Store.ReserveMailQuota(ctx, a.UserID, a.MailSent, next, s.mailQuota(a, now))
	if errors.Is(err, ErrConflict) {
		return tooMany(s.MailInterval)
	}
	if errors.Is(err, ErrTooManyAttempts) {
		return s.quotaRefused(ctx, a, now, err)
	}
	if err != nil {
		return err
	}
	a.MailSent = next
	return nil
}

func (s *Service) send(ctx context.Context, fn func(context.Context) error) error {
	if s.Mailer == nil {
		return E(CodeMailFailed, errors.New("no mailer configured"))
	}
	ctx, cancel := context.WithTimeout(ctx, s.MailTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		s.observe(ctx, s.event(ctx, EventMailFailed, nil, ActorAnonymous, OutcomeFailure))
		return E(CodeMailFailed, err)
	}
	s.observe(ctx, s.event(ctx, EventMailSent, nil, ActorAnonymous, OutcomeSuccess))
	return nil
}

// ChangePasswordWithOTP sets a new password with a mailed code. The new password is
// checked first so a valid code is never spent on an invalid password. Every check of a
// code is counted before it happens, against the code (MaxOTPAttempts) and against the
// account's budget (OTPFailuresPerDay), so racing guesses cannot exceed either; the
// request's source must be within its limit, and a wrong code or request id counts there.
func (s *Service) ChangePasswordWithOTP(ctx context.Context, userHash, reqID, code, newPassword string) error {
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	userID, reqHash, key, ok := parseReqID(reqID)
	if !ok || !IsUserHash(userHash) {
		return ErrInvalidRequest
	}
	if !isOTPCode(code) {
		// Cannot be right; not worth an attempt. Whether the request exists is not
		// revealed by the answer either way.
		return ErrInvalidOTP
	}
	src, gated, err := s.sourceGate(ctx)
	if err != nil {
		return err
	}
	o, err := s.Store.SpendOTPAttempt(ctx, userID, reqHash, userHash, s.now(), s.MaxOTPAttempts)
	if errors.Is(err, ErrInvalidRequest) {
		s.sourceFailed(ctx, src, gated)
	}
	if err != nil {
		return err
	}
	// Only a request id of the account's pending code spends its budget, so made-up ones
	// cannot exhaust it. A successful change clears it.
	if err := s.spendGuess(ctx, userID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrInvalidRequest
		}
		return err
	}
	if !otpMatches(o.CodeMAC, key, code) {
		ev := s.event(ctx, EventLoginFailed, &Account{UserID: userID}, ActorAnonymous, OutcomeFailure)
		ev.Method = "otp"
		s.sourceFailed(ctx, src, gated, ev)
		return ErrInvalidOTP
	}
	hash, err := s.Hasher.Hash(newPassword)
	if err != nil {
		return Internal("hash password: %w", err)
	}
	who := &Account{UserID: userID}
	evs := []Event{s.event(ctx, EventOTPUsed, who, ActorSelf, OutcomeSuccess), s.passwordChanged(ctx, who, ActorSelf, "otp")}
	err = s.Store.ChangeCredentials(s.carry(ctx, evs...), CredentialChange{
		UserID: userID, PasswordHash: &hash, ConsumeOTP: reqHash, Now: s.now(), VerifyEmail: true,
	})
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidRequest // the account was deleted meanwhile
	}
	if err == nil {
		s.observe(ctx, evs...)
	}
	return err
}

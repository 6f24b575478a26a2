package account

import (
	"context"
	"errors"
)

// ResetCredentials are what a request presents to have an account's password reset
// without knowing it (the v1 family's resetpassword): the account's own user_secret, or
// the credentials of an admin. At most one is used, the user_secret first.
type ResetCredentials struct {
	UserSecret    string
	HasUserSecret bool
	AdminName     string
	AdminSecret   string
	HasAdmin      bool
}

// dummySecretHash is compared against when the account is unknown or has no user_secret,
// so that the secret check costs the same either way.
var dummySecretHash = HashSecret("no account has this user_secret")

// ResetPasswordAuthorized sets a new generated password on the account of email and
// returns the account and the password, when c authorises it. Only a reset with the
// account's own user_secret keeps that secret working. Every unauthorised case (no or
// other credentials, unknown email, wrong secret, a non-admin's credentials) is
// ErrNotAuthenticated, so the answer does not tell them apart.
func (s *Service) ResetPasswordAuthorized(ctx context.Context, email string, c ResetCredentials) (*Account, string, error) {
	a, bySecret, err := s.authorizeReset(ctx, email, c)
	actor := ActorSelf
	if !bySecret && c.HasAdmin {
		actor = "admin:" + c.AdminName
	}
	if err != nil {
		return nil, "", err
	}
	reset := s.ResetPasswordGenerated
	if bySecret {
		reset = s.ResetPasswordWithSecret
	}
	pw, err := reset(withActor(ctx, actor, "v1_reset"), a)
	if err != nil {
		return nil, "", err
	}
	return a, pw, nil
}

func (s *Service) authorizeReset(ctx context.Context, email string, c ResetCredentials) (*Account, bool, error) {
	switch {
	case c.HasUserSecret:
		a, err := s.AccountByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) {
			SecretMatches(dummySecretHash, c.UserSecret)
			return nil, false, ErrNotAuthenticated
		}
		if err != nil {
			return nil, false, err
		}
		if a.SecretHash == "" {
			SecretMatches(dummySecretHash, c.UserSecret)
			return nil, false, ErrNotAuthenticated
		}
		if !SecretMatches(a.SecretHash, c.UserSecret) {
			return nil, false, ErrNotAuthenticated
		}
		return a, true, nil
	case c.HasAdmin:
		_, err := s.AuthenticateAdmin(ctx, c.AdminName, c.AdminSecret)
		switch ErrorCode(err) {
		case "":
		case CodeInvalidCredentials, CodeForbidden, CodeNoPassword:
			return nil, false, ErrNotAuthenticated
		default:
			return nil, false, err
		}
		a, err := s.AccountByEmail(ctx, email)
		if errors.Is(err, ErrNotFound) {
			return nil, false, ErrNotAuthenticated
		}
		return a, false, err
	}
	return nil, false, ErrNotAuthenticated
}

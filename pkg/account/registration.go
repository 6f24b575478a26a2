package account

import (
	"context"
)

// Registration and account lookups: the use cases that create an account and find one by name or address.

// NewAccount is the input of Register. Validation order: username, email, password,
// token, then the profile fields (name, bio, website, pronounce).
type NewAccount struct {
	Username string
	Email    string // "" = none
	Password string // "" = none; allowed only together with a Token
	Token    string // chosen admin API token; "" = none
	Profile  Profile
	Role     Role // "" = RoleUser
	// WithUserSecret generates the account v1 user_secret, returned once in Created.
	WithUserSecret bool
	// SelfService marks sign-up routes, which AllowRegistration governs.
	SelfService bool
}

// Created is the result of Register.
type Created struct {
	Account    *Account
	UserSecret string // only with WithUserSecret; shown once
}

// Validate checks n in the documented order without side effects.
func (n NewAccount) Validate() (Username, Email, error) {
	u, err := ParseUsername(n.Username)
	if err != nil {
		return Username{}, Email{}, err
	}
	var e Email
	if n.Email != "" {
		if e, err = ParseEmail(n.Email); err != nil {
			return Username{}, Email{}, err
		}
	}
	if n.Password != "" || n.Token == "" {
		if err := ValidatePassword(n.Password); err != nil {
			return Username{}, Email{}, err
		}
	}
	if n.Token != "" {
		if err := ValidateToken(n.Token); err != nil {
			return Username{}, Email{}, err
		}
	}
	if err := n.Profile.Validate(); err != nil {
		return Username{}, Email{}, err
	}
	return u, e, nil
}

// RegistrationOpen is the registration switch: ErrRegistrationDisabled when self-service
// sign-up is off. The sign-up routes ask it before they read the body (a closed
// registration is the answer whatever the body says); Register asks it too.
func (s *Service) RegistrationOpen() error {
	if !s.AllowRegistration {
		return ErrRegistrationDisabled
	}
	return nil
}

// Register creates an account. Round trips: the counter and one transaction.
func (s *Service) Register(ctx context.Context, n NewAccount) (*Created, error) {
	if n.SelfService {
		if err := s.RegistrationOpen(); err != nil {
			return nil, err
		}
	}
	u, e, err := n.Validate()
	if err != nil {
		return nil, err
	}
	role := n.Role
	if role == "" {
		role = RoleUser
	}
	if role != RoleUser && role != RoleAdmin {
		return nil, Internal("register: unknown role %q", role)
	}
	now := s.now()
	a := &Account{
		Username:    u.Display,
		UsernameKey: u.Key,
		Email:       e.Address,
		EmailKey:    e.Key,
		Name:        deref(n.Profile.Name),
		Bio:         deref(n.Profile.Bio),
		Website:     deref(n.Profile.Website),
		Pronounce:   deref(n.Profile.Pronounce),
		Role:        role,
		CredVersion: 1,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if n.Password != "" {
		if a.PasswordHash, err = s.Hasher.Hash(n.Password); err != nil {
			return nil, Internal("hash password: %w", err)
		}
	}
	if n.Token != "" {
		if a.TokenHash, err = s.Hasher.Hash(n.Token); err != nil {
			return nil, Internal("hash token: %w", err)
		}
		// Without the token-index key (functions that never set tokens) the token gets no
		// index item, like a token from before the index: Basic finds it, Bearer does not,
		// until it is set again. The admin use cases insist on the key (CreateUser).
		if len(s.TokenIndexKey) > 0 {
			if a.TokenIndex, err = s.TokenIndex(n.Token); err != nil {
				return nil, err
			}
		}
	}
	out := &Created{Account: a}
	if n.WithUserSecret {
		if out.UserSecret, a.SecretHash, err = NewUserSecret(s.Rand); err != nil {
			return nil, Internal("user secret: %w", err)
		}
	}
	// The new account's id comes from the store: its record is bound to it there.
	ev := s.event(ctx, EventAccountCreated, nil, actorOr(ctx, ActorSelf), OutcomeSuccess)
	ev.Username = a.Username
	if a.EmailKey != "" && s.Mailer != nil {
		err = s.registerVerifying(s.carry(ctx, ev), a, e)
	} else {
		err = s.Store.CreateAccount(s.carry(ctx, ev), a)
	}
	if err != nil {
		return nil, err
	}
	ev.UserID = a.UserID
	s.observe(ctx, ev)
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// AccountByUsername finds an account by any spelling of its username. An invalid username
// cannot exist, so it is ErrNotFound.
func (s *Service) AccountByUsername(ctx context.Context, username string) (*Account, error) {
	u, err := ParseUsername(username)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.Store.AccountByUsername(ctx, u.Key)
}

// AccountByEmail finds an account by email, without regard to case.
func (s *Service) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	e, err := ParseEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.Store.AccountByEmail(ctx, e.Key)
}

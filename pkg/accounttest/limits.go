package accounttest

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// reserveCheck applies the failed-login policy of Store.ReserveLoginAttempt to the
// failure state in a (an account's, or an unknown identifier's), at now.
func reserveCheck(a *account.Account, now time.Time) error {
	if a.FailedLogins > 0 && now.Sub(a.LastAttempt) >= account.FailureMemory {
		a.FailedLogins, a.LockedUntil = 0, time.Time{} // a forgotten run
	}
	if now.Before(a.LockedUntil) {
		return &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: a.LockedUntil.Sub(now)}
	}
	n := a.FailedLogins + 1
	switch {
	case a.FailedLogins < account.FreeLoginAttempts:
		a.LockedUntil = time.Time{}
	case !a.LockedUntil.IsZero() || now.Sub(a.LastAttempt) >= account.StaleAttempt:
		a.LockedUntil = now.Add(account.Lockout(n))
	default: // the free-th check is still in flight
		return &account.Error{Code: account.CodeTooManyAttempts}
	}
	a.FailedLogins, a.LastAttempt = n, now
	return nil
}

func (s *Store) UserIDByUsernameFrom(ctx context.Context, key string, src account.Source) (int64, int, error) {
	id, err := s.UserIDByUsername(ctx, key)
	n, _ := s.SourceFailures(ctx, src)
	return id, n, err
}

func (s *Store) UserIDByEmailFrom(ctx context.Context, key string, src account.Source) (int64, int, error) {
	id, err := s.UserIDByEmail(ctx, key)
	n, _ := s.SourceFailures(ctx, src)
	return id, n, err
}

func (s *Store) SourceFailures(_ context.Context, src account.Source) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sourceFails[src], nil
}

func (s *Store) AddSourceFailure(ctx context.Context, src account.Source, _ time.Time) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	if s.sourceFails == nil {
		s.sourceFails = map[account.Source]int{}
	}
	s.sourceFails[src]++
	return nil
}

func (s *Store) ReserveUnknownAttempt(_ context.Context, idHash string, now time.Time) (*account.Account, error) {
	now = now.Truncate(time.Millisecond) // what DynamoDB keeps
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unknown == nil {
		s.unknown = map[string]account.Account{}
	}
	f := s.unknown[idHash]
	if err := reserveCheck(&f, now); err != nil {
		return nil, err
	}
	s.unknown[idHash] = f
	return &f, nil
}

func (s *Store) LockUnknown(_ context.Context, idHash string, n int, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lockOnce(s.unknown, idHash, n, until)
	return nil
}

func (s *Store) ReserveGuess(_ context.Context, userID int64, now time.Time, max int, window time.Duration) error {
	now = now.Truncate(time.Second) // what DynamoDB keeps
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[userID]; !ok {
		return account.ErrNotFound
	}
	var recent []time.Time
	for _, t := range s.guesses[userID] {
		if now.Sub(t) < window {
			recent = append(recent, t)
		}
	}
	if len(recent) >= max {
		return &account.Error{Code: account.CodeTooManyAttempts, RetryAfter: recent[len(recent)-max].Add(window).Sub(now)}
	}
	if s.guesses == nil {
		s.guesses = map[int64][]time.Time{}
	}
	s.guesses[userID] = append(recent, now)
	return nil
}

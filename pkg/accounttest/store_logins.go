package accounttest

import (
	"context"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// The fake's failed-login and mail-limit state (account.Store's limit methods).

// mailSentWas returns account id if its list of mails sent is still prev (the caller's
// optimistic lock), under s.mu.
func (s *Store) mailSentWas(id int64, prev []time.Time) (account.Account, error) {
	a, err := lookup(s.accounts, id, account.ErrNotFound)
	if err == nil && !slices.EqualFunc(a.MailSent, prev, time.Time.Equal) {
		err = account.ErrConflict
	}
	return a, err
}

// lockOnce locks the failure state m holds at k once n failures have reached it and no
// one has locked it yet: of racing lockers, one sets the time.
func lockOnce[K comparable](m map[K]account.Account, k K, n int, until time.Time) {
	f, ok := m[k]
	if ok && f.FailedLogins == n && f.LockedUntil.IsZero() {
		f.LockedUntil = until.Truncate(time.Millisecond)
		m[k] = f
	}
}

func (s *Store) ReserveLoginAttempt(_ context.Context, id int64, now time.Time) (*account.Account, error) {
	now = now.Truncate(time.Millisecond) // what DynamoDB keeps
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, account.ErrNotFound
	}
	if err := reserveCheck(&a, now); err != nil {
		return nil, err
	}
	s.accounts[id] = a
	return s.account(id)
}

func (s *Store) LockAccount(ctx context.Context, id int64, n int, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.accounts[id].LockedUntil
	lockOnce(s.accounts, id, n, until)
	if a, ok := s.accounts[id]; ok && !a.LockedUntil.Equal(before) {
		s.keepAudit(ctx, nil, 0) // only the check that set the lock records it
	}
	return nil
}

func (s *Store) ClearLoginFailures(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return account.ErrNotFound
	}
	a.FailedLogins, a.LockedUntil = 0, time.Time{}
	s.accounts[id] = a
	return nil
}

func (s *Store) ReserveMail(_ context.Context, id int64, prev, next []time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.mailSentWas(id, prev)
	if err != nil {
		return err
	}
	a.MailSent = slices.Clone(next)
	s.accounts[id] = a
	return nil
}

// mailQuota holds the fake's hourly mail counters (ReserveMailQuota), under Store.mu.
type mailQuota struct {
	recipient map[string]int    // recipient key + hour -> mails
	budget    map[time.Time]int // hour -> mails
}

func (s *Store) ReserveMailQuota(_ context.Context, id int64, prev, next []time.Time, q account.MailQuota) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.mailSentWas(id, prev)
	if err != nil {
		return err
	}
	if !s.countMail(q) {
		return account.ErrTooManyAttempts
	}
	a.MailSent = slices.Clone(next)
	s.accounts[id] = a
	return nil
}

package accounttest

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Pending email verifications of the in-memory Store (account.Store, verify.go).

func (s *Store) CreateAccountWithVerification(ctx context.Context, a *account.Account, v *account.EmailVerification, q account.MailQuota) (bool, error) {
	if err := s.CreateAccount(ctx, a); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.countMail(q) {
		return false, nil
	}
	v.UserID = a.UserID
	s.putVerification(v)
	return true, nil
}

// countMail counts one mail against q's counters, unless one is at its limit.
func (s *Store) countMail(q account.MailQuota) bool {
	if s.quota.recipient == nil {
		s.quota = mailQuota{recipient: map[string]int{}, budget: map[time.Time]int{}}
	}
	hour := q.Hour.UTC().Truncate(time.Hour)
	rk := q.Recipient + "#" + hour.Format(time.RFC3339)
	if s.quota.recipient[rk] >= q.PerRecipient || s.quota.budget[hour] >= q.Budget {
		return false
	}
	s.quota.recipient[rk]++
	s.quota.budget[hour]++
	return true
}

func (s *Store) putVerification(v *account.EmailVerification) {
	if s.verifications == nil {
		s.verifications = map[int64]account.EmailVerification{}
	}
	s.verifications[v.UserID] = *v
}

func (s *Store) PutVerification(ctx context.Context, v *account.EmailVerification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putVerification(v)
	s.keepAudit(ctx, nil, 0)
	return nil
}

func (s *Store) VerificationWithAccount(_ context.Context, id int64) (*account.EmailVerification, *account.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verifications[id]
	a, err := s.account(id)
	if !ok || err != nil {
		return nil, nil, account.ErrNotFound
	}
	return &v, a, nil
}

func (s *Store) ConfirmEmail(ctx context.Context, v *account.EmailVerification, cur *account.Account, now time.Time) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.keepAudit(ctx, err, 0) }()
	pending, ok := s.verifications[v.UserID]
	if !ok || pending.TokenHash != v.TokenHash {
		return account.ErrTokenNotFound
	}
	change := v.EmailKey != cur.EmailKey
	if change {
		if _, taken := s.byEmail[v.EmailKey]; taken {
			return account.ErrEmailTaken
		}
	}
	a, ok := s.accounts[v.UserID]
	if !ok || a.CredVersion != cur.CredVersion || a.EmailKey != cur.EmailKey {
		return account.ErrTokenNotFound
	}
	delete(s.verifications, v.UserID)
	if change {
		if a.EmailKey != "" {
			delete(s.byEmail, a.EmailKey)
		}
		s.byEmail[v.EmailKey] = v.UserID
		a.Email, a.EmailKey = v.Email, v.EmailKey
	}
	a.EmailVerified = true
	a.UpdatedAt = now
	s.accounts[v.UserID] = a
	return nil
}

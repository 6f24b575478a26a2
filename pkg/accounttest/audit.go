package accounttest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// keepAudit stores the audit records ctx carries when the write it ends succeeded (under
// s.mu), created binding those of a new account (account.AuditRecords).
//
// It also applies the clearing of an acting admin's failed checks that ctx carries
// (account.WithClearing), as the DynamoDB store's transactions do.
func (s *Store) keepAudit(ctx context.Context, err error, created int64) {
	if err != nil {
		return
	}
	s.putAudit(account.AuditRecords(ctx, created))
	if c := account.ClearingFrom(ctx); c != nil {
		if a, ok := s.accounts[c.UserID]; ok {
			a.FailedLogins, a.LockedUntil = 0, time.Time{}
			s.accounts[c.UserID] = a
			c.Done()
		}
	}
}

func (s *Store) putAudit(recs []account.AuditRecord) {
	if s.events == nil {
		s.events = map[int64][]account.AuditRecord{}
	}
	for _, r := range recs {
		evs := append(s.events[r.Under], r)
		slices.SortFunc(evs, func(a, b account.AuditRecord) int { return strings.Compare(a.SortKey(), b.SortKey()) })
		s.events[r.Under] = evs
	}
}

func (s *Store) PutAudit(_ context.Context, recs []account.AuditRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putAudit(recs)
	return nil
}

func (s *Store) Events(_ context.Context, userID int64, after string, limit int) ([]account.Event, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.events[userID]
	var out []account.Event
	for i := len(recs) - 1; i >= 0; i-- {
		if after != "" && recs[i].SortKey() >= after {
			continue
		}
		if len(out) == limit {
			return out, recs[i+1].SortKey(), nil
		}
		out = append(out, recs[i].Event)
	}
	return out, "", nil
}

// AuditRecords are every record the store holds, for tests that look for secrets in them.
func (s *Store) AuditRecords() []account.AuditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []account.AuditRecord
	for _, recs := range s.events {
		out = append(out, recs...)
	}
	return out
}

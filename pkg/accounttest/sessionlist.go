package accounttest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// ListSessions returns copies of every stored session of the account, in token-hash
// order (as the table's sort key orders them).
func (s *Store) ListSessions(_ context.Context, userID int64) ([]*account.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*account.Session, 0, len(s.sessions[userID]))
	for _, x := range s.sessions[userID] {
		out = append(out, &x)
	}
	slices.SortFunc(out, func(p, q *account.Session) int { return strings.Compare(p.TokenHash, q.TokenHash) })
	return out, nil
}

func (s *Store) TouchSession(_ context.Context, userID int64, hash string, now, staleAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[userID][hash]
	if !ok || x.LastSeenAt.After(staleAt) {
		return nil
	}
	// The table keeps milliseconds.
	x.LastSeenAt = now.Truncate(time.Millisecond)
	s.sessions[userID][hash] = x
	return nil
}

package account

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse/pkg/config/defaults"
)

// Limits beyond the per-account failed-login policy (API.md, "Limits and sign-out"):
//
//   - a budget of wrong one-time codes and reset-token guesses per account (GuessesPerDay
//     in any GuessWindow), counted before each check so racing guesses cannot exceed it;
//   - failed credential checks per source network per clock hour (IPFailedChecksPerHour),
//     read before a check and counted after a failure, so one client cannot lock out
//     many accounts: past the limit its checks are refused before they count anywhere;
//   - failure counts for identifiers without an account, kept like an account's, so that
//     the lockout's 429 does not tell which usernames and emails exist.

// Defaults and fixed windows of these limits.
const (
	DefaultOTPFailuresPerDay     = defaults.OTPFailuresPerDay
	DefaultIPFailedChecksPerHour = defaults.IPFailedChecksPerHour
	// GuessWindow is the rolling window of the per-account guess budget.
	GuessWindow = 24 * time.Hour
	// SourceWindow is the fixed window (clock hours, UTC) of the per-source count.
	SourceWindow = time.Hour
	// FailureMemory is how long a run of failed password checks is remembered after the
	// last counted check, for accounts and unknown identifiers alike: an unknown
	// identifier's record must expire, and an account that forgot its failures at another
	// time would tell the two apart.
	FailureMemory = 24 * time.Hour
)

// Source is one source network's failed-check count for one window.
type Source struct {
	Net    string    // the client address, or its /64 for IPv6
	Window time.Time // start of the window (a clock hour)
}

type sourceIPKey struct{}

// WithSourceIP returns ctx carrying the client address of the request (the API Gateway
// event's requestContext.http.sourceIp), which the per-source limit reads. The Lambda
// wrapper sets it once, so no use case needs it as a parameter.
func WithSourceIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, sourceIPKey{}, ip)
}

// SourceNet is the network a client address is counted under: an IPv4 address itself, an
// IPv6 address's /64 (one subscriber usually holds a whole /64, so single addresses would
// cost an attacker nothing). "" for anything that is not an address.
func SourceNet(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ""
	}
	return p.String()
}

// source returns the request's per-source counter, or ok false when the limit is off or
// the request has no client address (a command-line tool, a test).
func (s *Service) source(ctx context.Context) (src Source, ok bool) {
	if s.IPFailedChecksPerHour < 0 {
		return Source{}, false
	}
	ip, _ := ctx.Value(sourceIPKey{}).(string)
	if src.Net = SourceNet(ip); src.Net == "" {
		return Source{}, false
	}
	src.Window = s.now().Truncate(SourceWindow)
	return src, true
}

// sourceRefused is the answer for a source past its limit, or nil.
func (s *Service) sourceRefused(src Source, failures int) error {
	if failures < s.IPFailedChecksPerHour {
		return nil
	}
	return tooMany(src.Window.Add(SourceWindow).Sub(s.now()))
}

// sourceGate reads the source's count and refuses a source past its limit. Round trips: 1
// (none when the limit is off).
func (s *Service) sourceGate(ctx context.Context) (Source, bool, error) {
	src, ok := s.source(ctx)
	if !ok {
		return src, false, nil
	}
	n, err := s.Store.SourceFailures(ctx, src)
	if err != nil {
		return src, false, err
	}
	return src, true, s.sourceRefused(src, n)
}

// sourceFailed counts a failed check against the source. A lost write only errs on the
// side of the client: logged, not returned.
//
// evs (the failure's audit events) go with that write, or on their own without one.
func (s *Service) sourceFailed(ctx context.Context, src Source, ok bool, evs ...Event) {
	if !ok {
		s.record(ctx, evs...)
		return
	}
	if err := s.Store.AddSourceFailure(s.carry(ctx, evs...), src, src.Window.Add(SourceWindow+time.Minute)); err != nil {
		s.Log.WarnContext(ctx, "source failure not counted", "error", err)
		return
	}
	s.observe(ctx, evs...)
}

// unknownFailed is unknownCheck with its audit event: a check against an identifier
// without an account is observed (logged, counted), never stored.
func (s *Service) unknownFailed(ctx context.Context, typ EventType, l lookup, secret string) (*Account, error) {
	a, err := s.unknownCheck(ctx, l, secret)
	outcome := OutcomeFailure
	var e *Error
	if errors.As(err, &e) && e.Code == CodeTooManyAttempts {
		outcome = OutcomeRefused
	}
	s.observe(ctx, s.event(ctx, typ, nil, ActorAnonymous, outcome))
	return a, err
}

// refused observes that a limit (why) refused a check of the account l found, when err
// is that refusal. It is not stored: a stored refusal would cost known names a round trip
// that unknown ones do not (the start of a lockout is stored, see failed).
func (s *Service) refused(ctx context.Context, typ EventType, l lookup, err error, why string) {
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeTooManyAttempts {
		return
	}
	var a *Account
	if l.err == nil && l.id != 0 {
		a = &Account{UserID: l.id}
	}
	ev := s.event(ctx, typ, a, ActorAnonymous, OutcomeRefused)
	ev.Method = why
	// Stored nowhere (a lockout is stored once, when it starts): observed as such, so that
	// it still gets its log line.
	s.observe(WithNotStored(ctx), ev)
}

// lookup is where a password check starts: the account's id (or ErrNotFound) by a unique
// key, with the source's count read in the same round trip.
type lookup struct {
	id    int64
	err   error
	ident string // hash of the canonical identifier, for the count of an unknown one
	src   Source
	gated bool
}

// lookupID reads the unique key (and the source's count, when the limit applies) in one
// round trip. plain and from are the store's two readers of that key.
func (s *Service) lookupID(ctx context.Context, key string,
	plain func(context.Context, string) (int64, error),
	from func(context.Context, string, Source) (int64, int, error),
) (lookup, error) {
	l := lookup{ident: IdentifierHash(key)}
	var ok bool
	if l.src, ok = s.source(ctx); !ok {
		l.id, l.err = plain(ctx, key)
		return l, nil
	}
	l.gated = true
	var n int
	l.id, n, l.err = from(ctx, key, l.src)
	if l.err != nil && !errors.Is(l.err, ErrNotFound) {
		return l, l.err
	}
	return l, s.sourceRefused(l.src, n)
}

// IdentifierHash keys the failure count of an identifier without an account. Usernames
// and emails share one space: an account registered by email (Account v1) has its email
// as its username, so one count for both is what such an account shows.
func IdentifierHash(canonical string) string { return HashSecret("identifier\x00" + canonical) }

// unknownCheck is a password check of an identifier without an account: it is counted and
// throttled like an account's and costs what a check costs, and it always fails.
func (s *Service) unknownCheck(ctx context.Context, l lookup, secret string) (*Account, error) {
	f, err := s.reserve(ctx, func(now time.Time) (*Account, error) {
		return s.Store.ReserveUnknownAttempt(ctx, l.ident, now)
	})
	if err != nil {
		return nil, err
	}
	s.Hasher.VerifyDummy(secret)
	if f.FailedLogins == FreeLoginAttempts {
		if err := s.Store.LockUnknown(ctx, l.ident, f.FailedLogins, s.now().Add(Lockout(f.FailedLogins))); err != nil {
			s.Log.WarnContext(ctx, "lock not stored", "error", err)
		}
	}
	s.sourceFailed(ctx, l.src, l.gated)
	return nil, ErrInvalidCredentials
}

// failedTokenGuess answers a reset token that does not work. An unknown token cannot be
// attributed to an account, so it counts against the source only; an expired one, a guess
// at a known account, also spends that account's budget. Past either limit the answer is
// 429 instead, which tells a guesser nothing.
func (s *Service) failedTokenGuess(ctx context.Context, userID int64, answer error) error {
	src, gated, err := s.sourceGate(ctx)
	if err != nil {
		return err
	}
	if userID != 0 {
		if err := s.spendGuess(ctx, userID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	s.sourceFailed(ctx, src, gated)
	return answer
}

// spendGuess takes one guess of a one-time code or reset token from the account's budget.
func (s *Service) spendGuess(ctx context.Context, userID int64) error {
	return s.Store.ReserveGuess(ctx, userID, s.now(), s.OTPFailuresPerDay, GuessWindow)
}

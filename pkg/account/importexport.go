package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// MaxListAccounts bounds Store.ListAccounts' page (one DynamoDB BatchGetItem).
const MaxListAccounts = 100

// MaxImportLine bounds one line of an import file; a longer one is refused, not read.
const MaxImportLine = 64 << 10

// HashChecker is implemented by a Hasher that can tell, without hashing, whether it can
// verify a stored hash (password.Hasher). Import refuses what it cannot verify.
type HashChecker interface {
	CheckHash(hash string) error
}

// ImportOutcome is what became of one line.
type ImportOutcome string

const (
	ImportCreated   ImportOutcome = "created"   // (with DryRun: would be created)
	ImportUnchanged ImportOutcome = "unchanged" // the account exists already (see sameImport)
	ImportRefused   ImportOutcome = "refused"   // see Reason; nothing was written
)

// ImportResult is the report of one line.
type ImportResult struct {
	Line     int
	Username string // as the line gives it; "" when unreadable
	Outcome  ImportOutcome
	Reason   string // why refused; never holds a hash
}

// ImportSummary counts the lines by outcome (blank lines are skipped, not counted).
type ImportSummary struct {
	Lines, Created, Unchanged, Refused int
}

// ImportOptions tune Import.
type ImportOptions struct {
	DryRun bool // validate and look up, write nothing
	// Concurrency bounds the lines in flight against the store (default 16).
	Concurrency int
	// Report receives every result (one goroutine at a time, in completion order).
	Report func(ImportResult)
	// Progress, when set, receives the running totals every ProgressEvery lines (default
	// 1000) and at the end.
	Progress      func(ImportSummary)
	ProgressEvery int
}

// ErrImportAborted wraps the store fault that stopped an import. Every line before it was
// written whole or not at all (one transaction each), so running the import again
// continues where it stopped.
var ErrImportAborted = errors.New("import stopped by a store fault")

type importJob struct {
	line     int
	username string
	acct     *Account
}

// Import reads JSON lines from r and creates one account per line through the rules of
// registration (username, email and profile validation and folding, uniqueness in the
// store's transaction), keeping each line's password hash and created_at. A refused line
// never stops the others. A line naming an account that exists with the same canonical
// username, email and created_at is the same account imported before: "unchanged", and
// left as it is (logins since may have rehashed its password or its user edited the
// profile). Any other account holding the name or email is a refusal.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportSummary, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 1000
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var (
		mu  sync.Mutex
		sum ImportSummary
	)
	record := func(res ImportResult) {
		mu.Lock()
		defer mu.Unlock()
		sum.Lines++
		switch res.Outcome {
		case ImportCreated:
			sum.Created++
		case ImportUnchanged:
			sum.Unchanged++
		default:
			sum.Refused++
		}
		if opt.Report != nil {
			opt.Report(res)
		}
		if opt.Progress != nil && sum.Lines%opt.ProgressEvery == 0 {
			opt.Progress(sum)
		}
	}

	jobs := make(chan importJob)
	var wg sync.WaitGroup
	for range opt.Concurrency {
		wg.Go(func() {
			for j := range jobs {
				out, reason, err := s.importAccount(ctx, j.acct, opt.DryRun)
				if err != nil {
					cancel(fmt.Errorf("%w: line %d: %w", ErrImportAborted, j.line, err))
					continue // drain; the line is neither reported nor counted
				}
				record(ImportResult{Line: j.line, Username: j.username, Outcome: out, Reason: reason})
			}
		})
	}

	// Lines of this file that already claimed a username or email key: a later line with
	// the same key is refused here, so which line wins does not depend on scheduling.
	seenName, seenEmail := map[string]int{}, map[string]int{}
	hc, _ := s.Hasher.(HashChecker)
	lines := newLineReader(r)
	var readErr error
	for ctx.Err() == nil {
		n, line, tooLong, err := lines.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = fmt.Errorf("reading line %d: %w", n, err)
			}
			break
		}
		if tooLong {
			record(ImportResult{Line: n, Outcome: ImportRefused, Reason: fmt.Sprintf("line longer than %d bytes", MaxImportLine)})
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := ParseUserRecord(line)
		if err != nil {
			record(ImportResult{Line: n, Username: rec.Username, Outcome: ImportRefused, Reason: err.Error()})
			continue
		}
		a, err := rec.account(hc)
		if err != nil {
			record(ImportResult{Line: n, Username: rec.Username, Outcome: ImportRefused, Reason: err.Error()})
			continue
		}
		if first, ok := seenName[a.UsernameKey]; ok {
			record(ImportResult{Line: n, Username: rec.Username, Outcome: ImportRefused, Reason: fmt.Sprintf("duplicate username (line %d)", first)})
			continue
		}
		if first, ok := seenEmail[a.EmailKey]; ok && a.EmailKey != "" {
			record(ImportResult{Line: n, Username: rec.Username, Outcome: ImportRefused, Reason: fmt.Sprintf("duplicate email (line %d)", first)})
			continue
		}
		seenName[a.UsernameKey] = n
		if a.EmailKey != "" {
			seenEmail[a.EmailKey] = n
		}
		a.UpdatedAt = s.now()
		select {
		case jobs <- importJob{line: n, username: rec.Username, acct: a}:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if opt.Progress != nil {
		opt.Progress(sum)
	}
	if err := context.Cause(ctx); err != nil {
		return sum, err
	}
	return sum, readErr
}

// importAccount writes (or, dry, looks up) one validated account. A store fault is err;
// everything the line itself is to blame for is a refusal with its reason.
func (s *Service) importAccount(ctx context.Context, a *Account, dry bool) (ImportOutcome, string, error) {
	var err error
	if dry {
		err = s.wouldCreate(ctx, a)
	} else {
		err = s.Store.CreateAccount(ctx, a)
	}
	switch {
	case err == nil:
		return ImportCreated, "", nil
	case errors.Is(err, ErrUsernameTaken):
		old, err := s.Store.AccountByUsername(ctx, a.UsernameKey)
		if errors.Is(err, ErrNotFound) { // deleted in between: someone else's doing
			return ImportRefused, "duplicate username", nil
		}
		if err != nil {
			return "", "", err
		}
		if sameImport(old, a) {
			return ImportUnchanged, "", nil
		}
		return ImportRefused, "duplicate username", nil
	case errors.Is(err, ErrEmailTaken):
		return ImportRefused, "duplicate email", nil
	case errors.Is(err, ErrTokenInUse): // imports carry no token; kept for completeness
		return ImportRefused, "token in use", nil
	default:
		return "", "", err
	}
}

// wouldCreate answers what CreateAccount would, with reads only.
func (s *Service) wouldCreate(ctx context.Context, a *Account) error {
	_, err := s.Store.UserIDByUsername(ctx, a.UsernameKey)
	if err == nil {
		return ErrUsernameTaken
	}
	if !errors.Is(err, ErrNotFound) || a.EmailKey == "" {
		return ignoreNotFound(err)
	}
	if _, err = s.Store.UserIDByEmail(ctx, a.EmailKey); err == nil {
		return ErrEmailTaken
	}
	return ignoreNotFound(err)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// sameImport is what "already imported" means: the same canonical username, the same
// email key and the same created_at. Nothing else is compared, because normal use changes
// it (a login rehashes a bcrypt hash; a user edits the profile), and an import never
// overwrites an existing account.
func sameImport(old, a *Account) bool {
	return old.UsernameKey == a.UsernameKey && old.EmailKey == a.EmailKey && old.CreatedAt.Equal(a.CreatedAt)
}

// ExportOptions tune Export.
type ExportOptions struct {
	WithHashes bool // include password hashes (never tokens, user_secrets or sessions)
	// Rate bounds the accounts read per second (0 = unbounded), so an export does not eat
	// the table's read capacity that logins need.
	Rate float64
}

// Export writes every account to emit, ordered by canonical username, paging through
// the store at most opt.Rate accounts a second. It returns how many it emitted.
func (s *Service) Export(ctx context.Context, opt ExportOptions, emit func(UserRecord) error) (int, error) {
	page := MaxListAccounts
	if opt.Rate > 0 && opt.Rate < float64(page) {
		page = max(1, int(opt.Rate))
	}
	var (
		after string
		n     int
		due   = time.Now() // when the next page may be read (a bucket one page deep)
	)
	for {
		if err := sleep(ctx, time.Until(due)); err != nil {
			return n, err
		}
		accts, next, err := s.Store.ListAccounts(ctx, after, page)
		if err != nil {
			return n, err
		}
		if opt.Rate > 0 {
			due = due.Add(time.Duration(float64(len(accts)) / opt.Rate * float64(time.Second)))
		}
		for _, a := range accts {
			if err := emit(RecordOf(a, opt.WithHashes)); err != nil {
				return n, err
			}
			n++
		}
		if next == "" {
			return n, nil
		}
		after = next
	}
}

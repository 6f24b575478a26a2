package account

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// UserRecord is one line of an import or export file (JSON lines): an account without
// anything that could be used as a credential except, when asked for, its password hash.
type UserRecord struct {
	Username      string `json:"username"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	// PasswordHash is a bcrypt ($2a$, $2b$, $2y$) or argon2id PHC string, stored as given;
	// the first login with it rehashes it to the configured argon2id. "" = no password.
	PasswordHash string    `json:"password_hash,omitempty"`
	Name         string    `json:"name,omitempty"`
	Bio          string    `json:"bio,omitempty"`
	Website      string    `json:"website,omitempty"`
	Pronounce    string    `json:"pronounce,omitempty"`
	Role         Role      `json:"role,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

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

// ParseUserRecord decodes one line strictly: one JSON object of the documented members
// (an unknown member is refused, so a misspelt "password_hash" cannot import an account
// without its password), valid UTF-8, nothing after it.
func ParseUserRecord(line []byte) (UserRecord, error) {
	var rec UserRecord
	if !utf8.Valid(line) {
		return rec, errors.New("bad JSON: invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return UserRecord{Username: rec.Username}, fmt.Errorf("bad JSON: %s", jsonReason(err))
	}
	if dec.More() {
		return UserRecord{Username: rec.Username}, errors.New("bad JSON: more than one value on the line")
	}
	return rec, nil
}

// jsonReason is the decoder's complaint without the Go type names in it.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must be a JSON %s", te.Field, jsonKind(te.Field))
		}
		return "not a JSON object"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.Contains(msg, "parsing time") || strings.Contains(msg, "Time.UnmarshalJSON") {
		return "created_at must be an RFC 3339 time"
	}
	return msg
}

func jsonKind(field string) string {
	if field == "email_verified" {
		return "boolean"
	}
	return "string"
}

// account validates rec as registration would (username, email, profile in that order),
// then the hash, role and time.
func (rec UserRecord) account(hc HashChecker) (*Account, error) {
	u, err := ParseUsername(rec.Username)
	if err != nil {
		return nil, fmt.Errorf("invalid username (%s)", Explain(err))
	}
	var e Email
	if rec.Email != "" {
		if e, err = ParseEmail(rec.Email); err != nil {
			return nil, fmt.Errorf("invalid email (%s)", Explain(err))
		}
	} else if rec.EmailVerified {
		return nil, errors.New("email_verified without an email")
	}
	// "" is "not given" here (an export leaves empty fields out).
	p := Profile{Name: given(rec.Name), Bio: given(rec.Bio), Website: given(rec.Website), Pronounce: given(rec.Pronounce)}
	if err := p.Validate(); err != nil {
		var de *Error
		errors.As(err, &de)
		return nil, fmt.Errorf("invalid %s (%s)", de.Field, Explain(err))
	}
	if rec.PasswordHash != "" {
		if err := checkHash(hc, rec.PasswordHash); err != nil {
			return nil, fmt.Errorf("unsupported password hash (%v)", err)
		}
	}
	role := rec.Role
	if role == "" {
		role = RoleUser
	}
	if role != RoleUser && role != RoleAdmin {
		return nil, errors.New(`invalid role (must be "user" or "admin")`)
	}
	if rec.CreatedAt.IsZero() {
		return nil, errors.New("created_at missing")
	}
	return &Account{
		Username: u.Display, UsernameKey: u.Key,
		Email: e.Address, EmailKey: e.Key, EmailVerified: rec.EmailVerified,
		PasswordHash: rec.PasswordHash,
		Name:         rec.Name, Bio: rec.Bio, Website: rec.Website, Pronounce: rec.Pronounce,
		Role: role, CredVersion: 1,
		CreatedAt: rec.CreatedAt.UTC(),
	}, nil
}

func given(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// checkHash: the algorithms Hasher.Verify knows, by prefix, then the hasher's own check.
func checkHash(hc HashChecker, h string) error {
	if !strings.HasPrefix(h, "$argon2id$") && !strings.HasPrefix(h, "$2a$") && !strings.HasPrefix(h, "$2b$") && !strings.HasPrefix(h, "$2y$") {
		return errors.New("neither bcrypt nor argon2id")
	}
	if hc == nil {
		return nil
	}
	return hc.CheckHash(h)
}

// Explain is the human text of a validation error, for operators' tools (the API
// families answer with their own documented messages).
func Explain(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidInput {
		return err.Error()
	}
	switch e.Reason {
	case ReasonEmpty:
		return "empty"
	case ReasonWhitespace:
		return "contains white space"
	case ReasonLength:
		if e.Field == FieldEmail {
			return fmt.Sprintf("longer than %d characters", EmailMax)
		}
		lo, hi := fieldLimits(e.Field)
		return fmt.Sprintf("must be %d to %d characters", lo, hi)
	}
	switch e.Field {
	case FieldUsername:
		return "not allowed by the username rules (RFC 8265)"
	case FieldEmail:
		return "not a single bare address (name@domain)"
	case FieldPassword, FieldToken:
		return "contains a character that is not allowed (NUL or invalid UTF-8)"
	}
	return "contains a control character or invalid UTF-8"
}

// fieldLimits are the length bounds of a field, as validate.go applies them.
func fieldLimits(field string) (int, int) {
	switch field {
	case FieldUsername:
		return UsernameMin, UsernameMax
	case FieldName:
		return NameMin, NameMax
	case FieldBio:
		return 1, BioMax
	case FieldWebsite:
		return 1, WebsiteMax
	case FieldPronounce:
		return 1, PronounceMax
	}
	return PasswordMin, PasswordMax
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

// RecordOf is a's line of an export file.
func RecordOf(a *Account, withHash bool) UserRecord {
	r := UserRecord{
		Username: a.Username, Email: a.Email, EmailVerified: a.EmailVerified && a.Email != "",
		Name: a.Name, Bio: a.Bio, Website: a.Website, Pronounce: a.Pronounce,
		Role: a.Role, CreatedAt: a.CreatedAt.UTC(),
	}
	if withHash {
		r.PasswordHash = a.PasswordHash
	}
	return r
}

// lineReader reads lines of at most MaxImportLine bytes, numbering them from 1; a longer
// line is skipped to its end and reported as too long.
type lineReader struct {
	r *bufio.Reader
	n int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, MaxImportLine)}
}

func (l *lineReader) next() (n int, line []byte, tooLong bool, err error) {
	l.n++
	for {
		chunk, err := l.r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			tooLong = true
			continue
		case errors.Is(err, io.EOF) && len(chunk) == 0 && !tooLong:
			return l.n, nil, false, io.EOF
		case err != nil && !errors.Is(err, io.EOF):
			return l.n, nil, false, err
		}
		if tooLong {
			return l.n, nil, true, nil
		}
		return l.n, bytes.TrimSuffix(bytes.TrimSuffix(chunk, []byte("\n")), []byte("\r")), false, nil
	}
}

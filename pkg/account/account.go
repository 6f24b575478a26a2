// Package account is Gatehouse's domain: accounts, sessions, one-time passwords and reset
// tokens, the rules they follow, and the use cases of every API family. It knows nothing of
// AWS or HTTP; it talks to the outside through the small interfaces below. docs/DESIGN.md
// describes the layering and the security properties the use cases keep.
package account

import (
	"context"
	"time"
)

// Role of an account.
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Account is one user. Secrets appear only as hashes.
type Account struct {
	UserID      int64
	Username    string // display spelling (see Username)
	UsernameKey string // canonical key
	Email       string // as given; "" when none
	EmailKey    string // lowercase; "" when none

	PasswordHash string // PHC string (argon2id or bcrypt); "" when the account has no password
	TokenHash    string // admin API token hash; "" when none
	SecretHash   string // account v1 user_secret hash; "" when none

	Name, Bio, Website, Pronounce string

	Role Role
	// CredVersion increases whenever a password or token changes; a session is valid only
	// while it carries the account's current CredVersion, which is how a credential change
	// ends every session at once with a single write.
	CredVersion int64
	// ResetHash points at the account's pending reset-token record, so a newer token can
	// replace it and a deleted account can take it along.
	ResetHash string

	// FailedLogins counts password checks since the last success; each is counted before
	// it happens (see Store.ReserveLoginAttempt). LockedUntil refuses checks until then.
	// LastAttempt is when the newest check was counted.
	FailedLogins int
	LockedUntil  time.Time
	LastAttempt  time.Time
	// MailSent holds when the account's recent mails (OTP, reset token) went out, oldest
	// first, for the per-account mail limits.
	MailSent []time.Time

	CreatedAt time.Time
	UpdatedAt time.Time

	// TokenIndex is the index of the API token (Service.TokenIndex), the key of its index
	// item, kept here so the store can delete that item when the token changes or the
	// account goes. "" when there is no token, or the token predates the index.
	TokenIndex string

	// EmailVerified is whether the account has proven control of Email (an imported
	// account brings its old system's flag). Cleared with the email.
	EmailVerified bool
}

// UserHash is the account's userhash (lowercase hex SHA-256 of the canonical username).
func (a *Account) UserHash() string { return UserHash(a.UsernameKey) }

// Session is a login session. Its token is shown once; only TokenHash is stored.
type Session struct {
	UserID      int64
	TokenHash   string
	CredVersion int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// What the account's owner sees of it (GET /user/sessions; sessionlist.go): when it
	// was last used (at most SessionSeenInterval stale; zero for sessions from before it
	// was kept), and the address and user agent of the login. No secret.
	LastSeenAt time.Time
	IP         string
	UserAgent  string
}

// OTP is a pending one-time password for a password change (Users family). An account has
// at most one; a newer one replaces it.
type OTP struct {
	UserID    int64
	ReqIDHash string // SHA-256 of the request id
	UserHash  string // the account's userhash, so a reqid only works for its own account
	CodeMAC   string // HMAC-SHA-256 of the 6-digit code, keyed by the request id
	Attempts  int    // code checks spent
	Used      bool   // consumed; kept until it expires so a reuse answers "expired", not "unknown"
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ResetToken is a pending password reset by emailed token (User family).
type ResetToken struct {
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CredentialChange is an atomic change of an account's secrets, optionally consuming a
// one-time code or a reset token in the same write.
type CredentialChange struct {
	UserID       int64
	PasswordHash *string // new password hash ("" removes the password)
	TokenHash    *string // new API token hash ("" removes the token)
	SecretHash   *string // new user_secret hash
	Role         *Role   // new role

	// KeepSessions leaves CredVersion alone (a rehash of the same password); every other
	// change ends all sessions. An otherwise empty change (UserID and Now) does only
	// that: POST /user/logout-all.
	KeepSessions bool
	// IfPasswordHash makes the change conditional on the stored password hash (optimistic
	// concurrency for "verify old, then set new"); ErrConflict when it no longer matches.
	IfPasswordHash *string
	// ConsumeOTP marks the account's OTP with this request-id hash used in the same write;
	// ErrOTPExpired when it is used already or no longer there.
	ConsumeOTP string
	// ConsumeReset deletes this reset-token record in the same write; ErrTokenNotFound when
	// it is no longer there.
	ConsumeReset string

	Now time.Time

	// A new password (any change of PasswordHash except a rehash, which has KeepSessions)
	// also voids, in the same write, what could take the account back: its pending OTP and
	// reset token are deleted, and its user_secret is removed unless KeepSecret is the
	// stored secret hash (v1 resetpassword with that secret; ErrConflict when it no longer
	// is). ResetHash is the account's reset pointer as the caller read it, so the store
	// can delete that record without a read; it re-reads when the pointer has moved.
	// ReleaseEmail, the account's email key as the caller read it, removes the email and
	// frees its unique key (admin promotion). A change of Role to or from admin keeps the
	// admin count; demoting the last admin is ErrLastAdmin.
	KeepSecret   string
	ResetHash    string
	ReleaseEmail string
	// TokenIndex goes with TokenHash: the new token's index. The store moves the token's
	// index item in the same write (the old one deleted, the new one created, ErrTokenInUse
	// when another account holds it). nil or "" leaves the new token without an index item
	// (Bearer cannot find it, Basic still works); the old one goes all the same.
	TokenIndex *string
	// VerifyEmail marks the account's email verified in the same write: using an emailed
	// OTP or reset token proves control of the address.
	VerifyEmail bool
}

// Store keeps accounts and their short-lived records. Implementations must make every
// method atomic as documented; the contract test in pkg/accounttest is the specification.
// Records with an expiry are returned as stored: callers check the expiry.
type Store interface {
	// CreateAccount assigns a.UserID from an atomic counter and writes the account with its
	// username and email keys in one transaction. ErrUsernameTaken / ErrEmailTaken when a
	// key exists (username reported first).
	CreateAccount(ctx context.Context, a *Account) error
	AccountByID(ctx context.Context, id int64) (*Account, error)
	AccountByUsername(ctx context.Context, usernameKey string) (*Account, error)
	AccountByEmail(ctx context.Context, emailKey string) (*Account, error)
	// ChangeCredentials applies c atomically. ErrNotFound when the account is gone. A new
	// password also resets the failed-login count.
	ChangeCredentials(ctx context.Context, c CredentialChange) error

	// UserIDByUsername and UserIDByEmail read only the unique-key item (one round trip).
	UserIDByUsername(ctx context.Context, usernameKey string) (int64, error)
	UserIDByEmail(ctx context.Context, emailKey string) (int64, error)
	// ReserveLoginAttempt counts one password check before it happens, atomically, under
	// the failed-login policy (FreeLoginAttempts, Lockout), and returns the account as it is
	// then (one round trip that doubles as the read):
	//   - fewer than FreeLoginAttempts failures and no lock in force: one more, at once, for
	//     any number of concurrent callers up to the free count;
	//   - locked at now: ErrTooManyAttempts with RetryAfter until the lock ends;
	//   - the free count reached and the lock over: one more with the next lock
	//     (now + Lockout(n)) set in the same write, for one caller only;
	//   - the free count reached by a check still in flight (no lock yet, last attempt less
	//     than StaleAttempt ago): ErrTooManyAttempts with RetryAfter 0, "try again soon".
	// ErrNotFound when the account does not exist.
	ReserveLoginAttempt(ctx context.Context, userID int64, now time.Time) (*Account, error)
	// LockAccount sets the lock after the n-th failure is known, if the account still has
	// n failures and no lock.
	LockAccount(ctx context.Context, userID int64, n int, until time.Time) error
	// ClearLoginFailures resets FailedLogins and LockedUntil.
	ClearLoginFailures(ctx context.Context, userID int64) error
	// ReserveMail replaces the account's MailSent list prev with next, provided it is still
	// prev (ErrConflict otherwise): the mail limits cannot be raced.
	ReserveMail(ctx context.Context, userID int64, prev, next []time.Time) error
	// DeleteAccount removes the account, its username/email keys, its OTP and pending reset
	// record atomically, then its sessions. ErrNotFound when it is already gone;
	// ErrLastAdmin when it is the only admin (the admin count is kept in the same write,
	// so two admins deleting each other at once cannot both succeed).
	DeleteAccount(ctx context.Context, a *Account) error
	// DeleteAccountNamed is DeleteAccount of the account with this user id, provided it is
	// the account of usernameKey (else ErrNotFound), read in the delete's own first round
	// trip; it returns the account as read. Audit records ctx carries about it without a
	// username get its username (WithAuditNamed).
	DeleteAccountNamed(ctx context.Context, id int64, usernameKey string) (*Account, error)
	// ListUsernames returns display usernames ordered by canonical key, starting after the
	// key `after` (""=from the start), at most limit; next is the key to continue from, ""
	// at the end.
	ListUsernames(ctx context.Context, after string, limit int) (names []string, next string, err error)

	// CreateSession stores a session; with clearFailures it also resets the account's failed
	// logins, in the same transaction (a successful login).
	CreateSession(ctx context.Context, s *Session, clearFailures bool) error
	// SessionWithAccount reads a session and its account in one round trip. ErrNotFound
	// when either is missing.
	SessionWithAccount(ctx context.Context, userID int64, tokenHash string) (*Session, *Account, error)
	DeleteSession(ctx context.Context, userID int64, tokenHash string) error

	// PutOTP stores o as the account's only OTP, replacing any older one.
	PutOTP(ctx context.Context, o *OTP) error
	// SpendOTPAttempt atomically counts one code check against the account's OTP and returns
	// it, provided it exists, matches reqIDHash and userHash, is unused, is not expired at
	// now and has fewer than max attempts. ErrInvalidRequest when there is no such OTP for
	// this reqid/userhash; ErrOTPExpired when it is used, expired or out of attempts.
	SpendOTPAttempt(ctx context.Context, userID int64, reqIDHash, userHash string, now time.Time, max int) (*OTP, error)

	// PutResetToken stores r and points the account at it, deleting the record the account
	// pointed at before (replaces) in the same transaction. ErrConflict when the account's
	// pointer is no longer replaces; ErrNotFound when the account is gone.
	PutResetToken(ctx context.Context, r *ResetToken, replaces string) error
	ResetToken(ctx context.Context, tokenHash string) (*ResetToken, error)

	// AccountByTokenIndex finds the account whose API token has this index: one indexed
	// read of the token's index item, then the account. ErrNotFound when no account holds
	// it. Index items are kept by the account writes themselves: CreateAccount writes the
	// item of Account.TokenIndex (ErrTokenInUse when another account holds it, after the
	// username and email checks), ChangeCredentials with a TokenHash moves it, and
	// DeleteAccount removes it, each in the same transaction as the account.
	AccountByTokenIndex(ctx context.Context, index string) (*Account, error)
	// ReserveMailQuota is ReserveMail (the account's list of recent mails, prev -> next)
	// together with one mail counted against q's recipient counter and the installation's
	// budget for q.Hour, all or nothing: ErrConflict when the list is no longer prev,
	// ErrNotFound when the account is gone, ErrTooManyAttempts when either counter is at
	// its limit. Racing callers never exceed a limit. The counters expire (TTL) after
	// their hour.
	ReserveMailQuota(ctx context.Context, userID int64, prev, next []time.Time, q MailQuota) error
	// Limits beyond the account's failed logins (limits.go).
	//
	// UserIDByUsernameFrom and UserIDByEmailFrom are UserIDByUsername and UserIDByEmail
	// that also read src's failed-check count in the same round trip; the count is
	// returned with ErrNotFound too.
	UserIDByUsernameFrom(ctx context.Context, usernameKey string, src Source) (int64, int, error)
	UserIDByEmailFrom(ctx context.Context, emailKey string, src Source) (int64, int, error)
	// SourceFailures reads src's failed-check count (0 when there is none).
	SourceFailures(ctx context.Context, src Source) (int, error)
	// AddSourceFailure counts one failed check against src, atomically; the record may be
	// deleted from expires on.
	AddSourceFailure(ctx context.Context, src Source, expires time.Time) error
	// ReserveUnknownAttempt and LockUnknown are ReserveLoginAttempt and LockAccount for an
	// identifier without an account (idHash, see IdentifierHash), under the same policy;
	// the record is made on first use and expires FailureMemory after its last counted
	// check. The returned Account carries only FailedLogins, LockedUntil and LastAttempt.
	// ReserveLoginAttempt and ReserveUnknownAttempt both forget a run of failures whose
	// last counted check is FailureMemory old: the next check counts as the first.
	ReserveUnknownAttempt(ctx context.Context, idHash string, now time.Time) (*Account, error)
	LockUnknown(ctx context.Context, idHash string, n int, until time.Time) error
	// ReserveGuess counts one guess of a one-time code or reset token against the
	// account's budget before it is checked, atomically: at most max in any window ending
	// at now. ErrTooManyAttempts with RetryAfter (until a guess leaves the window) when the
	// budget is spent; ErrNotFound when the account is gone. A new password (in
	// ChangeCredentials) empties it.
	ReserveGuess(ctx context.Context, userID int64, now time.Time, max int, window time.Duration) error
	// ReadBatch and ChangeCredentialsFrom serve the admin routes (admin.go).
	ReadBatch(ctx context.Context, r BatchRead) (*BatchResult, error)
	ChangeCredentialsFrom(ctx context.Context, cur *Account, c CredentialChange) error
	// ListAccounts is ListUsernames returning the accounts themselves (export, see
	// importexport.go): at most limit (1 to MaxListAccounts) ordered by canonical key,
	// starting after the key `after`; next is the key to continue from, "" at the end.
	ListAccounts(ctx context.Context, after string, limit int) (accounts []*Account, next string, err error)
	// ListSessions returns every stored session of the account, void and expired ones
	// included (callers check), in one query (sessionlist.go).
	ListSessions(ctx context.Context, userID int64) ([]*Session, error)
	// TouchSession sets the session's LastSeenAt to now, provided it still exists and its
	// LastSeenAt is not after staleAt (or unset); otherwise it does nothing, without error,
	// so that racing checks write once and a deleted session is not brought back.
	TouchSession(ctx context.Context, userID int64, tokenHash string, now, staleAt time.Time) error
	// UpdateProfile applies c in one conditional write and returns the account as it is
	// after it: only the fields c gives are written (concurrent changes of other fields
	// stay). ErrNotFound when the account is gone or its CredVersion is no longer
	// c.CredVersion (lifecycle.go). With audit records (WithAudit) a store that cannot
	// read back what a transaction wrote answers c.Base with the change applied.
	UpdateProfile(ctx context.Context, c ProfileChange) (*Account, error)

	// Email verification (verify.go).
	//
	// CreateAccountWithVerification is CreateAccount that also writes v (its UserID set to
	// the new id) and counts one mail against q's recipient and installation counters, in
	// the same transaction. When a counter is at its limit it creates the account without
	// v and the count, and mailed is false (one more transaction); the account's keys are
	// checked first, as in CreateAccount.
	CreateAccountWithVerification(ctx context.Context, a *Account, v *EmailVerification, q MailQuota) (mailed bool, err error)
	// PutVerification stores v as the account's only pending verification, replacing any
	// older one.
	PutVerification(ctx context.Context, v *EmailVerification) error
	// VerificationWithAccount reads the account's pending verification and the account in
	// one round trip. ErrNotFound when either is missing.
	VerificationWithAccount(ctx context.Context, userID int64) (*EmailVerification, *Account, error)
	// ConfirmEmail consumes v and marks cur's email verified, atomically; when v is for
	// another address it becomes the account's, its key reserved and the old one released
	// in the same transaction. ErrTokenNotFound when v is no longer the pending one or the
	// account moved on (its email or credential version changed, or it is gone);
	// ErrEmailTaken when another account holds the new address.
	ConfirmEmail(ctx context.Context, v *EmailVerification, cur *Account, now time.Time) error

	// Audit events (audit.go). The write methods WithAudit names store the records their
	// context carries in the same atomic write. PutAudit stores records on their own (one
	// round trip). Events lists the events stored under userID, newest first, after the
	// position `after` (a previous next; "" the newest), at most limit; next is "" at the end.
	PutAudit(ctx context.Context, recs []AuditRecord) error
	Events(ctx context.Context, userID int64, after string, limit int) (events []Event, next string, err error)
}

// Mailer sends Gatehouse's mails. Implementations render the text and HTML bodies.
type Mailer interface {
	SendOTP(ctx context.Context, m OTPMail) error
	SendResetToken(ctx context.Context, m ResetMail) error
	SendVerification(ctx context.Context, m VerifyMail) error
	SendEmailChangeNotice(ctx context.Context, m EmailChangeNotice) error
}

// OTPMail is the one-time password mail. Mails carry no text a user chose (no username,
// no name): anyone can have one sent to any address, so such text would be theirs to
// aim at a stranger.
type OTPMail struct {
	To       string
	Code     string
	ValidFor time.Duration
}

// ResetMail is the password reset token mail (no user-chosen text either).
type ResetMail struct {
	To       string
	Token    string
	ValidFor time.Duration
}

// Hasher turns passwords into slow salted hashes and checks them.
type Hasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash, and whether hash should be replaced
	// (legacy algorithm or weaker parameters than configured).
	Verify(hash, password string) (ok, rehash bool, err error)
	// VerifyDummy costs what Verify costs, for accounts that do not exist, so that unknown
	// usernames and wrong passwords take the same time.
	VerifyDummy(password string)
}

package account

// This file: the line format of gatehouse-admin import and export (UserRecord), its
// parsing and validation, and the line reader the import reads with.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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

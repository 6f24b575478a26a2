package dynamo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
)

// Attribute names. Every item and every expression names its attributes through these.
const (
	pk, sk     = "PK", "SK"
	attrGSI1PK = "GSI1PK"
	attrGSI1SK = "GSI1SK"

	// the account (and the user_id of the key items that point at it)
	attrUserID       = "user_id"
	attrUsername     = "username"
	attrUsernameKey  = "username_key"
	attrEmail        = "email"
	attrEmailKey     = "email_key"
	attrPasswordHash = "password_hash"
	attrTokenHash    = "token_hash"
	attrSecretHash   = "secret_hash"
	attrName         = "name"
	attrBio          = "bio"
	attrWebsite      = "website"
	attrPronounce    = "pronounce"
	attrRole         = "role"
	attrCredVersion  = "cred_version"
	attrResetHash    = "reset_hash"
	attrTokenIndex   = "token_index"
	attrCreatedAt    = "created_at"
	attrUpdatedAt    = "updated_at"
	attrExpiresAt    = "expires_at" // the table's TTL attribute (epoch seconds)

	// The failed-login state of an account (or of an unknown identifier's record): a count
	// and a lock expiry (epoch milliseconds, since the first lockouts last a second).
	attrFailed     = "failed_logins"
	attrLock       = "lock_until_ms"
	attrLast       = "last_attempt_ms"
	attrMailSent   = "mail_sent"
	attrGuessTimes = "guess_times"
	attrFailures   = "failures" // a source's failed checks (limits.go)
	attrMails      = "mails"    // an hourly mail counter (maillimits.go)

	// the OTP
	attrReqIDHash = "reqid_hash"
	attrUserHash  = "userhash"
	attrCodeMAC   = "code_mac"
	attrAttempts  = "attempts"
	attrUsedAt    = "used_at"

	attrCounter = "value" // the user_id counter
)

// Conditions on an item's existence.
const (
	itemAbsent  = "attribute_not_exists(" + pk + ")"
	itemPresent = "attribute_exists(" + pk + ")"
)

func absent(attr string) string { return "attribute_not_exists(" + attr + ")" }

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// stamp is how a time is stored (RFC 3339, UTC, nanoseconds).
func stamp(t time.Time) types.AttributeValue { return s(t.UTC().Format(time.RFC3339Nano)) }

func str(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(it map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(v.Value, 10, 64)
	return x, err == nil
}

func parseTime(v string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// expiry reads the TTL attribute.
func expiry(it map[string]types.AttributeValue) time.Time {
	exp, _ := num(it, attrExpiresAt)
	return time.Unix(exp, 0).UTC()
}

func accountItem(a *account.Account) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		pk: s(userPK(a.UserID)), sk: s(skAccount),
		attrGSI1PK: s(accountsGSIPK), attrGSI1SK: s(a.UsernameKey),
		attrUserID:      n(a.UserID),
		attrUsername:    s(a.Username),
		attrUsernameKey: s(a.UsernameKey),
		attrRole:        s(string(a.Role)),
		attrCredVersion: n(a.CredVersion),
		attrCreatedAt:   stamp(a.CreatedAt),
		attrUpdatedAt:   stamp(a.UpdatedAt),
	}
	// Empty optional attributes are left out rather than stored as "".
	for name, v := range map[string]string{
		attrEmail: a.Email, attrEmailKey: a.EmailKey,
		attrPasswordHash: a.PasswordHash, attrTokenHash: a.TokenHash, attrSecretHash: a.SecretHash,
		attrName: a.Name, attrBio: a.Bio, attrWebsite: a.Website, attrPronounce: a.Pronounce,
		attrResetHash: a.ResetHash, attrTokenIndex: a.TokenIndex,
	} {
		if v != "" {
			item[name] = s(v)
		}
	}
	if a.EmailVerified {
		item[attrEmailVerified] = &types.AttributeValueMemberBOOL{Value: true}
	}
	return item
}

func parseAccount(it map[string]types.AttributeValue) (*account.Account, error) {
	id, ok := num(it, attrUserID)
	if !ok {
		return nil, account.Internal("account item %s without user_id", str(it, pk))
	}
	cv, _ := num(it, attrCredVersion)
	a := parseFailures(it)
	a.MailSent = decodeTimes(str(it, attrMailSent))
	a.UserID = id
	a.Username = str(it, attrUsername)
	a.UsernameKey = str(it, attrUsernameKey)
	a.Email = str(it, attrEmail)
	a.EmailKey = str(it, attrEmailKey)
	a.PasswordHash = str(it, attrPasswordHash)
	a.TokenHash = str(it, attrTokenHash)
	a.SecretHash = str(it, attrSecretHash)
	a.Name = str(it, attrName)
	a.Bio = str(it, attrBio)
	a.Website = str(it, attrWebsite)
	a.Pronounce = str(it, attrPronounce)
	a.Role = account.Role(str(it, attrRole))
	a.CredVersion = cv
	a.ResetHash = str(it, attrResetHash)
	a.CreatedAt = parseTime(str(it, attrCreatedAt))
	a.UpdatedAt = parseTime(str(it, attrUpdatedAt))
	a.TokenIndex = str(it, attrTokenIndex)
	a.EmailVerified = boolean(it, attrEmailVerified) // absent (false) on accounts from before the flag
	return a, nil
}

// parseFailures reads the failed-login state of an account or an identifier's record.
func parseFailures(it map[string]types.AttributeValue) *account.Account {
	a := &account.Account{}
	failed, _ := num(it, attrFailed)
	a.FailedLogins = int(failed)
	if ms, ok := num(it, attrLock); ok {
		a.LockedUntil = time.UnixMilli(ms).UTC()
	}
	if ms, ok := num(it, attrLast); ok {
		a.LastAttempt = time.UnixMilli(ms).UTC()
	}
	return a
}

// encodeTimes stores a short list of times as comma-separated Unix seconds: a plain
// string compares exactly in a condition.
func encodeTimes(ts []time.Time) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = strconv.FormatInt(t.Unix(), 10)
	}
	return strings.Join(parts, ",")
}

func decodeTimes(v string) []time.Time {
	if v == "" {
		return nil
	}
	var out []time.Time
	for _, p := range strings.Split(v, ",") {
		if x, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, time.Unix(x, 0).UTC())
		}
	}
	return out
}

// expr builds an update expression with placeholder names (attribute names such as
// "name" and "role" are DynamoDB reserved words).
type expr struct {
	sets, adds, removes []string
	names               map[string]string
	values              map[string]types.AttributeValue
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

func (e *expr) placeholder(attr string) string {
	p := fmt.Sprintf("#a%d", len(e.names))
	e.names[p] = attr
	return p
}

func (e *expr) set(attr string, v types.AttributeValue) {
	val := fmt.Sprintf(":v%d", len(e.values))
	e.values[val] = v
	e.sets = append(e.sets, e.placeholder(attr)+" = "+val)
}

func (e *expr) add(attr string, v types.AttributeValue) {
	val := fmt.Sprintf(":v%d", len(e.values))
	e.values[val] = v
	e.adds = append(e.adds, e.placeholder(attr)+" "+val)
}

func (e *expr) remove(attr string) { e.removes = append(e.removes, e.placeholder(attr)) }

func (e *expr) String() string {
	out := ""
	for _, part := range []struct {
		kw    string
		items []string
	}{{"SET", e.sets}, {"ADD", e.adds}, {"REMOVE", e.removes}} {
		if len(part.items) == 0 {
			continue
		}
		if out != "" {
			out += " "
		}
		out += part.kw + " " + strings.Join(part.items, ", ")
	}
	return out
}

// attrEmailVerified is the account's email_verified flag: a BOOL present only when true,
// so accounts from before the flag read as unverified.
const attrEmailVerified = "email_verified"

// boolean reads a BOOL attribute; absent is false.

func boolean(it map[string]types.AttributeValue, name string) bool {
	v, ok := it[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

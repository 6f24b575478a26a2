// Package routes is the one table of Gatehouse's Lambda functions: per function its
// directory, routes, handler, boot, memory, and the DynamoDB and SES access its policy
// grants. `make generate` (cmd/generate) writes from it each functions/<dir>/main.go, the
// per-function parts of template.yaml and functions.mk (the Makefile's function list);
// TestGeneratedFilesAreCurrent fails when a committed file differs from what it produces.
package routes

import "strings"

// Boot is how a function's main builds its runtime (pkg/boot and its variants).
type Boot int

const (
	PlainBoot Boot = iota // boot.Init: the store and the service
	MailBoot              // mailboot.Init: and the SES mailer (SENDER_EMAIL, SendMailPolicy)
	AdminBoot             // adminboot.Init: and the token-index key (its secret, ReadTokenIndexKeyPolicy)
)

// Family is an API family: the package of its handlers and its section of the template.
type Family struct {
	Import  string // import path of the handler package
	Alias   string // the package's name in main.go (its import alias when it differs)
	Section string // the template's section comment; "" for none
}

var (
	Users      = Family{Import: "github.com/gatehouse/gatehouse/pkg/api/users", Alias: "users", Section: "Users family (/users/*)"}
	User       = Family{Import: "github.com/gatehouse/gatehouse/pkg/api/user", Alias: "user", Section: "User family (/user/*)"}
	AccountV1  = Family{Import: "github.com/gatehouse/gatehouse/pkg/api/v1", Alias: "accountv1", Section: "Account v1 family (/api/user/v1/*)"}
	Admin      = Family{Import: "github.com/gatehouse/gatehouse/pkg/api/admin", Alias: "admin", Section: "Admin v2 family (/api/v2/users)"}
	Authorizer = Family{Import: "github.com/gatehouse/gatehouse/pkg/api/authorizer", Alias: "authorizer"}
)

// Event is one HttpApi event of a function: a route of GatehouseApi.
type Event struct {
	Name, Method, Path string
	Comment            string // the template's comment above the event, if any
}

// Grant is one DynamoDB statement: actions on the table or on GSI1, for items whose
// partition key matches one of Keys (dynamodb:LeadingKeys; IAM patterns).
type Grant struct {
	GSI1    bool     // the statement is on GSI1 rather than the table
	Actions []string // without the dynamodb: prefix
	Keys    []string
	Comment string // the template's comment above the statement, if any
}

// Function is one Lambda function.
type Function struct {
	Dir         string // under functions/; the logical id is its CamelCase plus "Function"
	Description string // the template's Description
	Doc         string // main.go's doc comment after "Command <dir> "; default from Description
	Comment     string // the template's comment above the function, if any
	Family      Family
	Handler     string // the handler method; "" for the authorizer (its Lambda method)
	Boot        Boot
	Memory      int // MB; 0 takes the Globals' 1024 (sized for the password hash)
	Events      []Event
	DynamoDB    []Grant
}

// LogicalID is the function's logical id in template.yaml (users-login ->
// UsersLoginFunction), the one the local stack maps back to its directory.
func (f Function) LogicalID() string {
	var b strings.Builder
	for _, w := range strings.Split(f.Dir, "-") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String() + "Function"
}

// Emits reports whether the function emits audit events, which is whether it writes to
// the table (every event the service emits comes with a write, or a failed check that
// counts itself with one): such a function may put events on the EventBridge bus
// (PublishEventsPolicy, when EventBusName is set).
func (f Function) Emits() bool {
	for _, g := range f.DynamoDB {
		for _, a := range g.Actions {
			switch a {
			case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
				return true
			}
		}
	}
	return false
}

// Mails reports whether the function sends mail through SES.
func (f Function) Mails() bool { return f.Boot == MailBoot }

// IsAuthorizer reports whether the function is the session authorizer: it guards other
// stacks' routes and has none of its own.
func (f Function) IsAuthorizer() bool { return f.Family == Authorizer }

// Partition keys (pkg/dynamo's item layout) as IAM patterns.
const (
	PKUser     = "USER#*"       // the account, its sessions and its OTP
	PKUsername = "USERNAME#*"   // username -> user_id
	PKEmail    = "EMAIL#*"      // email -> user_id
	PKReset    = "RESET#*"      // reset tokens
	PKCounter  = "COUNTER"      // the user_id counter
	GSIAccount = "ACCOUNTS"     // GSI1's one partition: the admin list
	PKToken    = "TOKEN#*"      // the API token index (Bearer)
	PKAdmins   = "ADMINS"       // the admin count
	PKIP       = "IP#*"         // failed checks per source IP
	PKFail     = "FAIL#*"       // failed checks of unknown usernames and emails
	PKMailTo   = "MAILTO#*"     // mails per recipient
	PKBudget   = "MAILBUDGET#*" // mails of the installation
)

func table(actions []string, keys ...string) Grant { return Grant{Actions: actions, Keys: keys} }

func acts(a ...string) []string { return a }

func post(path string) []Event { return []Event{{Name: "Api", Method: "POST", Path: path}} }
func get(path string) []Event  { return []Event{{Name: "Api", Method: "GET", Path: path}} }

var (
	// registering takes an id from the counter and writes the account with its unique keys.
	registering = table(acts("UpdateItem", "PutItem"), PKCounter, PKUsername, PKEmail, PKUser, PKMailTo, PKBudget)
	// checking is a password check by username: the account, the source's failures and
	// those of unknown names.
	checking = table(acts("GetItem", "BatchGetItem", "PutItem", "UpdateItem"), PKUsername, PKUser, PKIP, PKFail)
	// bySession is a session check, by the id the token carries (the authorizer's: it only
	// reads).
	bySession = table(acts("BatchGetItem"), PKUser)
	// seeingSession is a session check that also writes the session's last-seen time, at
	// most once a minute.
	seeingSession = table(acts("BatchGetItem", "UpdateItem"), PKUser)
	// adminAuth is an admin's Basic (a password check) or Bearer (the token index) check.
	// A failed check is an audit event in the account's partition (PutItem).
	adminAuth = table(acts("GetItem", "BatchGetItem", "UpdateItem", "PutItem"), PKUsername, PKUser, PKToken, PKIP, PKFail)
	// accountsIndex is the admin list, GSI1's one partition.
	accountsIndex = Grant{GSI1: true, Actions: acts("Query"), Keys: []string{GSIAccount}}
)

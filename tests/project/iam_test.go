package project

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Partition keys (pkg/dynamo/store.go's item layout) as IAM patterns.
const (
	pkUser     = "USER#*"       // the account, its sessions and its OTP
	pkUsername = "USERNAME#*"   // username -> user_id
	pkEmail    = "EMAIL#*"      // email -> user_id
	pkReset    = "RESET#*"      // reset tokens
	pkCounter  = "COUNTER"      // the user_id counter
	gsiAccount = "ACCOUNTS"     // GSI1's one partition: the admin list
	pkToken    = "TOKEN#*"      // the API token index (Bearer)
	pkAdmins   = "ADMINS"       // the admin count
	pkIP       = "IP#*"         // failed checks per source IP
	pkFail     = "FAIL#*"       // failed checks of unknown usernames and emails
	pkMailTo   = "MAILTO#*"     // mails per recipient
	pkBudget   = "MAILBUDGET#*" // mails of the installation
)

var (
	// registering takes an id from the counter and writes the account with its unique keys.
	registering = []string{pkCounter, pkUsername, pkEmail, pkUser}
	// byUsername is a lookup by username.
	byUsername = []string{pkUsername, pkUser}
	// checking is a password check by username: the account, the source's failures and
	// those of unknown names.
	checking = []string{pkUsername, pkUser, pkIP, pkFail}
	// adminAuth is an admin's Basic (a password check) or Bearer (the token index) check.
	adminAuth = []string{pkUsername, pkUser, pkIP, pkFail, pkToken}
	// mailing counts a mail against its recipient and the installation.
	mailing = []string{pkMailTo, pkBudget}
	// bySession is a session check, by the id the token carries.
	bySession = []string{pkUser}
)

// leadingKeys are the partition keys each function's code reads or writes, per the store
// methods its handler reaches: on the table, and on GSI1 (Query). Adding a key prefix to a
// function is a line here and a line in its policy in template.yaml.
var leadingKeys = map[string]struct{ table, gsi1 []string }{
	"UsersLoginFunction":      {table: checking},
	"UsersRegisterFunction":   {table: registering},
	"UsersRequestOtpFunction": {table: append(slices.Clone(byUsername), mailing...)},
	// the OTP and the account; a new password voids the reset token; failed codes count per source.
	"UsersModifyPasswordFunction":    {table: []string{pkUser, pkReset, pkIP}},
	"UsersInfoFunction":              {table: bySession},
	"UsersLogoutFunction":            {table: bySession},
	"UserCreateFunction":             {table: registering},
	"UserAuthFunction":               {table: checking},
	"UserLoggedFunction":             {table: bySession},
	"UserProfileFunction":            {table: byUsername},
	"UserPasswordResetTokenFunction": {table: append([]string{pkEmail, pkReset, pkUser}, mailing...)},
	"UserPasswordResetFunction":      {table: []string{pkReset, pkUser, pkIP}},
	"UserLogoutFunction":             {table: bySession},
	"AccountRegisterFunction":        {table: registering},
	"AccountChangePasswordFunction":  {table: []string{pkEmail, pkUser, pkReset, pkIP, pkFail}},
	// user_secret by email, or an admin's Basic credentials by username.
	"AccountResetPasswordFunction": {table: []string{pkEmail, pkUsername, pkUser, pkReset, pkIP, pkFail}},
	"AdminListUsersFunction":       {table: adminAuth, gsi1: []string{gsiAccount}},
	"AdminGetUserFunction":         {table: adminAuth},
	"AdminCreateUserFunction":      {table: append(slices.Clone(registering), pkIP, pkFail, pkToken)},
	"AdminUpdateUserFunction":      {table: append(slices.Clone(adminAuth), pkReset)},
	"AdminRefreshTokenFunction":    {table: adminAuth},
	"AdminStatusFunction":          {table: adminAuth},
	// the account with its unique keys, OTP, reset token, token index and sessions, and the
	// admin count (computed from GSI1 once on an installation from before it).
	"AdminDeleteUserFunction": {table: append(slices.Clone(adminAuth), pkEmail, pkReset, pkAdmins), gsi1: []string{gsiAccount}},
	// the session and its account, for consumers' routes.
	"SessionAuthorizerFunction": {table: bySession},
}

// TestIAMLeadingKeys: every DynamoDB statement of every function's policy carries a
// ForAllValues:StringLike condition on dynamodb:LeadingKeys listing exactly the partition
// keys that function uses (leadingKeys), and a Null condition that refuses key-less
// requests; a function without DynamoDB access has no entry, and every entry a function.
func TestIAMLeadingKeys(t *testing.T) {
	root, tmpl := repo(t)
	var doc yaml.Node
	readYAML(t, root, "template.yaml", &doc)
	resources := field(doc.Content[0], "Resources")
	seen := map[string]bool{}
	for _, fn := range tmpl.Functions {
		id := fn.LogicalID
		want, ok := leadingKeys[id]
		seen[id] = true
		var table, gsi [][]string
		for _, st := range statements(field(field(resources, id), "Properties")) {
			actions := scalars(field(st, "Action"))
			if !slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, "dynamodb:") }) {
				continue
			}
			if !ok {
				t.Errorf("%s: DynamoDB statement, but no entry in leadingKeys", id)
				continue
			}
			keys, err := leadingKeysCondition(st)
			if err != "" {
				t.Errorf("%s %v: %s", id, actions, err)
				continue
			}
			res := field(st, "Resource")
			switch {
			case res != nil && res.Tag == "!GetAtt" && res.Value == "AccountsTable.Arn":
				table = append(table, keys)
			case res != nil && res.Tag == "!Sub" && res.Value == "${AccountsTable.Arn}/index/GSI1":
				gsi = append(gsi, keys)
			default:
				t.Errorf("%s %v: resource is neither the table nor GSI1", id, actions)
			}
		}
		if !ok {
			continue
		}
		check := func(what string, got [][]string, want []string) {
			if len(want) == 0 && len(got) == 0 {
				return
			}
			if len(got) == 0 {
				t.Errorf("%s: no %s statement, want leading keys %v", id, what, want)
			}
			for _, g := range got {
				if !sameSet(g, want) {
					t.Errorf("%s: %s leading keys %v, want %v", id, what, g, want)
				}
			}
		}
		check("table", table, want.table)
		check("GSI1", gsi, want.gsi1)
	}
	for id := range leadingKeys {
		if !seen[id] {
			t.Errorf("leadingKeys has %s, which is not a function of the template", id)
		}
	}
}

// leadingKeysCondition returns the LeadingKeys patterns of a statement, or what is wrong.
func leadingKeysCondition(st *yaml.Node) ([]string, string) {
	cond := field(st, "Condition")
	if cond == nil {
		return nil, "no Condition"
	}
	keys := scalars(field(field(cond, "ForAllValues:StringLike"), "dynamodb:LeadingKeys"))
	if len(keys) == 0 {
		return nil, "no ForAllValues:StringLike condition on dynamodb:LeadingKeys"
	}
	if null := field(field(cond, "Null"), "dynamodb:LeadingKeys"); null == nil || null.Value != "false" {
		return nil, `no "Null": {dynamodb:LeadingKeys: "false"} condition`
	}
	if len(cond.Content) != 4 {
		return nil, "conditions other than LeadingKeys and Null"
	}
	return keys, ""
}

// statements returns the inline policy statements of a function's properties.
func statements(props *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	pol := field(props, "Policies")
	if pol == nil {
		return nil
	}
	for _, p := range pol.Content {
		if st := field(p, "Statement"); st != nil {
			out = append(out, st.Content...)
		}
	}
	return out
}

// field returns the value of key in mapping m, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalars returns a scalar or a sequence of scalars as strings.
func scalars(n *yaml.Node) []string {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.ScalarNode:
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(slices.Compact(a), b) && len(a) == len(b)
}

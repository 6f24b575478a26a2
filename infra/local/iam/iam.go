// Package iam enforces, locally, the DynamoDB and SES parts of each function's IAM policy
// in the SAM template: a function's DynamoDB calls go through a Guard that forwards to
// DynamoDB Local only what the function's statements allow (actions, table and index ARNs,
// and the dynamodb:LeadingKeys conditions), and its SES calls through one that forwards to
// the SES emulator only what they allow (ses:SendEmail on the sender's identity and the
// configuration set, with the ses:FromAddress condition); everything else is answered
// with the service's AccessDenied error, as AWS would. So every end-to-end test checks
// that what a function's code calls is what its policy grants.
//
// It evaluates Allow statements only (the template has no Deny), the condition operators
// ForAllValues:StringLike and Null on dynamodb:LeadingKeys and StringEquals on
// ses:FromAddress, and refuses to build a policy from any other condition rather than
// ignore it.
package iam

import (
	"fmt"
	"slices"
	"strings"
)

// Statement is a resolved Allow statement.
type Statement struct {
	Actions   []string // "dynamodb:GetItem", may hold * and ?
	Resources []string // ARNs, may hold * and ?
	// LeadingKeys are ForAllValues:StringLike patterns on dynamodb:LeadingKeys; nil means
	// no such condition.
	LeadingKeys []string
	// RequireKeys is "Null": {"dynamodb:LeadingKeys": "false"}: the request must name keys.
	RequireKeys bool
	// FromAddresses are StringEquals values of ses:FromAddress; nil means no such condition.
	FromAddresses []string
}

// Policy is a function's statements.
type Policy []Statement

// Access is what one part of a request needs: an action on a resource for some items.
type Access struct {
	Action   string   // dynamodb:GetItem
	Resource string   // the table's ARN, or its index's
	Keys     []string // the partition key values of the items (dynamodb:LeadingKeys)
	From     string   // the sender of a mail (ses:FromAddress)
}

// String names the keys by their prefix only: the rest can be an email address or the
// hash of a reset token, which have no place in a log.
func (a Access) String() string {
	keys := make([]string, len(a.Keys))
	for i, k := range a.Keys {
		if p, _, ok := strings.Cut(k, "#"); ok {
			k = p + "#…"
		}
		keys[i] = k
	}
	if a.From != "" {
		return fmt.Sprintf("%s on %s with ses:FromAddress %q", a.Action, a.Resource, a.From)
	}
	return fmt.Sprintf("%s on %s with dynamodb:LeadingKeys %q", a.Action, a.Resource, keys)
}

// Allows reports whether some statement allows a.
func (p Policy) Allows(a Access) bool {
	return slices.ContainsFunc(p, func(s Statement) bool { return s.allows(a) })
}

func (s Statement) allows(a Access) bool {
	if !slices.ContainsFunc(s.Actions, func(p string) bool { return like(p, a.Action) }) ||
		!slices.ContainsFunc(s.Resources, func(p string) bool { return like(p, a.Resource) }) {
		return false
	}
	if s.RequireKeys && len(a.Keys) == 0 {
		return false
	}
	if s.FromAddresses != nil && !slices.Contains(s.FromAddresses, a.From) {
		return false
	}
	if s.LeadingKeys != nil {
		// ForAllValues: every key matches a pattern (and no keys at all pass, which is
		// what RequireKeys is for).
		for _, k := range a.Keys {
			if !slices.ContainsFunc(s.LeadingKeys, func(p string) bool { return like(p, k) }) {
				return false
			}
		}
	}
	return true
}

// NewStatement builds a Statement from a template statement's parts: conditions maps an
// operator to condition keys and their resolved values.
func NewStatement(actions, resources []string, conditions map[string]map[string][]string) (Statement, error) {
	s := Statement{Actions: actions, Resources: resources}
	for op, keys := range conditions {
		for key, vals := range keys {
			switch {
			case op == "ForAllValues:StringLike" && key == "dynamodb:LeadingKeys":
				s.LeadingKeys = append([]string{}, vals...)
			case op == "Null" && key == "dynamodb:LeadingKeys" && len(vals) == 1 && vals[0] == "false":
				s.RequireKeys = true
			case op == "StringEquals" && key == "ses:FromAddress":
				s.FromAddresses = append([]string{}, vals...)
			default:
				return s, fmt.Errorf("condition %s on %s %q is not evaluated by the local stack", op, key, vals)
			}
		}
	}
	return s, nil
}

// like is IAM's StringLike: * matches any run of characters, ? any one; case matters.
func like(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			rest := pattern[1:]
			for i := len(s); i >= 0; i-- {
				if like(rest, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

// IsDynamoDB reports whether any action of a statement is a DynamoDB action.
func IsDynamoDB(actions []string) bool { return IsService("dynamodb", actions) }

// IsService reports whether any action of a statement is an action of service (its IAM
// prefix: dynamodb, ses).
func IsService(service string, actions []string) bool {
	return slices.ContainsFunc(actions, func(a string) bool { return strings.HasPrefix(a, service+":") })
}

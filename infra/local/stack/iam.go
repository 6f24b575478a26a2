package stack

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/iam"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// guard points fn's DynamoDB and SES calls at guards of its own (package iam).
func (g *apiGateway) guard(fn samtemplate.Function, env map[string]string) error {
	if err := g.guardDynamoDB(fn, env); err != nil {
		return err
	}
	return g.guardSES(fn, env)
}

// guardSES points fn at an SES endpoint of its own that enforces the SES statements of
// its policy (SendMailPolicy), unless env sends it elsewhere. A function without SES
// statements gets one too: any mail it tries to send is refused.
func (g *apiGateway) guardSES(fn samtemplate.Function, env map[string]string) error {
	if env["AWS_ENDPOINT_URL_SESV2"] != g.b.sesEndpoint || g.b.sesEndpoint == "" {
		return nil
	}
	r := g.resolver()
	policy, err := servicePolicy(g.b.template, fn, r, "ses")
	if err != nil {
		return err
	}
	if len(policy) == 0 {
		if p, _ := servicePolicy(g.b.template, fn, r, "dynamodb"); len(p) == 0 {
			return nil // a template that does not model IAM
		}
	}
	guard := &iam.Guard{Function: fn.LogicalID, Policy: policy, SES: "arn:aws:ses:" + emulators.Region + ":123456789012:"}
	addr, err := g.serveGuard(guard, g.b.sesEndpoint, "SES")
	env["AWS_ENDPOINT_URL_SESV2"] = addr
	return err
}

// guardDynamoDB points fn at a DynamoDB endpoint of its own that enforces the DynamoDB
// statements of its policy in the template (package iam), unless env sends it elsewhere.
// A function whose policy has no DynamoDB statement at all (a template that does not model
// IAM, such as the local stack's own test template) talks to DynamoDB Local directly.
func (g *apiGateway) guardDynamoDB(fn samtemplate.Function, env map[string]string) error {
	if env["AWS_ENDPOINT_URL_DYNAMODB"] != g.b.dynamoEndpoint {
		return nil
	}
	r := g.resolver()
	policy, err := servicePolicy(g.b.template, fn, r, "dynamodb")
	if err != nil || len(policy) == 0 {
		return err
	}
	tables := map[string]iam.Table{}
	if t, ok := g.b.template.Table(g.b.tableID); ok {
		arn, err := g.b.template.TableARN(t.LogicalID, r)
		if err != nil {
			return err
		}
		tt := iam.Table{ARN: arn, HashKey: hashKey(t.Properties.KeySchema), Indexes: map[string]string{}}
		for _, ix := range slices.Concat(t.Properties.GlobalSecondaryIndexes, t.Properties.LocalSecondaryIndexes) {
			tt.Indexes[ix.IndexName] = hashKey(ix.KeySchema)
		}
		tables[g.b.tableName] = tt
	}
	// An override of a variable that names a table (TABLE_NAME=other) stands for that
	// table: the policy's statements on it apply to the other one.
	for name, e := range fn.Environment {
		if v, err := g.b.template.Resolve(e, r); err == nil && env[name] != v {
			if t, ok := tables[v]; ok {
				tables[env[name]] = t
			}
		}
	}
	guard := &iam.Guard{Function: fn.LogicalID, Policy: policy, Tables: tables}
	addr, err := g.serveGuard(guard, g.b.dynamoEndpoint, "DynamoDB")
	env["AWS_ENDPOINT_URL_DYNAMODB"] = addr
	return err
}

// serveGuard serves guard on a loopback port in front of upstream and returns its URL.
func (g *apiGateway) serveGuard(guard *iam.Guard, upstream, service string) (string, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return "", err
	}
	ln, err := listen(0, service+" guard of "+guard.Function)
	if err != nil {
		return "", err
	}
	guard.Upstream = u
	guard.OnDeny = func(function string, a iam.Access) {
		g.b.denied(fmt.Sprintf("%s: AccessDenied: %s", function, a))
	}
	srv := &http.Server{Handler: guard}
	go func() { _ = srv.Serve(ln) }()
	g.guardMu.Lock()
	g.guards = append(g.guards, srv)
	g.guardMu.Unlock()
	return "http://" + ln.Addr().String(), nil
}

func (g *apiGateway) resolver() samtemplate.Resolver {
	params := LocalParameters()
	for k, v := range g.opts.Parameters {
		params[k] = v
	}
	return samtemplate.Resolver{Parameters: params, Refs: g.b.refs(), Region: emulators.Region}
}

// servicePolicy resolves fn's Allow statements on a service (its IAM prefix: dynamodb, ses).
func servicePolicy(t *samtemplate.Template, fn samtemplate.Function, r samtemplate.Resolver, service string) (iam.Policy, error) {
	var p iam.Policy
	for _, st := range fn.Policies {
		if !iam.IsService(service, st.Actions) {
			continue
		}
		if st.Effect != "Allow" {
			return nil, fmt.Errorf("%s: only Allow statements are enforced locally, not %q", fn.LogicalID, st.Effect)
		}
		var resources []string
		for _, e := range st.Resources {
			v, err := t.Resolve(e, r)
			if err != nil {
				return nil, fmt.Errorf("%s: policy resource: %w", fn.LogicalID, err)
			}
			resources = append(resources, v)
		}
		conds := map[string]map[string][]string{}
		for op, keys := range st.Conditions {
			conds[op] = map[string][]string{}
			for k, vals := range keys {
				for _, e := range vals {
					v, err := t.Resolve(e, r)
					if err != nil {
						return nil, fmt.Errorf("%s: policy condition %s: %w", fn.LogicalID, k, err)
					}
					conds[op][k] = append(conds[op][k], v)
				}
			}
		}
		s, err := iam.NewStatement(st.Actions, resources, conds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.LogicalID, err)
		}
		p = append(p, s)
	}
	return p, nil
}

func hashKey(ks []samtemplate.KeySchemaElement) string {
	for _, k := range ks {
		if k.KeyType == "HASH" {
			return k.AttributeName
		}
	}
	return ""
}

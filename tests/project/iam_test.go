package project

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/routes"
)

// leadingKeys are the partition keys of each function's grants in the route table
// (internal/routes): on the table, and on GSI1 (Query).
func leadingKeys() map[string]struct{ table, gsi1 []string } {
	out := map[string]struct{ table, gsi1 []string }{}
	for _, f := range routes.Functions {
		k := out[f.LogicalID()]
		for _, g := range f.DynamoDB {
			if g.GSI1 {
				k.gsi1 = append(k.gsi1, g.Keys...)
			} else {
				k.table = append(k.table, g.Keys...)
			}
		}
		out[f.LogicalID()] = k
	}
	return out
}

// TestIAMLeadingKeys: every DynamoDB statement of every function's policy carries a
// ForAllValues:StringLike condition on dynamodb:LeadingKeys listing exactly the partition
// keys the route table grants that function (leadingKeys), and a Null condition that
// refuses key-less requests; a function without DynamoDB access has no grant, and every
// function of the table is in the template. (That the code uses no other keys, the e2e
// suites check: the local stack enforces these statements on every call.)
func TestIAMLeadingKeys(t *testing.T) {
	_, tmpl := repo(t)
	resources := field(templateRoot(t), "Resources")
	leadingKeys := leadingKeys()
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
				t.Errorf("%s: DynamoDB statement, but no function of the route table", id)
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
			t.Errorf("the route table has %s, which is not a function of the template", id)
		}
	}
}

// templateRoot is template.yaml's top-level mapping, as YAML nodes (CloudFormation's tags
// are no YAML types a struct decoder understands).
func templateRoot(t *testing.T) *yaml.Node {
	t.Helper()
	root, _ := repo(t)
	var doc yaml.Node
	readYAML(t, root, "template.yaml", &doc)
	return doc.Content[0]
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

package samtemplate

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Statement is one statement of a function's inline policies (Policies: - Statement: ...).
// Managed policies (!Ref SomePolicy) and SAM policy templates are not read: the local
// stack only enforces the inline DynamoDB statements.
type Statement struct {
	Effect    string
	Actions   []string
	Resources []Expr
	// Conditions maps an operator (ForAllValues:StringLike, Null, ...) to condition keys and
	// their values, left unresolved.
	Conditions map[string]map[string][]Expr
}

// TableARN returns the ARN a table's !GetAtt Table.Arn resolves to.
func (t *Template) TableARN(logicalID string, r Resolver) (string, error) {
	return resolution{t: t, r: r}.getAtt(logicalID, "Arn")
}

// policyStatements reads the inline statements of a function's Policies.
func policyStatements(policies *yaml.Node) ([]Statement, error) {
	if policies == nil {
		return nil, nil
	}
	if policies.Kind != yaml.SequenceNode {
		return nil, nodeErr(policies, "Policies: expected a list")
	}
	var out []Statement
	for _, p := range policies.Content {
		sts := mapValue(p, "Statement")
		if sts == nil {
			continue
		}
		if sts.Kind != yaml.SequenceNode {
			return nil, nodeErr(sts, "Statement: expected a list")
		}
		for _, st := range sts.Content {
			s, err := parseStatement(resolveAlias(st))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func parseStatement(st *yaml.Node) (Statement, error) {
	var s Statement
	var err error
	if s.Effect, err = scalarField(st, "Effect"); err != nil {
		return s, err
	}
	if s.Actions, err = scalarOrList(mapValue(st, "Action")); err != nil {
		return s, fmt.Errorf("Action: %w", err) //lint:ignore ST1005 the policy's key, as spelt in the template
	}
	s.Resources = exprOrList(mapValue(st, "Resource"))
	cond := mapValue(st, "Condition")
	if cond == nil {
		return s, nil
	}
	if cond.Kind != yaml.MappingNode {
		return s, nodeErr(cond, "Condition: expected a mapping")
	}
	s.Conditions = map[string]map[string][]Expr{}
	for i := 0; i+1 < len(cond.Content); i += 2 {
		op, keys := cond.Content[i].Value, resolveAlias(cond.Content[i+1])
		if keys.Kind != yaml.MappingNode {
			return s, nodeErr(keys, "Condition %s: expected a mapping", op)
		}
		s.Conditions[op] = map[string][]Expr{}
		for j := 0; j+1 < len(keys.Content); j += 2 {
			s.Conditions[op][keys.Content[j].Value] = exprOrList(keys.Content[j+1])
		}
	}
	return s, nil
}

func scalarOrList(n *yaml.Node) ([]string, error) {
	if n != nil && n.Kind == yaml.ScalarNode {
		v, err := scalarString(n)
		return []string{v}, err
	}
	return stringList(n)
}

func exprOrList(n *yaml.Node) []Expr {
	n = resolveAlias(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode || isCustomTag(n.Tag) {
		return []Expr{{node: n}}
	}
	out := make([]Expr, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, Expr{node: c})
	}
	return out
}

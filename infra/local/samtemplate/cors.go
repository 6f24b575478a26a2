package samtemplate

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// CORS is an HttpApi's CorsConfiguration with every value resolved.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           int
	AllowCredentials bool
}

// CORS resolves the CorsConfiguration of the template's HttpApi with the parameters of r,
// evaluating the template's Conditions (!If, !Equals, !Not, !And, !Or, !Condition) and
// !Split. It returns nil when the API has none, or when it resolves to AWS::NoValue.
func (t *Template) CORS(r Resolver) (*CORS, error) {
	if len(t.httpAPIs) > 1 {
		return nil, fmt.Errorf("the local stack serves one HttpApi; the template has %d", len(t.httpAPIs))
	}
	if len(t.httpAPIs) == 0 {
		return nil, nil
	}
	rs := resolution{t: t, r: r}
	n, err := rs.pick(mapValue(t.httpAPIs[0], "CorsConfiguration"))
	if err != nil || n == nil {
		return nil, err
	}
	if n.Kind == yaml.ScalarNode {
		// CorsConfiguration: true allows every origin (SAM's shorthand).
		if v, err := rs.eval(n); err != nil || v != "true" {
			return nil, err
		}
		return &CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}}, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, nodeErr(n, "CorsConfiguration must be a mapping")
	}
	c := &CORS{}
	lists := []struct {
		key string
		dst *[]string
	}{
		{"AllowOrigins", &c.AllowOrigins},
		{"AllowMethods", &c.AllowMethods},
		{"AllowHeaders", &c.AllowHeaders},
		{"ExposeHeaders", &c.ExposeHeaders},
	}
	for _, l := range lists {
		if *l.dst, err = rs.list(mapValue(n, l.key)); err != nil {
			return nil, fmt.Errorf("CorsConfiguration.%s: %w", l.key, err)
		}
	}
	if v, err := rs.optional(mapValue(n, "MaxAge")); err != nil {
		return nil, fmt.Errorf("CorsConfiguration.MaxAge: %w", err)
	} else if v != "" {
		if c.MaxAge, err = strconv.Atoi(v); err != nil || c.MaxAge < 0 {
			return nil, nodeErr(n, "CorsConfiguration.MaxAge: %q is not a number of seconds", v)
		}
	}
	if v, err := rs.optional(mapValue(n, "AllowCredentials")); err != nil {
		return nil, fmt.Errorf("CorsConfiguration.AllowCredentials: %w", err)
	} else {
		c.AllowCredentials = strings.EqualFold(v, "true")
	}
	return c, nil
}

// pick resolves !If (and !Ref AWS::NoValue, as nil) down to the node that applies.
func (rs resolution) pick(n *yaml.Node) (*yaml.Node, error) {
	for n = resolveAlias(n); n != nil; {
		name, arg, ok := intrinsic(n)
		switch {
		case !ok:
			return n, nil
		case name == "Ref" && arg.Value == "AWS::NoValue":
			return nil, nil
		case name != "Fn::If":
			return n, nil
		}
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 3 {
			return nil, nodeErr(arg, "!If: want [Condition, ValueIfTrue, ValueIfFalse]")
		}
		cond, err := scalarString(arg.Content[0])
		if err != nil {
			return nil, err
		}
		yes, err := rs.condition(cond)
		if err != nil {
			return nil, err
		}
		if yes {
			n = resolveAlias(arg.Content[1])
		} else {
			n = resolveAlias(arg.Content[2])
		}
	}
	return nil, nil
}

// optional evaluates n, "" when absent or AWS::NoValue.
func (rs resolution) optional(n *yaml.Node) (string, error) {
	n, err := rs.pick(n)
	if err != nil || n == nil {
		return "", err
	}
	return rs.eval(n)
}

// list evaluates a list: a YAML sequence of values, or !Split [delimiter, value].
func (rs resolution) list(n *yaml.Node) ([]string, error) {
	n, err := rs.pick(n)
	if err != nil || n == nil {
		return nil, err
	}
	if name, arg, ok := intrinsic(n); ok && name == "Fn::Split" {
		if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
			return nil, nodeErr(arg, "!Split: want [Delimiter, Source]")
		}
		delim, err := scalarString(arg.Content[0])
		if err != nil {
			return nil, err
		}
		src, err := rs.eval(arg.Content[1])
		if err != nil {
			return nil, err
		}
		return strings.Split(src, delim), nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nodeErr(n, "expected a list")
	}
	var out []string
	for _, item := range n.Content {
		item, err := rs.pick(item)
		if err != nil {
			return nil, err
		}
		if item == nil {
			continue
		}
		v, err := rs.eval(item)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// condition evaluates the named entry of the Conditions section.
func (rs resolution) condition(name string) (bool, error) {
	n := mapValue(rs.t.conditions, name)
	if n == nil {
		return false, fmt.Errorf("no condition %s in the template", name)
	}
	return rs.boolean(n)
}

func (rs resolution) boolean(n *yaml.Node) (bool, error) {
	n = resolveAlias(n)
	name, arg, ok := intrinsic(n)
	if !ok {
		return false, nodeErr(n, "expected a condition function")
	}
	if name == "Condition" {
		return rs.condition(arg.Value)
	}
	if arg.Kind != yaml.SequenceNode {
		return false, nodeErr(arg, "%s: want a list", name)
	}
	switch name {
	case "Fn::Equals":
		if len(arg.Content) != 2 {
			return false, nodeErr(arg, "!Equals: want [Value1, Value2]")
		}
		a, err := rs.eval(arg.Content[0])
		if err != nil {
			return false, err
		}
		b, err := rs.eval(arg.Content[1])
		return a == b, err
	case "Fn::Not":
		if len(arg.Content) != 1 {
			return false, nodeErr(arg, "!Not: want [Condition]")
		}
		v, err := rs.boolean(arg.Content[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		and := name == "Fn::And"
		for _, c := range arg.Content {
			v, err := rs.boolean(c)
			if err != nil {
				return false, err
			}
			if v != and {
				return v, nil
			}
		}
		return and, nil
	}
	return false, nodeErr(n, "%s is not a condition function the local stack supports", name)
}

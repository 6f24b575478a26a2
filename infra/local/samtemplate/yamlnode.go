package samtemplate

// Helpers that read yaml.Node trees, where CloudFormation tags keep values untyped.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	m = resolveAlias(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return resolveAlias(m.Content[i+1])
		}
	}
	return nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// scalarField returns the plain scalar value of key in m, "" if absent.
func scalarField(m *yaml.Node, key string) (string, error) {
	v := mapValue(m, key)
	if v == nil {
		return "", nil
	}
	s, err := scalarString(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

// scalarString returns a scalar's text; it refuses intrinsic functions, which only the
// places that resolve them accept.
func scalarString(n *yaml.Node) (string, error) {
	n = resolveAlias(n)
	if n.Kind != yaml.ScalarNode {
		return "", nodeErr(n, "expected a plain value")
	}
	if isCustomTag(n.Tag) {
		return "", nodeErr(n, "expected a plain value, not %s", n.Tag)
	}
	if n.ShortTag() == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func intField(m *yaml.Node, key string, def int) (int, error) {
	v := mapValue(m, key)
	if v == nil {
		return def, nil
	}
	s, err := scalarString(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, nodeErr(v, "%s must be a positive integer, got %q", key, s)
	}
	return n, nil
}

func stringList(n *yaml.Node) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nodeErr(n, "expected a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s, err := scalarString(item)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// isCustomTag reports whether tag is an application tag such as !Ref rather than one of
// YAML's own (!!str, !!int, ...).
func isCustomTag(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

func nodeErr(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return fmt.Errorf("line %d: %s", n.Line, msg)
	}
	return errors.New(msg)
}

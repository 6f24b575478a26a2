package samtemplate

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Expr is an unresolved CloudFormation value: a plain scalar or an intrinsic function such
// as !Ref, !Sub or !GetAtt, in short or long (Fn::Sub) form.
type Expr struct {
	node *yaml.Node
}

// String renders the expression as it appears in the template, e.g. "!Ref AccountsTable".
func (e Expr) String() string {
	if e.node == nil {
		return ""
	}
	out, err := yaml.Marshal(e.node)
	if err != nil {
		return e.node.Value
	}
	return strings.TrimSpace(string(out))
}

// IsLiteral reports whether the expression is a plain value that needs no resolution.
func (e Expr) IsLiteral() bool {
	n := resolveAlias(e.node)
	if n == nil || n.Kind != yaml.ScalarNode || isCustomTag(n.Tag) {
		return false
	}
	return true
}

// Resolver supplies what the template leaves to deployment time.
type Resolver struct {
	// Parameters overrides parameter values; parameters not set here use their Default.
	Parameters map[string]string
	// Refs maps resource logical IDs to physical IDs; every table that is referenced needs
	// an entry (its table name). Other resources resolve to their logical ID.
	Refs map[string]string
	// Pseudo parameters; empty means us-east-1, 123456789012 and "gatehouse-local".
	Region    string
	AccountID string
	StackName string
}

// Env resolves fn's environment variables.
func (t *Template) Env(fn Function, r Resolver) (map[string]string, error) {
	names := make([]string, 0, len(fn.Environment))
	for name := range fn.Environment {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic: the first error is always the same one
	env := make(map[string]string, len(names))
	for _, name := range names {
		v, err := t.Resolve(fn.Environment[name], r)
		if err != nil {
			return nil, fmt.Errorf("%s: environment variable %s: %w", fn.LogicalID, name, err)
		}
		env[name] = v
	}
	return env, nil
}

// Resolve evaluates one expression to a string.
func (t *Template) Resolve(e Expr, r Resolver) (string, error) {
	if e.node == nil {
		return "", nil
	}
	rs := resolution{t: t, r: r}
	return rs.eval(e.node)
}

// ParameterValue returns the value of parameter name: the override in r, else its Default.
// The value must satisfy the parameter's AllowedValues and AllowedPattern, as CloudFormation
// would insist at deploy time.
func (t *Template) ParameterValue(name string, r Resolver) (string, error) {
	p, ok := t.Parameters[name]
	if !ok {
		return "", fmt.Errorf("no parameter %s in the template", name)
	}
	v, ok := r.Parameters[name]
	if !ok {
		if !p.HasDefault {
			return "", fmt.Errorf("parameter %s has no Default and no value was given for it", name)
		}
		v = p.Default
	}
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
		return "", fmt.Errorf("parameter %s: %q is not one of %s", name, v, strings.Join(p.AllowedValues, ", "))
	}
	if p.AllowedPattern != "" {
		// CloudFormation uses Java regular expressions; a pattern RE2 cannot compile is
		// simply not checked locally.
		if re, err := regexp.Compile(p.AllowedPattern); err == nil && !re.MatchString(v) {
			hint := p.ConstraintDescription
			if hint == "" {
				hint = "pattern " + p.AllowedPattern
			}
			return "", fmt.Errorf("parameter %s: %q does not match %s", name, v, hint)
		}
	}
	return v, nil
}

// resolution evaluates expressions against one Resolver.
type resolution struct {
	t *Template
	r Resolver
}

func (rs resolution) eval(n *yaml.Node) (string, error) {
	n = resolveAlias(n)
	name, arg, ok := intrinsic(n)
	if !ok {
		return scalarString(n)
	}
	switch name {
	case "Ref":
		target, err := scalarString(arg)
		if err != nil {
			return "", fmt.Errorf("!Ref: %w", err)
		}
		return rs.ref(target)
	case "Fn::Sub":
		return rs.sub(arg)
	case "Fn::GetAtt":
		return rs.getAttNode(arg)
	case "Fn::Join":
		return rs.join(arg)
	default:
		return "", nodeErr(n, "%s is not supported by the local stack", name)
	}
}

// intrinsic recognises an intrinsic function in short (!Sub x) or long ({Fn::Sub: x}) form
// and returns its name in long form with its argument.
func intrinsic(n *yaml.Node) (name string, arg *yaml.Node, ok bool) {
	if isCustomTag(n.Tag) {
		name = "Fn::" + n.Tag[1:]
		if n.Tag == "!Ref" || n.Tag == "!Condition" {
			name = n.Tag[1:]
		}
		// The argument is the same node without the tag.
		untagged := *n
		untagged.Tag = ""
		if untagged.Kind == yaml.ScalarNode {
			untagged.Tag = "!!str"
		}
		return name, &untagged, true
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 {
		key := n.Content[0].Value
		if key == "Ref" || key == "Condition" || strings.HasPrefix(key, "Fn::") {
			return key, resolveAlias(n.Content[1]), true
		}
	}
	return "", nil, false
}

var pseudoDefaults = map[string]string{
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
}

func (rs resolution) region() string {
	if rs.r.Region != "" {
		return rs.r.Region
	}
	return "us-east-1"
}

func (rs resolution) account() string {
	if rs.r.AccountID != "" {
		return rs.r.AccountID
	}
	return "123456789012"
}

func (rs resolution) stackName() string {
	if rs.r.StackName != "" {
		return rs.r.StackName
	}
	return "gatehouse-local"
}

// ref resolves !Ref name: a pseudo parameter, a parameter or a resource.
func (rs resolution) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return rs.region(), nil
	case "AWS::AccountId":
		return rs.account(), nil
	case "AWS::StackName":
		return rs.stackName(), nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/local", rs.region(), rs.account(), rs.stackName()), nil
	}
	if v, ok := pseudoDefaults[name]; ok {
		return v, nil
	}
	if _, ok := rs.t.Parameters[name]; ok {
		return rs.t.ParameterValue(name, rs.r)
	}
	typ, ok := rs.t.resourceTypes[name]
	if !ok {
		return "", fmt.Errorf("!Ref %s: no parameter or resource of that name", name)
	}
	if v, ok := rs.r.Refs[name]; ok {
		return v, nil
	}
	if typ == typeTable {
		return "", fmt.Errorf("!Ref %s: no local table name given for it", name)
	}
	return name, nil
}

func (rs resolution) getAttNode(arg *yaml.Node) (string, error) {
	switch arg.Kind {
	case yaml.ScalarNode:
		s, err := scalarString(arg)
		if err != nil {
			return "", err
		}
		res, attr, ok := strings.Cut(s, ".")
		if !ok {
			return "", nodeErr(arg, "!GetAtt %q: want Resource.Attribute", s)
		}
		return rs.getAtt(res, attr)
	case yaml.SequenceNode:
		if len(arg.Content) != 2 {
			return "", nodeErr(arg, "!GetAtt: want [Resource, Attribute]")
		}
		res, err := scalarString(arg.Content[0])
		if err != nil {
			return "", err
		}
		attr, err := rs.eval(arg.Content[1])
		if err != nil {
			return "", err
		}
		return rs.getAtt(res, attr)
	}
	return "", nodeErr(arg, "!GetAtt: unexpected argument")
}

// getAtt returns a local stand-in for an attribute; only ARNs are needed (IAM policies and
// the like), and a fake but well-formed ARN serves.
func (rs resolution) getAtt(resource, attr string) (string, error) {
	typ, ok := rs.t.resourceTypes[resource]
	if !ok {
		return "", fmt.Errorf("!GetAtt %s.%s: no resource %s", resource, attr, resource)
	}
	physical, err := rs.ref(resource)
	if err != nil {
		return "", err
	}
	var arn string
	switch typ {
	case typeTable:
		arn = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", rs.region(), rs.account(), physical)
	case typeFunction:
		arn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", rs.region(), rs.account(), physical)
	default:
		arn = fmt.Sprintf("arn:aws:local:%s:%s:%s", rs.region(), rs.account(), physical)
	}
	switch attr {
	case "Arn":
		return arn, nil
	case "StreamArn":
		if typ == typeTable {
			return arn + "/stream/local", nil
		}
	}
	return "", fmt.Errorf("!GetAtt %s.%s: attribute not supported by the local stack", resource, attr)
}

// sub evaluates !Sub "text" or !Sub ["text", {Var: value}].
func (rs resolution) sub(arg *yaml.Node) (string, error) {
	var text string
	vars := map[string]string{}
	switch arg.Kind {
	case yaml.ScalarNode:
		s, err := scalarString(arg)
		if err != nil {
			return "", err
		}
		text = s
	case yaml.SequenceNode:
		if len(arg.Content) != 2 {
			return "", nodeErr(arg, "!Sub: want [String, {Var: Value}]")
		}
		s, err := scalarString(arg.Content[0])
		if err != nil {
			return "", err
		}
		text = s
		m := resolveAlias(arg.Content[1])
		if m.Kind != yaml.MappingNode {
			return "", nodeErr(m, "!Sub: variables must be a mapping")
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			v, err := rs.eval(m.Content[i+1])
			if err != nil {
				return "", err
			}
			vars[m.Content[i].Value] = v
		}
	default:
		return "", nodeErr(arg, "!Sub: unexpected argument")
	}
	return rs.substitute(text, vars)
}

func (rs resolution) substitute(text string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		b.WriteString(text[:i])
		end := strings.IndexByte(text[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("!Sub %q: unterminated ${", text)
		}
		name := text[i+2 : i+end]
		text = text[i+end+1:]
		v, err := rs.subVar(name, vars)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
}

func (rs resolution) subVar(name string, vars map[string]string) (string, error) {
	if literal, ok := strings.CutPrefix(name, "!"); ok {
		return "${" + literal + "}", nil // ${!x} is the escape for a literal ${x}
	}
	if v, ok := vars[name]; ok {
		return v, nil
	}
	if res, attr, ok := strings.Cut(name, "."); ok {
		return rs.getAtt(res, attr)
	}
	return rs.ref(name)
}

// join evaluates !Join [delimiter, [values...]].
func (rs resolution) join(arg *yaml.Node) (string, error) {
	if arg.Kind != yaml.SequenceNode || len(arg.Content) != 2 {
		return "", nodeErr(arg, "!Join: want [Delimiter, [Values]]")
	}
	delim, err := scalarString(arg.Content[0])
	if err != nil {
		return "", err
	}
	list := resolveAlias(arg.Content[1])
	if list.Kind != yaml.SequenceNode {
		return "", nodeErr(list, "!Join: values must be a list")
	}
	parts := make([]string, 0, len(list.Content))
	for _, item := range list.Content {
		v, err := rs.eval(item)
		if err != nil {
			return "", err
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, delim), nil
}

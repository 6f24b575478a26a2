// Package samtemplate reads the parts of Gatehouse's AWS SAM template that the local stack
// needs: the functions with their routes, limits and environment, the parameters, and the
// DynamoDB tables. It works on yaml.Node level because CloudFormation's short-form tags
// (!Ref, !Sub, !GetAtt, ...) are not YAML types a struct decoder understands.
//
// Nothing here hard-codes Gatehouse's function list: the template is the single source.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Lambda's defaults when neither the function nor Globals set a value.
const (
	DefaultTimeout    = 3 * time.Second
	DefaultMemorySize = 128
)

const (
	typeFunction = "AWS::Serverless::Function"
	typeTable    = "AWS::DynamoDB::Table"
	typeHTTPAPI  = "AWS::Serverless::HttpApi"
)

// Template is the parsed SAM template.
type Template struct {
	// Path is the file the template was loaded from.
	Path string
	// Parameters by name.
	Parameters map[string]Parameter
	// Functions are the AWS::Serverless::Function resources in template order.
	Functions []Function
	// Tables are the AWS::DynamoDB::Table resources in template order.
	Tables []Table

	// resourceTypes maps every resource's logical ID to its Type, for !Ref and !GetAtt.
	resourceTypes map[string]string

	// conditions is the Conditions section and httpAPIs the Properties of each
	// AWS::Serverless::HttpApi, unresolved (see Template.CORS).
	conditions *yaml.Node
	httpAPIs   []*yaml.Node
}

// Parameter is one entry of the template's Parameters section.
type Parameter struct {
	Name                  string
	Type                  string
	Description           string
	Default               string
	HasDefault            bool
	AllowedValues         []string
	AllowedPattern        string
	ConstraintDescription string
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Dir is the source directory relative to the template's directory, e.g.
	// "functions/users-login" (see FunctionDir).
	Dir string
	// Routes are the function's HttpApi events in template order.
	Routes []Route
	// Timeout and MemorySize come from the function, else Globals.Function, else Lambda's
	// defaults.
	Timeout    time.Duration
	MemorySize int
	// Environment is Globals.Function.Environment.Variables merged with the function's own
	// (the function wins), still unresolved; see Template.Env.
	Environment map[string]Expr

	// Policies are the statements of the function's Policies, inline or in the template's
	// managed policies it references (policies.go).
	Policies []Statement
}

// Route is one HttpApi event: an HTTP method (upper case, or ANY) and a path such as
// /users/{id} or /files/{proxy+}. The catch-all route has Path "$default".
type Route struct {
	Method string
	Path   string
}

// DefaultRoute is the path of an HTTP API's catch-all route.
const DefaultRoute = "$default"

// Key returns the route key as API Gateway writes it: "POST /users/login" or "$default".
func (r Route) Key() string {
	if r.Path == DefaultRoute {
		return DefaultRoute
	}
	return r.Method + " " + r.Path
}

// Load reads and parses the SAM template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Path = path
	return t, nil
}

// Parse parses a SAM template held in memory.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty template")
	}
	root := resolveAlias(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, nodeErr(root, "template must be a mapping")
	}

	t := &Template{Parameters: map[string]Parameter{}, resourceTypes: map[string]string{}}
	if err := t.parseParameters(mapValue(root, "Parameters")); err != nil {
		return nil, err
	}
	globals, err := parseGlobals(mapValue(mapValue(root, "Globals"), "Function"))
	if err != nil {
		return nil, err
	}
	t.conditions = mapValue(root, "Conditions")
	resources := mapValue(root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, nodeErr(root, "template has no Resources mapping")
	}
	if err := t.parseResources(resources, globals); err != nil {
		return nil, err
	}
	return t, nil
}

// Function returns the function with the given logical ID.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// Table returns the table with the given logical ID.
func (t *Template) Table(logicalID string) (Table, bool) {
	for _, tb := range t.Tables {
		if tb.LogicalID == logicalID {
			return tb, true
		}
	}
	return Table{}, false
}

func (t *Template) parseParameters(params *yaml.Node) error {
	if params == nil {
		return nil
	}
	if params.Kind != yaml.MappingNode {
		return nodeErr(params, "Parameters must be a mapping")
	}
	for i := 0; i+1 < len(params.Content); i += 2 {
		name, body := params.Content[i].Value, resolveAlias(params.Content[i+1])
		if body.Kind != yaml.MappingNode {
			return nodeErr(body, "parameter %s must be a mapping", name)
		}
		p := Parameter{Name: name}
		var err error
		fields := []struct {
			key string
			dst *string
		}{
			{"Type", &p.Type},
			{"Description", &p.Description},
			{"AllowedPattern", &p.AllowedPattern},
			{"ConstraintDescription", &p.ConstraintDescription},
		}
		for _, f := range fields {
			if *f.dst, err = scalarField(body, f.key); err != nil {
				return fmt.Errorf("parameter %s: %w", name, err)
			}
		}
		if def := mapValue(body, "Default"); def != nil {
			if p.Default, err = scalarString(def); err != nil {
				return fmt.Errorf("parameter %s: Default: %w", name, err)
			}
			p.HasDefault = true
		}
		if p.AllowedValues, err = stringList(mapValue(body, "AllowedValues")); err != nil {
			return fmt.Errorf("parameter %s: AllowedValues: %w", name, err)
		}
		t.Parameters[name] = p
	}
	return nil
}

// functionDefaults holds Globals.Function's settings that functions inherit.
type functionDefaults struct {
	timeout     time.Duration
	memorySize  int
	environment map[string]Expr
}

func parseGlobals(fn *yaml.Node) (functionDefaults, error) {
	d := functionDefaults{timeout: DefaultTimeout, memorySize: DefaultMemorySize}
	if fn == nil {
		return d, nil
	}
	var err error
	if d.timeout, err = timeoutField(fn, d.timeout); err != nil {
		return d, fmt.Errorf("Globals.Function: %w", err)
	}
	if d.memorySize, err = intField(fn, "MemorySize", d.memorySize); err != nil {
		return d, fmt.Errorf("Globals.Function: %w", err)
	}
	if d.environment, err = envVariables(fn); err != nil {
		return d, fmt.Errorf("Globals.Function: %w", err)
	}
	return d, nil
}

func (t *Template) parseResources(resources *yaml.Node, globals functionDefaults) error {
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, body := resources.Content[i].Value, resolveAlias(resources.Content[i+1])
		if body.Kind != yaml.MappingNode {
			return nodeErr(body, "resource %s must be a mapping", id)
		}
		typ, err := scalarField(body, "Type")
		if err != nil {
			return fmt.Errorf("resource %s: %w", id, err)
		}
		t.resourceTypes[id] = typ
		props := mapValue(body, "Properties")
		switch typ {
		case typeFunction:
			f, err := parseFunction(id, props, globals, resources)
			if err != nil {
				return fmt.Errorf("function %s: %w", id, err)
			}
			t.Functions = append(t.Functions, f)
		case typeTable:
			tb, err := parseTable(id, props)
			if err != nil {
				return fmt.Errorf("table %s: %w", id, err)
			}
			t.Tables = append(t.Tables, tb)
		case typeHTTPAPI:
			t.httpAPIs = append(t.httpAPIs, props)
		}
	}
	return nil
}

func parseFunction(id string, props *yaml.Node, globals functionDefaults, resources *yaml.Node) (Function, error) {
	f := Function{
		LogicalID:   id,
		Dir:         FunctionDir(id),
		Timeout:     globals.timeout,
		MemorySize:  globals.memorySize,
		Environment: map[string]Expr{},
	}
	for k, v := range globals.environment {
		f.Environment[k] = v
	}
	if props == nil {
		return f, nil
	}
	var err error
	if f.Timeout, err = timeoutField(props, f.Timeout); err != nil {
		return f, err
	}
	if f.MemorySize, err = intField(props, "MemorySize", f.MemorySize); err != nil {
		return f, err
	}
	own, err := envVariables(props)
	if err != nil {
		return f, err
	}
	for k, v := range own {
		f.Environment[k] = v
	}
	if f.Policies, err = policyStatements(mapValue(props, "Policies"), resources); err != nil {
		return f, fmt.Errorf("%s: %w", id, err)
	}
	f.Routes, err = httpAPIRoutes(mapValue(props, "Events"))
	return f, err
}

// httpAPIRoutes collects the routes of a function's events of Type HttpApi.
func httpAPIRoutes(events *yaml.Node) ([]Route, error) {
	if events == nil {
		return nil, nil
	}
	if events.Kind != yaml.MappingNode {
		return nil, nodeErr(events, "Events must be a mapping")
	}
	var routes []Route
	for i := 0; i+1 < len(events.Content); i += 2 {
		name, ev := events.Content[i].Value, resolveAlias(events.Content[i+1])
		typ, err := scalarField(ev, "Type")
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
		if typ != "HttpApi" {
			continue
		}
		props := mapValue(ev, "Properties")
		method, err := scalarField(props, "Method")
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
		path, err := scalarField(props, "Path")
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
		// SAM creates the catch-all route when an HttpApi event names neither.
		if path == "" {
			path = DefaultRoute
		}
		method = strings.ToUpper(method)
		if method == "" || method == "*" {
			method = "ANY"
		}
		if path != DefaultRoute && !strings.HasPrefix(path, "/") {
			return nil, nodeErr(props, "event %s: Path %q must start with /", name, path)
		}
		routes = append(routes, Route{Method: method, Path: path})
	}
	return routes, nil
}

// envVariables returns Environment.Variables of a function's properties.
func envVariables(props *yaml.Node) (map[string]Expr, error) {
	vars := mapValue(mapValue(props, "Environment"), "Variables")
	if vars == nil {
		return nil, nil
	}
	if vars.Kind != yaml.MappingNode {
		return nil, nodeErr(vars, "Environment.Variables must be a mapping")
	}
	out := make(map[string]Expr, len(vars.Content)/2)
	for i := 0; i+1 < len(vars.Content); i += 2 {
		out[vars.Content[i].Value] = Expr{node: vars.Content[i+1]}
	}
	return out, nil
}

func timeoutField(m *yaml.Node, def time.Duration) (time.Duration, error) {
	secs, err := intField(m, "Timeout", int(def/time.Second))
	if err != nil {
		return 0, err
	}
	return time.Duration(secs) * time.Second, nil
}

// FunctionDir maps a function's logical ID to its source directory: the ID without the
// "Function" suffix in kebab case under functions/, so UsersRequestOtpFunction lives in
// functions/users-request-otp.
func FunctionDir(logicalID string) string {
	return "functions/" + kebab(strings.TrimSuffix(logicalID, "Function"))
}

// kebab converts CamelCase to kebab-case; an acronym stays one word (HTTPServer is
// http-server).
func kebab(s string) string { return strings.ToLower(strings.Join(Words(s), "-")) }

// Words splits a CamelCase name into its words; an acronym stays one word (HTTPServer is
// HTTP, Server).
func Words(s string) []string {
	rs := []rune(s)
	var words []string
	start := 0
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				words = append(words, string(rs[start:i]))
				start = i
			}
		}
	}
	if start < len(rs) {
		words = append(words, string(rs[start:]))
	}
	return words
}

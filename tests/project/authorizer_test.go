package project

import (
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSessionAuthorizerTemplate: the authorizer reads one thing (BatchGetItem of the session
// and its account), API Gateway of this account only may invoke it, and the stack exports
// its ARN and the cache TTL consumers configure.
func TestSessionAuthorizerTemplate(t *testing.T) {
	root, _ := repo(t)
	var doc yaml.Node
	readYAML(t, root, "template.yaml", &doc)
	top := doc.Content[0]
	resources := field(top, "Resources")
	fn := field(resources, "SessionAuthorizerFunction")
	if fn == nil {
		t.Fatal("no SessionAuthorizerFunction")
	}
	var actions []string
	for _, st := range statements(field(fn, "Properties")) {
		actions = append(actions, scalars(field(st, "Action"))...)
	}
	if !sameSet(actions, []string{"dynamodb:BatchGetItem"}) {
		t.Errorf("SessionAuthorizerFunction may %v, want only dynamodb:BatchGetItem", actions)
	}
	if field(field(fn, "Properties"), "Events") != nil {
		t.Error("SessionAuthorizerFunction has Events")
	}

	perm := field(field(resources, "SessionAuthorizerInvokePermission"), "Properties")
	if perm == nil {
		t.Fatal("no SessionAuthorizerInvokePermission")
	}
	for key, want := range map[string]string{
		"Action":        "lambda:InvokeFunction",
		"Principal":     "apigateway.amazonaws.com",
		"SourceAccount": "AWS::AccountId",
		"SourceArn":     "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/authorizers/*",
		"FunctionName":  "SessionAuthorizerFunction.Arn",
	} {
		if got := field(perm, key); got == nil || got.Value != want {
			t.Errorf("SessionAuthorizerInvokePermission %s = %v, want %q", key, got, want)
		}
	}

	ttl := field(field(top, "Parameters"), "AuthorizerCacheTtl")
	for key, want := range map[string]string{"Type": "Number", "Default": "60", "MinValue": "0", "MaxValue": "3600"} {
		if got := field(ttl, key); got == nil || got.Value != want {
			t.Errorf("parameter AuthorizerCacheTtl %s = %v, want %s", key, got, want)
		}
	}
	outputs := field(top, "Outputs")
	for name, export := range map[string]string{
		"SessionAuthorizerArn": "${AWS::StackName}-SessionAuthorizerArn",
		"AuthorizerCacheTtl":   "${AWS::StackName}-AuthorizerCacheTtl",
	} {
		if got := field(field(field(outputs, name), "Export"), "Name"); got == nil || got.Value != export {
			t.Errorf("output %s exports %v, want %s", name, got, export)
		}
	}
	if !slices.Contains(authorizers, "SessionAuthorizerFunction") {
		t.Error("SessionAuthorizerFunction is not listed as an authorizer")
	}
}

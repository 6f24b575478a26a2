package stack

import (
	"testing"

	"github.com/gatehouse/gatehouse/infra/local/iam"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
)

// TestDynamoPolicyOfTemplate: every function of Gatehouse's template has DynamoDB
// statements the local guard can enforce, resolved to the local table's ARNs.
func TestDynamoPolicyOfTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := testGateway(t, tmpl, Options{}).resolver()
	arn, err := tmpl.TableARN("AccountsTable", r)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range tmpl.Functions {
		p, err := servicePolicy(tmpl, fn, r, "dynamodb")
		if err != nil || len(p) == 0 {
			t.Errorf("%s: %d statements, %v", fn.LogicalID, len(p), err)
		}
	}
	info, _ := tmpl.Function("UsersInfoFunction")
	p, _ := servicePolicy(tmpl, info, r, "dynamodb")
	if !p.Allows(iam.Access{Action: "dynamodb:BatchGetItem", Resource: arn, Keys: []string{"USER#1"}}) ||
		p.Allows(iam.Access{Action: "dynamodb:BatchGetItem", Resource: arn, Keys: []string{"USERNAME#bob"}}) ||
		p.Allows(iam.Access{Action: "dynamodb:GetItem", Resource: arn, Keys: []string{"USER#1"}}) {
		t.Errorf("UsersInfoFunction's policy %+v", p)
	}
}

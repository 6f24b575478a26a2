package iam

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

const tableARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t"

var tables = map[string]Table{"t": {ARN: tableARN, HashKey: "PK", Indexes: map[string]string{"GSI1": "GSI1PK"}}}

func statement(t *testing.T, actions []string, resource string, keys ...string) Statement {
	t.Helper()
	s, err := NewStatement(actions, []string{resource}, map[string]map[string][]string{
		"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys},
		"Null":                    {"dynamodb:LeadingKeys": {"false"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLike(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"USER#*", "USER#12", true},
		{"USER#*", "USER#", true},
		{"USER#*", "USERNAME#bob", false},
		{"USERNAME#*", "USERNAME#bob", true},
		{"COUNTER", "COUNTER", true},
		{"COUNTER", "COUNTERX", false},
		{"COUNTER", "counter", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"arn:*:table/t", tableARN, true},
		{"dynamodb:*", "dynamodb:Query", true},
	} {
		if got := like(c.pattern, c.s); got != c.want {
			t.Errorf("like(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

func TestUnsupportedConditionIsRefused(t *testing.T) {
	_, err := NewStatement([]string{"dynamodb:GetItem"}, []string{tableARN}, map[string]map[string][]string{
		"ForAllValues:StringEquals": {"dynamodb:Attributes": {"PK"}},
	})
	if err == nil {
		t.Fatal("a condition the guard cannot evaluate was accepted")
	}
}

// TestAccesses: the parts of each request kind that IAM checks, with their leading keys.
func TestAccesses(t *testing.T) {
	g := &Guard{Tables: tables}
	for _, c := range []struct {
		op, body string
		want     []Access
	}{
		{"GetItem", `{"TableName":"t","Key":{"PK":{"S":"USER#1"},"SK":{"S":"ACCOUNT"}}}`,
			[]Access{{Action: "dynamodb:GetItem", Resource: tableARN, Keys: []string{"USER#1"}}}},
		{"PutItem", `{"TableName":"t","Item":{"PK":{"S":"RESET#ab"},"SK":{"S":"RESET"},"x":{"N":"1"}}}`,
			[]Access{{Action: "dynamodb:PutItem", Resource: tableARN, Keys: []string{"RESET#ab"}}}},
		{"UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"COUNTER"},"SK":{"S":"USER_ID"}}}`,
			[]Access{{Action: "dynamodb:UpdateItem", Resource: tableARN, Keys: []string{"COUNTER"}}}},
		{"Query", `{"TableName":"t","KeyConditionExpression":"PK = :pk AND begins_with(SK, :sp)","ExpressionAttributeValues":{":pk":{"S":"USER#7"},":sp":{"S":"SESSION#"}}}`,
			[]Access{{Action: "dynamodb:Query", Resource: tableARN, Keys: []string{"USER#7"}}}},
		{"Query", `{"TableName":"t","IndexName":"GSI1","KeyConditionExpression":"#p = :p AND GSI1SK > :a","ExpressionAttributeNames":{"#p":"GSI1PK"},"ExpressionAttributeValues":{":p":{"S":"ACCOUNTS"},":a":{"S":"bob"}}}`,
			[]Access{{Action: "dynamodb:Query", Resource: tableARN + "/index/GSI1", Keys: []string{"ACCOUNTS"}}}},
		{"BatchGetItem", `{"RequestItems":{"t":{"Keys":[{"PK":{"S":"USER#1"},"SK":{"S":"SESSION#x"}},{"PK":{"S":"USER#1"},"SK":{"S":"ACCOUNT"}}]}}}`,
			[]Access{{Action: "dynamodb:BatchGetItem", Resource: tableARN, Keys: []string{"USER#1", "USER#1"}}}},
		{"BatchWriteItem", `{"RequestItems":{"t":[{"DeleteRequest":{"Key":{"PK":{"S":"USER#1"},"SK":{"S":"SESSION#x"}}}},{"PutRequest":{"Item":{"PK":{"S":"USER#2"},"SK":{"S":"X"}}}}]}}`,
			[]Access{{Action: "dynamodb:BatchWriteItem", Resource: tableARN, Keys: []string{"USER#1", "USER#2"}}}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"t","Item":{"PK":{"S":"USERNAME#bob"},"SK":{"S":"USERNAME"}}}},{"Delete":{"TableName":"t","Key":{"PK":{"S":"RESET#ab"},"SK":{"S":"RESET"}}}},{"Update":{"TableName":"t","Key":{"PK":{"S":"USER#1"},"SK":{"S":"ACCOUNT"}}}},{"ConditionCheck":{"TableName":"t","Key":{"PK":{"S":"USER#2"},"SK":{"S":"ACCOUNT"}}}}]}`,
			[]Access{{Action: "dynamodb:PutItem", Resource: tableARN, Keys: []string{"USERNAME#bob"}}, {Action: "dynamodb:DeleteItem", Resource: tableARN, Keys: []string{"RESET#ab"}},
				{Action: "dynamodb:UpdateItem", Resource: tableARN, Keys: []string{"USER#1"}}, {Action: "dynamodb:ConditionCheckItem", Resource: tableARN, Keys: []string{"USER#2"}}}},
		{"Scan", `{"TableName":"t"}`, []Access{{Action: "dynamodb:Scan", Resource: tableARN, Keys: nil}}},
	} {
		got, err := g.accesses(c.op, []byte(c.body))
		if err != nil {
			t.Errorf("%s: %v", c.op, err)
			continue
		}
		if !slices.EqualFunc(got, c.want, func(a, b Access) bool {
			return a.Action == b.Action && a.Resource == b.Resource && slices.Equal(a.Keys, b.Keys)
		}) {
			t.Errorf("%s %s:\n got %v\nwant %v", c.op, c.body, got, c.want)
		}
	}
	if _, err := g.accesses("GetItem", []byte(`{"TableName":"other","Key":{}}`)); err == nil {
		t.Error("a table that is not the template's was accepted")
	}
}

func TestPolicyAllows(t *testing.T) {
	p := Policy{
		statement(t, []string{"dynamodb:GetItem", "dynamodb:UpdateItem"}, tableARN, "USERNAME#*", "USER#*"),
		statement(t, []string{"dynamodb:Query"}, tableARN+"/index/GSI1", "ACCOUNTS"),
	}
	for _, c := range []struct {
		a    Access
		want bool
	}{
		{Access{Action: "dynamodb:GetItem", Resource: tableARN, Keys: []string{"USER#1"}}, true},
		{Access{Action: "dynamodb:GetItem", Resource: tableARN, Keys: []string{"USERNAME#bob", "USER#1"}}, true},
		{Access{Action: "dynamodb:GetItem", Resource: tableARN, Keys: []string{"USER#1", "RESET#x"}}, false}, // every key must match
		{Access{Action: "dynamodb:GetItem", Resource: tableARN, Keys: []string{"EMAIL#a@b"}}, false},
		{Access{Action: "dynamodb:GetItem", Resource: tableARN, Keys: nil}, false}, // Null: keys required
		{Access{Action: "dynamodb:PutItem", Resource: tableARN, Keys: []string{"USER#1"}}, false},
		{Access{Action: "dynamodb:Query", Resource: tableARN + "/index/GSI1", Keys: []string{"ACCOUNTS"}}, true},
		{Access{Action: "dynamodb:Query", Resource: tableARN, Keys: []string{"ACCOUNTS"}}, false}, // the table is not the index
		{Access{Action: "dynamodb:Query", Resource: tableARN + "/index/GSI1", Keys: []string{"USER#1"}}, false},
		{Access{Action: "dynamodb:Scan", Resource: tableARN, Keys: nil}, false},
	} {
		if got := p.Allows(c.a); got != c.want {
			t.Errorf("Allows(%v) = %v", c.a, got)
		}
	}
}

// TestGuard: allowed requests reach DynamoDB unchanged; refused ones get DynamoDB's
// AccessDeniedException and are reported.
func TestGuard(t *testing.T) {
	var mu sync.Mutex
	var upstream []string
	db := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		upstream = append(upstream, r.Header.Get("X-Amz-Target")+" "+string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer db.Close()
	u, _ := url.Parse(db.URL)
	var denied []string
	g := &Guard{Function: "Fn", Tables: tables, Upstream: u,
		Policy: Policy{statement(t, []string{"dynamodb:GetItem"}, tableARN, "USER#*")},
		OnDeny: func(fn string, a Access) { denied = append(denied, fn+" "+a.String()) }}
	srv := httptest.NewServer(g)
	defer srv.Close()
	call := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ok := `{"TableName":"t","Key":{"PK":{"S":"USER#1"},"SK":{"S":"ACCOUNT"}}}`
	if status, _ := call(ok); status != 200 || len(upstream) != 1 || upstream[0] != "DynamoDB_20120810.GetItem "+ok {
		t.Fatalf("allowed call: %d, upstream saw %q", status, upstream)
	}
	status, body := call(`{"TableName":"t","Key":{"PK":{"S":"RESET#x"},"SK":{"S":"RESET"}}}`)
	if status != 400 || !strings.Contains(body, "#AccessDeniedException") || !strings.Contains(body, "RESET#…") || strings.Contains(body, "RESET#x") {
		t.Fatalf("refused call: %d %s", status, body)
	}
	if len(upstream) != 1 || len(denied) != 1 || !strings.HasPrefix(denied[0], "Fn dynamodb:GetItem") {
		t.Fatalf("upstream %q, denied %q", upstream, denied)
	}
	// An action the policy lacks is refused, whatever its keys.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(ok))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteItem")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || len(upstream) != 1 || len(denied) != 2 || !strings.HasPrefix(denied[1], "Fn dynamodb:DeleteItem") {
		t.Fatalf("DeleteItem without a statement: %d, upstream %q, denied %q", resp.StatusCode, upstream, denied)
	}
	if calls := g.Calls(); len(calls) != 1 || calls["dynamodb:GetItem "+tableARN] != 1 {
		t.Fatalf("Calls() = %v, want the one GetItem let through", calls)
	}
}

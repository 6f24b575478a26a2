package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Table is what a Guard knows of a table: its ARN and its partition key attributes.
type Table struct {
	ARN     string
	HashKey string            // the table's partition key attribute
	Indexes map[string]string // index name -> the index's partition key attribute
}

// Guard is a service endpoint for one function: it forwards a request to Upstream when
// Policy allows every part of it, and otherwise answers the service's AccessDenied error
// and reports the denial to OnDeny. It is DynamoDB's unless SES is set.
type Guard struct {
	Function string
	Policy   Policy
	Tables   map[string]Table // by table name (DynamoDB)
	// SES makes it an SES v2 endpoint rather than DynamoDB's: the ARN prefix of SES
	// resources in the stack's region and account, arn:aws:ses:<region>:<account>:.
	SES      string
	Upstream *url.URL
	OnDeny   func(function string, denied Access)

	once  sync.Once
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	calls map[string]int
}

// Calls counts the operations the guard let through, by action and resource: what the
// function really called.
func (g *Guard) Calls() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]int, len(g.calls))
	for k, v := range g.calls {
		out[k] = v
	}
	return out
}

// maxRequest is above DynamoDB's own 16 MB request limit.
const maxRequest = 17 << 20

func (g *Guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var accesses []Access
	if g.SES != "" {
		accesses, err = sesAccesses(g.SES, r, body)
	} else {
		op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		if accesses, err = g.accesses(op, body); err != nil {
			accesses = []Access{{Action: "dynamodb:" + op}}
		}
	}
	if err != nil {
		g.deny(w, accesses[0], err.Error())
		return
	}
	for _, a := range accesses {
		if !g.Policy.Allows(a) {
			g.deny(w, a, "no statement of its policy in template.yaml allows it")
			return
		}
	}
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[string]int{}
	}
	for _, a := range accesses {
		g.calls[a.Action+" "+a.Resource]++
	}
	g.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	g.once.Do(func() {
		g.proxy = httputil.NewSingleHostReverseProxy(g.Upstream)
		// As many kept connections as a function has instances, not net/http's 2.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		g.proxy.Transport = tr
		g.proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil { // else the function gave up on the call: no one to tell
				http.Error(w, err.Error(), http.StatusBadGateway)
			}
		}
	})
	g.proxy.ServeHTTP(w, r)
}

func (g *Guard) deny(w http.ResponseWriter, a Access, why string) {
	if g.OnDeny != nil {
		g.OnDeny(g.Function, a)
	}
	msg := fmt.Sprintf("%s is not authorized to perform %s (local stack: %s)", g.Function, a, why)
	if g.SES != "" { // SES v2 is a REST API: the error type travels in a header
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"__type":  "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
		"message": msg,
	})
}

// attr is a DynamoDB attribute value; keys are strings or numbers.
type attr struct {
	S *string `json:"S"`
	N *string `json:"N"`
}

type item = map[string]attr

// target is the part of a request or of a transaction item that names a table and items.
type target struct {
	TableName string `json:"TableName"`
	IndexName string `json:"IndexName"`
	Key       item   `json:"Key"`
	Item      item   `json:"Item"`

	KeyConditionExpression    string            `json:"KeyConditionExpression"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues item              `json:"ExpressionAttributeValues"`
}

type request struct {
	target
	RequestItems  map[string]json.RawMessage `json:"RequestItems"`
	TransactItems []map[string]target        `json:"TransactItems"`
}

// transactActions are the IAM actions of a transaction's items.
var transactActions = map[string]string{
	"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
	"ConditionCheck": "dynamodb:ConditionCheckItem", "Get": "dynamodb:GetItem",
}

// accesses lists what the request op needs, as IAM checks it: per item for transactions,
// per table for batches, with the partition key values of every item involved.
func (g *Guard) accesses(op string, body []byte) ([]Access, error) {
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("request body: %v", err)
	}
	action := "dynamodb:" + op
	switch op {
	case "GetItem", "UpdateItem", "DeleteItem":
		return g.one(action, req.target, req.Key)
	case "PutItem":
		return g.one(action, req.target, req.Item)
	case "Query":
		t, err := g.table(req.TableName)
		if err != nil {
			return nil, err
		}
		resource, hash := t.ARN, t.HashKey
		if req.IndexName != "" {
			resource += "/index/" + req.IndexName
			hash = t.Indexes[req.IndexName]
		}
		var keys []string
		if k, ok := queryKey(req.target, hash); ok {
			keys = []string{k}
		}
		return []Access{{Action: action, Resource: resource, Keys: keys}}, nil
	case "BatchGetItem":
		var out []Access
		for name, raw := range req.RequestItems {
			var v struct {
				Keys []item `json:"Keys"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
			a, err := g.batch(action, name, v.Keys)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	case "BatchWriteItem":
		var out []Access
		for name, raw := range req.RequestItems {
			var v []struct {
				PutRequest    *struct{ Item item }
				DeleteRequest *struct{ Key item }
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, err
			}
			var items []item
			for _, w := range v {
				if w.PutRequest != nil {
					items = append(items, w.PutRequest.Item)
				}
				if w.DeleteRequest != nil {
					items = append(items, w.DeleteRequest.Key)
				}
			}
			a, err := g.batch(action, name, items)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	case "TransactWriteItems", "TransactGetItems":
		var out []Access
		for _, ti := range req.TransactItems {
			for kind, t := range ti {
				a, ok := transactActions[kind]
				if !ok {
					return nil, fmt.Errorf("transaction item %s", kind)
				}
				k := t.Key
				if kind == "Put" {
					k = t.Item
				}
				acc, err := g.one(a, t, k)
				if err != nil {
					return nil, err
				}
				out = append(out, acc...)
			}
		}
		return out, nil
	}
	// Anything else (Scan, DescribeTable, ...) names no items: its statement would have to
	// allow it without a LeadingKeys condition.
	resource := "*"
	if t, err := g.table(req.TableName); err == nil {
		resource = t.ARN
	}
	return []Access{{Action: action, Resource: resource}}, nil
}

func (g *Guard) table(name string) (Table, error) {
	t, ok := g.Tables[name]
	if !ok {
		return t, fmt.Errorf("table %q is not a table of the template", name)
	}
	return t, nil
}

func (g *Guard) one(action string, tg target, it item) ([]Access, error) {
	a, err := g.batch(action, tg.TableName, []item{it})
	return []Access{a}, err
}

func (g *Guard) batch(action, table string, items []item) (Access, error) {
	t, err := g.table(table)
	if err != nil {
		return Access{}, err
	}
	a := Access{Action: action, Resource: t.ARN}
	for _, it := range items {
		if k, ok := value(it[t.HashKey]); ok {
			a.Keys = append(a.Keys, k)
		}
	}
	return a, nil
}

func value(v attr) (string, bool) {
	switch {
	case v.S != nil:
		return *v.S, true
	case v.N != nil:
		return *v.N, true
	}
	return "", false
}

// equality matches "name = :value" (or the other way round) in a key condition.
var equality = regexp.MustCompile(`([#:]?[A-Za-z0-9_]+)\s*=\s*([#:]?[A-Za-z0-9_]+)`)

// queryKey returns the partition key value a Query's key condition names.
func queryKey(t target, hash string) (string, bool) {
	for _, m := range equality.FindAllStringSubmatch(t.KeyConditionExpression, -1) {
		name, val := m[1], m[2]
		if strings.HasPrefix(name, ":") {
			name, val = val, name
		}
		if n, ok := t.ExpressionAttributeNames[name]; ok {
			name = n
		}
		if name == hash && strings.HasPrefix(val, ":") {
			return value(t.ExpressionAttributeValues[val])
		}
	}
	return "", false
}

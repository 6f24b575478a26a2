package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOpenAPICheckRefusesUndocumentedAnswers: the check the suites' exchanges go through
// accepts documented answers and refuses an answer with a wrong member, a wrong status,
// a missing Retry-After on 429, and anything but API Gateway's 404 for an unknown route;
// a request the document refuses only counts.
func TestOpenAPICheckRefusesUndocumentedAnswers(t *testing.T) {
	if err := loadOpenAPI(); err != nil {
		t.Fatal(err)
	}
	const loginBody = `{"username":"alice","password":"correct-horse"}`
	login := func() *http.Request {
		r := httptest.NewRequest("POST", "http://127.0.0.1:3000/users/login", strings.NewReader(loginBody))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	answer := func(status int, body string, header ...string) *http.Response {
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	cases := []struct {
		what    string
		req     *http.Request
		reqBody []byte
		resp    *http.Response
		body    string
		ok      bool
	}{
		{"login ok", login(), []byte(loginBody), answer(200, ""), `{"success":"true","data":{"message":{"userhash":"` + strings.Repeat("a", 64) + `","ssid":"x"}}}`, true},
		{"login refused", login(), []byte(loginBody), answer(401, ""), `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`, true},
		{"login success as a boolean", login(), []byte(loginBody), answer(401, ""), `{"success":false,"data":{"message":"INVALID_PASSWORD"}}`, false},
		{"login with an unknown code", login(), []byte(loginBody), answer(401, ""), `{"success":"false","data":{"message":"NOPE"}}`, false},
		{"login with an extra member", login(), []byte(loginBody), answer(401, ""), `{"success":"false","data":{"message":"INVALID_PASSWORD"},"x":1}`, false},
		{"login with an undocumented status", login(), []byte(loginBody), answer(403, ""), `{"success":"false","data":{"message":"INVALID_PASSWORD"}}`, false},
		{"429 with Retry-After", login(), []byte(loginBody), answer(429, "", "Retry-After", "3"), `{"success":"false","data":{"message":"ERROR_TOO_MANY_ATTEMPTS"}}`, true},
		{"429 without Retry-After", login(), []byte(loginBody), answer(429, ""), `{"success":"false","data":{"message":"ERROR_TOO_MANY_ATTEMPTS"}}`, false},
		{"unknown route, API Gateway's 404", httptest.NewRequest("GET", "http://127.0.0.1:3000/nope", nil), nil, answer(404, ""), `{"message":"Not Found"}`, true},
		{"unknown method, API Gateway's 404", httptest.NewRequest("DELETE", "http://127.0.0.1:3000/users/login", nil), nil, answer(404, ""), `{"message":"Not Found"}`, true},
		{"unknown route, another answer", httptest.NewRequest("GET", "http://127.0.0.1:3000/nope", nil), nil, answer(200, ""), `{}`, false},
		{"refused request, documented answer", httptest.NewRequest("POST", "http://127.0.0.1:3000/users/login", strings.NewReader("[")), []byte("["), answer(422, ""), `{"success":"false","data":{"message":"INVALID_INPUT","details":"body: not a JSON object or form"}}`, true},
	}
	for _, c := range cases {
		before := apiCheck.requestsRefused.Load()
		problem := checkExchange(c.req, c.reqBody, c.resp, []byte(c.body))
		if (problem == "") != c.ok {
			t.Errorf("%s: problem %q, want ok=%v", c.what, problem, c.ok)
		}
		if c.what == "refused request, documented answer" && apiCheck.requestsRefused.Load() != before+1 {
			t.Errorf("%s: not counted as refused", c.what)
		}
	}
}

package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/tests/e2e"
)

// The Admin v2 family's real clients are the Nebula orchestrator's SDK
// (nebula-python-sdk, NebulaPythonSDK/sdk.py) and CLI (nebula-cmd, nebulactl.py). The tests
// below make exactly the requests they make, with the headers they send, and read the
// answers the way they do; each request names the sdk.py or nebulactl.py function it
// mirrors. Nothing of their code is used.

// nebula is a connection as sdk.py's Nebula.__init__ builds one: base URL
// protocol://host:port (nebulactl's login asks for host, port and protocol), and the
// headers every call sends: content-type application/json, cache-control no-cache, and
// "authorization: Bearer <token>" when a token is given, else
// "authorization: Basic base64(username:password)".
type nebula struct {
	t       *testing.T
	host    string
	headers []string
}

func nebulaWithPassword(t *testing.T, base, username, password string) *nebula {
	combo := base64.StdEncoding.EncodeToString([]byte(username + ":" + password))
	return &nebula{t: t, host: base, headers: []string{"cache-control", "no-cache", "authorization", "Basic " + combo}}
}

func nebulaWithToken(t *testing.T, base, token string) *nebula {
	return &nebula{t: t, host: base, headers: []string{"cache-control", "no-cache", "authorization", "Bearer " + token}}
}

// reply is the SDK's filtered_response: the status code and response.json().
type reply struct {
	status int
	body   map[string]any
	raw    string
}

// request is requests.request(method, url, data=payload, headers=headers): payload is
// json.dumps(config) or none.
func (n *nebula) request(method, path string, config map[string]string) reply {
	n.t.Helper()
	payload := ""
	if config != nil {
		payload = pythonJSON(config)
	}
	r := e2e.Do(n.t, n.host, method, path, "application/json", payload, n.headers...)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil { // response.json()
		n.t.Fatalf("%s %s: the SDK cannot parse %q", method, path, r.Body)
	}
	return reply{status: r.Status, body: body, raw: r.Body}
}

// pythonJSON renders a flat dict of strings as Python's json.dumps does by default
// (", " and ": " separators, keys in insertion order: password, then token).
func pythonJSON(config map[string]string) string {
	out := "{"
	for _, k := range []string{"password", "token"} {
		v, ok := config[k]
		if !ok {
			continue
		}
		if out != "{" {
			out += ", "
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		out += string(kb) + ": " + string(vb)
	}
	return out + "}"
}

// The SDK's calls (sdk.py), API_VERSION "v2".
func (n *nebula) checkAPI() reply  { return n.request(http.MethodGet, "/api/v2/status", nil) }
func (n *nebula) listUsers() reply { return n.request(http.MethodGet, "/api/v2/users", nil) }
func (n *nebula) listUser(user string) reply {
	return n.request(http.MethodGet, "/api/v2/users/"+user, nil)
}
func (n *nebula) deleteUser(user string) reply {
	return n.request(http.MethodDelete, "/api/v2/users/"+user, nil)
}
func (n *nebula) updateUser(user string, config map[string]string) reply {
	return n.request(http.MethodPut, "/api/v2/users/"+user+"/update", config)
}
func (n *nebula) refreshUserToken(user string) reply {
	return n.request(http.MethodPost, "/api/v2/users/"+user+"/refresh", nil)
}
func (n *nebula) createUser(user string, config map[string]string) reply {
	return n.request(http.MethodPost, "/api/v2/users/"+user, config)
}

func str(t *testing.T, what string, r reply, key string) string {
	t.Helper()
	v, ok := r.body[key].(string) // assertTrue(isinstance(reply["reply"][key], str))
	if !ok {
		t.Fatalf("%s: %q is not a string in %s", what, key, r.raw)
	}
	return v
}

// wantUser checks an answer about user as the SDK reads it: 200 with the user's name and
// its password and token (hashes) as strings.
func wantUser(t *testing.T, what string, r reply, user string) {
	t.Helper()
	wantStatus(t, what, r, 200)
	if str(t, what, r, "user_name") != user {
		t.Fatalf("%s: %s", what, r.raw)
	}
	str(t, what, r, "password")
	str(t, what, r, "token")
}

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (%s)", what, r.status, status, r.raw)
	}
}

// sdkUserWorkflow is the SDK test suite's test_list_users, test_check_api and
// test_user_workflow (test/test_nebula_python_sdk.py), with the suite's own values made
// unique to this run: the same requests, the same checks.
func sdkUserWorkflow(t *testing.T, conn *nebula) {
	// test_check_api: status 200 and reply["api_available"] is True.
	r := conn.checkAPI()
	wantStatus(t, "check_api", r, 200)
	if r.body["api_available"] != true {
		t.Fatalf("check_api: %s", r.raw)
	}
	// test_list_users: status 200 and reply["users"] is a list.
	r = conn.listUsers()
	wantStatus(t, "list_users", r, 200)
	if _, ok := r.body["users"].([]any); !ok {
		t.Fatalf("list_users: %s", r.raw)
	}

	user := e2e.Unique("unit_test_user")
	pw, token := e2e.Unique("unit_test_password"), e2e.Unique("unit_test_token")
	pw2, token2 := pw+"_updated", token+"_updated"
	e2e.Secret(pw, token, pw2, token2)
	// "make sure no user exists prior to the run": delete_user, answer ignored (but JSON).
	conn.deleteUser(user)

	// create_user with {"password": ..., "token": ...}.
	r = conn.createUser(user, map[string]string{"password": pw, "token": token})
	wantStatus(t, "create_user", r, 200)
	str(t, "create_user", r, "password")
	str(t, "create_user", r, "token")
	// list_user: the user's name, its password and token (hashes) as strings.
	wantUser(t, "list_user", conn.listUser(user), user)
	// update_user (PUT) twice: new values, then the first ones again; the answers differ.
	first := conn.updateUser(user, map[string]string{"password": pw2, "token": token2})
	wantUser(t, "update_user", first, user)
	second := conn.updateUser(user, map[string]string{"password": pw, "token": token})
	wantStatus(t, "update_user again", second, 200)
	if first.body["password"] == second.body["password"] || first.body["token"] == second.body["token"] {
		t.Fatalf("the two updates answered the same hashes: %s / %s", first.raw, second.raw)
	}
	// refresh_user_token: a new token, as a string.
	r = conn.refreshUserToken(user)
	wantStatus(t, "refresh_user_token", r, 200)
	e2e.Secret(str(t, "refresh_user_token", r, "token"))
	// delete_user: 200 and reply == {}.
	r = conn.deleteUser(user)
	wantStatus(t, "delete_user", r, 200)
	if len(r.body) != 0 {
		t.Fatalf("delete_user: %s", r.raw)
	}
}

// nebulactlPing is nebulactl.py's `ping` (NebulaCall.check_api): it reports "nebula
// responding as expected" only for status 200 with a reply equal to {'api_available':
// True}, nothing more in it.
func nebulactlPing(conn *nebula) bool {
	r := conn.checkAPI()
	return r.status == 200 && len(r.body) == 1 && r.body["api_available"] == true
}

// pingAndWork is what an operator does after nebulactl login: ping (failing the test
// unless the API answers as nebulactl expects; with names the credential), then the SDK's
// user workflow.
func pingAndWork(t *testing.T, conn *nebula, with string) {
	t.Helper()
	if !nebulactlPing(conn) {
		t.Fatalf("nebulactl ping%s: nebula api not responding", with)
	}
	sdkUserWorkflow(t, conn)
}

// TestNebulaSDKWithPassword: the SDK and nebulactl logged in with a username and password
// (`nebulactl login -u NAME -p PASSWORD -t "" -h 127.0.0.1 -c PORT -P http`).
func TestNebulaSDKWithPassword(t *testing.T) {
	t.Parallel()
	name, pw, _ := newAdmin(t, e2e.Stack.TableName)
	pingAndWork(t, nebulaWithPassword(t, e2e.Stack.URL, name, pw), "")
}

// TestNebulaSDKWithToken: the same with a token (`nebulactl login -u "" -p "" -t TOKEN`):
// every call sends "authorization: Bearer <token>". The admin's token is one it got the
// way an operator would, from the refresh route (nebulactl users refresh), and then one it
// chose (nebulactl users update).
func TestNebulaSDKWithToken(t *testing.T) {
	t.Parallel()
	name, pw, _ := newAdmin(t, e2e.Stack.TableName)
	basicConn := nebulaWithPassword(t, e2e.Stack.URL, name, pw)
	r := basicConn.refreshUserToken(name)
	wantStatus(t, "refresh own token", r, 200)
	generated := str(t, "refresh own token", r, "token")
	e2e.Secret(generated)

	conn := nebulaWithToken(t, e2e.Stack.URL, generated)
	pingAndWork(t, conn, " with a generated token")

	chosen := e2e.NewSecret("nebulactl-chosen-token-")
	// nebulactl users update sends both members (it prompts for both).
	wantStatus(t, "choose own token", conn.updateUser(name, map[string]string{"password": pw, "token": chosen}), 200)
	if nebulactlPing(conn) {
		t.Fatal("the replaced token still works")
	}
	pingAndWork(t, nebulaWithToken(t, e2e.Stack.URL, chosen), " with a chosen token")
}

// TestNebulaManagerPatch: the manager takes PATCH on /update as well as PUT, with the same
// meaning (nebula-orchestrator/manager's update_user); so does Gatehouse, with either
// credential.
func TestNebulaManagerPatch(t *testing.T) {
	t.Parallel()
	name, pw, auth := newAdmin(t, e2e.Stack.TableName)
	user := createUser(t, auth, "patched_user")
	token := e2e.NewSecret("patched-token-")
	r := call(t, e2e.Stack.URL, http.MethodPatch, userPath(user)+"/update", fmt.Sprintf(`{"token": %q}`, token), auth)
	e2e.Expect(t, "PATCH token", r, 200, userObject(stored(t, user)))
	if stored(t, user).TokenHash == "" {
		t.Fatal("PATCH set no token")
	}
	own := nebulaWithPassword(t, e2e.Stack.URL, name, pw).refreshUserToken(name)
	generated := str(t, "refresh", own, "token")
	e2e.Secret(generated)
	r = call(t, e2e.Stack.URL, http.MethodPatch, userPath(user)+"/update", `{"password": "patched-password"}`, "Bearer "+generated)
	e2e.Expect(t, "PATCH password with Bearer", r, 200, userObject(stored(t, user)))
	e2e.Login(t, user, "patched-password")
	e2e.Expect(t, "PATCH bad body", call(t, e2e.Stack.URL, http.MethodPatch, userPath(user)+"/update", `{}`, auth), 400, badBody("password or token required"))
	e2e.Expect(t, "PATCH unknown", call(t, e2e.Stack.URL, http.MethodPatch, userPath(e2e.Unique("nobody"))+"/update", `{"password":"valid-password"}`, auth), 403, notExists)
}

package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMakeRun runs the command as `make run` does (free ports, data in memory), with the
// admin password and a template variable from the environment, uses the API, then stops
// it with SIGTERM and checks that it exits 0 leaving no process behind.
func TestMakeRun(t *testing.T) {
	c := startCommand(t, []string{"LOCAL_ADMIN_PASSWORD=local-admin-pw", "ALLOW_REGISTRATION=false"},
		"-port", "0", "-dynamodb-port", "0", "-ses-port", "0", "-in-memory", "-quiet")
	base := ""
	if m := regexp.MustCompile(`API\s+(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(c.banner); m != nil {
		base = m[1]
	}
	if base == "" {
		t.Fatal("no API URL in the banner")
	}
	children := descendants(c.cmd.Process.Pid)
	if len(children) < 2 {
		t.Fatalf("expected the emulators as children, found %v", children)
	}

	post := func(path, body string) (int, string) {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/users/login", `{"username":"admin","password":"local-admin-pw"}`); code != 200 || !strings.Contains(body, `"success":"true"`) || !strings.Contains(body, `"ssid":"`) {
		t.Fatalf("admin login: %d %s", code, body)
	}
	if code, body := post("/users/register", `{"username":"someone","password":"some-password"}`); code != 401 || !strings.Contains(body, "CANT_CREATE_USER") {
		t.Fatalf("ALLOW_REGISTRATION=false from the environment: %d %s", code, body)
	}
	if code, body := post("/no/such/route", `{}`); code != 404 || body != `{"message":"Not Found"}` {
		t.Fatalf("unknown route: %d %s", code, body)
	}
	children = descendants(c.cmd.Process.Pid) // now with function instances

	c.stop(t)
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("process %d outlived the shutdown", pid)
		}
	}
}

// descendants lists the live processes below pid (from /proc).
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name may contain spaces; fields after it start past the last ')'.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 1 {
			pp, _ := strconv.Atoi(fields[1])
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// A zombie has exited; only its parent has not collected it yet.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

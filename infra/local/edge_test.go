package local

import (
	"bufio"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
)

// rawRequest sends a request as written, so that no client cleans its
// path or merges its headers, and reads the answer.
func rawRequest(t *testing.T, s *Stack, method, target string, headers ...string) (*http.Response, map[string]any) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := method + " " + target + " HTTP/1.1\r\nHost: " + strings.TrimPrefix(s.URL, "http://") + "\r\nConnection: close\r\n"
	for _, h := range headers {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &body)
	return resp, body
}

// TestGatewayRefusesDecodedPaths: the local gateway applies the edge's
// checks before its router: a dot-dot (plain or percent-encoded), a
// double slash, a backslash, an encoded NUL, or an encoded newline
// followed by a JSON object, on the public console route, the guarded
// admin routes, the sessions routes and the example app, is answered 400
// problem+json naming "path" (no redirect to a cleaned path, no 5xx), and
// nothing is printed outside the stack's JSON log, where the forged line
// is only an escaped value.
func TestGatewayRefusesDecodedPaths(t *testing.T) {
	logs := &syncBuffer{}
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: logs, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	forged := `%0A%7B%22level%22%3A%22INFO%22%2C%22msg%22%3A%22decision%22%2C%22decision%22%3A%22allow%22%2C%22forged%22%3Atrue%7D%0A`
	targets := []string{
		"/console/../environments", "/console/%2e%2e/environments", "/environments/demo/%2E%2E/other/settings",
		"/sessions/%2e%2e/environments", "/example/%2e%2e/console/", "//sessions/current", "/console/%5C..%5Cx",
		"/console/%00", "/console/" + forged, "/sessions/current" + forged,
	}
	printed := captureOutput(t, func() {
		for _, target := range targets {
			resp, body := rawRequest(t, s, "GET", target)
			errs, _ := body["errors"].([]any)
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" || len(errs) != 1 || errs[0].(map[string]any)["field"] != "path" {
				t.Errorf("GET %s: %d %s (Location %q) %v; want 400 problem+json naming path", target, resp.StatusCode,
					resp.Header.Get("Content-Type"), resp.Header.Get("Location"), body)
			}
		}
	})
	for _, line := range strings.Split(printed, "\n") {
		if json.Valid([]byte(strings.TrimSpace(line))) {
			t.Errorf("a JSON line printed outside the stack's log: %s", line)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %q is not JSON", line)
		} else if _, ok := m["forged"]; ok {
			t.Errorf("a forged log line: %s", line)
		}
	}
}

// TestGatewayIdentityHeadersInAnotherLetterCase: the local gateway folds
// two spellings of a header into one name and joins the values with a
// comma, as HTTP APIs do; the sessions function refuses the joined
// identity header instead of reading its first value.
func TestGatewayIdentityHeadersInAnotherLetterCase(t *testing.T) {
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncBuffer{}, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, sid := signIn(t, s, "alice")
	auth, session := "Authorization: Bearer "+tok, "X-Session-Id: "+sid
	for _, c := range []struct {
		name    string
		headers []string
		status  int
		reason  string
	}{
		{"each once", []string{auth, session}, 200, ""},
		{"Authorization and authorization", []string{auth, "authorization: Bearer " + tok, session}, 401, "token_malformed"},
		{"X-Session-Id and x-session-id", []string{auth, session, "x-session-id: " + sid}, 401, "session_unknown"},
		{"the session cookie twice", []string{auth, "Cookie: __Host-sg_session=" + sid, "cookie: __Host-sg_session=" + sid}, 401, "session_unknown"},
	} {
		resp, body := rawRequest(t, s, "GET", "/sessions/current", c.headers...)
		if resp.StatusCode != c.status || c.reason != "" && body["reason"] != c.reason {
			t.Errorf("%s: %d %v; want %d %s", c.name, resp.StatusCode, body, c.status, c.reason)
		}
	}
}

// captureOutput runs f with the process's stdout, stderr and the standard
// logger writing into a pipe, and returns what they printed.
func captureOutput(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, logOut := os.Stdout, os.Stderr, log.Writer()
	os.Stdout, os.Stderr = w, w
	log.SetOutput(w)
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	defer func() {
		os.Stdout, os.Stderr = stdout, stderr
		log.SetOutput(logOut)
		w.Close()
	}()
	f()
	w.Close()
	return string(<-done)
}

package local

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/devidp"
)

// Two apps, each with its own environment, sign in through one
// deployment's sessions API: app A in the default environment (demo, its
// API's $default stage), app B in staging (its API's stage staging), by
// naming it (?environment=staging) or through its own stage
// (/staging/sessions). Each app's routes take its own sessions and refuse
// the other's (binding_environment).
func TestTwoAppsTwoEnvironmentsOneDeployment(t *testing.T) {
	s, _ := startStack(t)
	tok, err := s.IdP.Mint(devidp.Token{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(path string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b struct{ SessionID, Environment string }
		data, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(data, &b); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s = %d %s", path, resp.StatusCode, data)
		}
		return b.SessionID, b.Environment
	}
	call := func(path, sid string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Session-Id", sid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Sessionguard-Reason")
	}
	a, envA := signIn("/sessions")
	b, envB := signIn("/sessions?environment=staging")
	b2, envB2 := signIn("/staging/sessions")
	if envA != "demo" || envB != "staging" || envB2 != "staging" {
		t.Fatalf("environments of the sign-ins = %s, %s, %s; want demo, staging, staging", envA, envB, envB2)
	}
	for _, tt := range []struct {
		name, path, sid string
		status          int
		reason          string
	}{
		{"A's session on A's API", "/example/hello", a, 200, ""},
		{"B's session on B's API", "/staging/example/hello", b, 200, ""},
		{"B's session (signed in on B's stage) on B's API", "/staging/example/hello", b2, 200, ""},
		{"B's session on A's API", "/example/hello", b, 403, "binding_environment"},
		{"A's session on B's API", "/staging/example/hello", a, 403, "binding_environment"},
		// The app's routes never take the environment from the request.
		{"B's session on A's API, naming staging", "/example/hello?environment=staging", b, 403, "binding_environment"},
	} {
		if status, why := call(tt.path, tt.sid); status != tt.status || why != tt.reason {
			t.Errorf("%s: %d %s; want %d %s", tt.name, status, why, tt.status, tt.reason)
		}
	}
}

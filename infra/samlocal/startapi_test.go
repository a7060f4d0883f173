//go:build linux

package samlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
)

// `sam local start-api` on the template, through its own authorizer:
// sign in, an allowed request, sign out, and the same request refused
// (with, before the sign-out, the two refusals both places answer alike).
// API Gateway answers that refusal (the authorizer's Unauthorized error)
// with 401; the SAM CLI answers any authorizer error with 502, so the
// test holds the 502 and the authorizer's reason in its log
// (docs/deploying.md).
func TestStartAPIFlow(t *testing.T) {
	needEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, "samlocal-start-api")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env := envFile(t, sb)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := sam(ctx, append([]string{"local", "start-api", "--env-vars", env, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, localFlags()...)...)
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	child, err := kids.start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		child.end()
		if t.Failed() {
			t.Logf("sam local start-api:\n%s", log.String())
		}
	}()
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("sam local start-api did not listen within a minute:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("sam local start-api listening after %v", time.Since(start).Round(time.Millisecond))

	tok, err := sb.IdP.Mint(devidp.Token{User: "alice", Claims: map[string]any{"roles": []string{"sessionguard-admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := sb.IdP.Mint(devidp.Token{User: "mallory", Claims: map[string]any{"roles": []string{"sessionguard-admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(step, method, path, session string, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if step == "another user's token" {
			req.Header.Set("Authorization", "Bearer "+mallory)
		}
		if session != "" {
			req.Header.Set("X-Session-Id", session)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%s: %s %s = %d (%v)", step, method, path, resp.StatusCode, time.Since(start).Round(time.Millisecond))
		return resp.StatusCode, b
	}

	status, body := call("sign in", "POST", "/sessions", "", `{"staySignedIn":false}`)
	var signIn struct {
		SessionID string `json:"sessionId"`
	}
	if json.Unmarshal(body, &signIn); status != http.StatusCreated || signIn.SessionID == "" {
		t.Fatalf("sign in = %d %s; want 201 with a sessionId", status, body)
	}
	if status, body = call("allowed", "GET", "/environments", signIn.SessionID, ""); status != http.StatusOK || !strings.Contains(string(body), lambdarun.Environment) {
		t.Fatalf("GET /environments after sign-in = %d %s; want 200 listing %s", status, body, lambdarun.Environment)
	}
	// Refusals the SAM CLI answers as API Gateway does: an identity source
	// missing (401, without calling the authorizer), and the authorizer's
	// deny (403: binding_user).
	if status, body = call("no session", "GET", "/environments", "", ""); status != http.StatusUnauthorized {
		t.Fatalf("GET /environments without X-Session-Id = %d %s; want 401", status, body)
	}
	if status, body = call("another user's token", "GET", "/environments", signIn.SessionID, ""); status != http.StatusForbidden {
		t.Fatalf("GET /environments with mallory's token on alice's session = %d %s; want 403", status, body)
	}
	if status, body = call("sign out", "DELETE", "/sessions/current", signIn.SessionID, ""); status != http.StatusNoContent {
		t.Fatalf("sign out = %d %s; want 204", status, body)
	}
	before := len(log.String())
	if status, body = call("refused", "GET", "/environments", signIn.SessionID, ""); status != http.StatusBadGateway {
		t.Fatalf("GET /environments after sign-out = %d %s; want the SAM CLI's 502 for the authorizer's Unauthorized (API Gateway: 401)", status, body)
	}
	t.Logf("refused: the SAM CLI's body %s", bytes.TrimSpace(body))
	if after := log.String()[before:]; !strings.Contains(after, `"reason":"session_revoked"`) || !regexp.MustCompile(`errorMessage\W+Unauthorized`).MatchString(after) {
		t.Fatalf("the refusal's log has no session_revoked decision and Unauthorized error:\n%s", after)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package local

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/oidcprovider"
)

// NodeTests is what the client library's tests need beyond Go: Node's
// test runner (node --test, Node 20 or later) and npm.
const NodeTests needs.Part = "Node.js 20 or later with npm (node --test, npm pack)"

// clientDir is the browser client library (clients/browser).
func clientDir() string { return filepath.Join(oidcprovider.Root(), "clients", "browser") }

// clockControl serves POST ?ms=N, which moves clock forward by N
// milliseconds: the Node tests move the stack's clock with it instead of
// waiting.
func clockControl(t *testing.T, clock *devidp.Clock) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if r.Method != http.MethodPost || err != nil || ms < 0 {
			http.Error(w, "POST ?ms=N (N >= 0)", http.StatusBadRequest)
			return
		}
		clock.Add(time.Duration(ms) * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// nodeEnv is the environment the Node tests get: the stack's URL and the
// URL that moves its clock.
func nodeEnv(s *Stack, clockURL string) []string {
	return append(withoutVenv(), "SESSIONGUARD_URL="+s.URL, "SESSIONGUARD_CLOCK_URL="+clockURL)
}

// TestClientLibrary runs the browser client library's tests
// (clients/browser/test, Node's test runner) against a local stack with a
// clock the tests move: sign-in, the wrapped fetch by header and by
// cookie, the environment parameter, token refresh, each refusal's
// callback, the expiry warnings, keep working, sign-out and where the
// session id is kept. Node's runner fails the run on any failed test.
func TestClientLibrary(t *testing.T) {
	needs.Parts(t, NodeTests)
	clock := devidp.NewClock(time.Now())
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncWriter{}, Now: clock.Now, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	files, err := filepath.Glob(filepath.Join(clientDir(), "test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in clients/browser/test (%v)", err)
	}
	cmd := exec.CommandContext(ctx, "node", append([]string{"--test", "--test-concurrency=1", "--test-timeout=60000", "--test-reporter=spec"}, files...)...)
	cmd.Dir = clientDir()
	cmd.Env = nodeEnv(s, clockControl(t, clock))
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("node --test clients/browser/test: %v", err)
	}
	if !bytes.Contains(out, []byte("ℹ fail 0\n")) || bytes.Contains(out, []byte("ℹ pass 0\n")) {
		t.Fatalf("node --test ran no test, or reported a failure")
	}
}

// TestClientPackageFiles packs the client library as npm would publish it
// (npm pack --dry-run) and holds the package to its library files: the
// module, its types, the README and package.json, and no tests.
func TestClientPackageFiles(t *testing.T) {
	needs.Parts(t, NodeTests)
	cmd := exec.Command("npm", "pack", "--dry-run", "--json", "--ignore-scripts")
	cmd.Dir = clientDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm pack --dry-run: %v\n%s", err, stderr.String())
	}
	var packs []struct {
		Name, Version string
		Files         []struct{ Path string }
	}
	if err := json.Unmarshal(out, &packs); err != nil || len(packs) != 1 {
		t.Fatalf("npm pack --json = %s (%v); want one package", out, err)
	}
	var files []string
	for _, f := range packs[0].Files {
		files = append(files, f.Path)
	}
	slices.Sort(files)
	want := []string{"README.md", "package.json", "sessionguard.d.ts", "sessionguard.js"}
	if !slices.Equal(files, want) {
		t.Errorf("npm pack lists %v; want exactly %v", files, want)
	}
	if packs[0].Name != "@sessionguard/browser" || packs[0].Version != "0.5.0" {
		t.Errorf("package %s@%s; want @sessionguard/browser@0.5.0", packs[0].Name, packs[0].Version)
	}
}

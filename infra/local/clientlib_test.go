package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
// The library's types hold an app written in TypeScript: a file using the
// whole API type-checks under strict settings, and each line marked as an
// expected error is one (so a declaration too loose to catch a misuse
// fails too). tsc is the repository's pinned TypeScript (package.json).
func TestClientTypes(t *testing.T) {
	needs.Parts(t, NodeTests)
	root := oidcprovider.Root()
	cmd := exec.Command(filepath.Join(root, "node_modules", ".bin", "tsc"), "-p", filepath.Join(clientDir(), "test", "types"))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc on clients/browser/test/types: %v\n%s", err, out)
	}
}

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
	want := []string{"README.md", "dpop.d.ts", "dpop.js", "package.json", "sessionguard.d.ts", "sessionguard.js"}
	if !slices.Equal(files, want) {
		t.Errorf("npm pack lists %v; want exactly %v", files, want)
	}
	if packs[0].Name != "@sessionguard/browser" || packs[0].Version != "0.5.0" {
		t.Errorf("package %s@%s; want @sessionguard/browser@0.5.0", packs[0].Name, packs[0].Version)
	}
}

// guideCheck is what TestIntegrationGuide does around one snippet of the
// guide (before it, JavaScript run first; after it, JavaScript run last,
// both with the harness as __h) and what the run must print, in order:
// the requests the snippet made and the stand-ins' calls.
type guideCheck struct {
	before, after string
	want          []string
}

// guideChecks has one entry per snippet, by the heading it is under.
var guideChecks = map[string]guideCheck{
	"From any token callback":       {want: []string{"request POST /sessions 201"}},
	"With MSAL (Entra ID)":          {want: []string{"call msal.acquireTokenSilent scopes=api://your-api/.default", "request POST /sessions 201"}},
	"With oidc-client-ts":           {want: []string{"call userManager.getUser", "request POST /sessions 201"}},
	"With Amplify (Amazon Cognito)": {want: []string{"call fetchAuthSession", "request POST /sessions 201"}},
	"Call your API":                 {want: []string{"request GET /example/hello 200", "call showMessage hello, "}},
	// The callback, given a session an admin then revokes: the API's bare
	// 401, the reason from the sessions API, and a sign-in asking for
	// credentials.
	"When sessionguard says no": {after: `
const s = new __h.SessionClient({ sessionsUrl, getAccessToken, onRefusal: handleRefusal, pollSeconds: 0 });
await s.signIn();
await __h.revoke();
await s.fetch(apiUrl + '/hello');`,
		want: []string{"request POST /sessions 201", "request GET /example/hello 401", "request GET /sessions/current 401", "call msal.loginRedirect prompt=login"}},
	// The warning, with a 6-minute idle timeout and the clock moved to 3
	// minutes before the idle end; then keep working clears it.
	"The expiry warning": {before: `await __h.policy({ inactivityTimeout: { enabled: true, minutes: 6 } });`,
		after: `
await __h.clock(3 * 60 * 1000 + 1000);
await session.check();
await session.keepWorking();
await __h.policy({});`,
		want: []string{"request GET /sessions/current 200", "call showWarning Your session ends after inactivity in 3 minutes. Keep working?",
			"request POST /sessions/current/activity 200", "call hideWarning"}},
	"Keep working and sign out": {after: `await keepWorking();
await signOut();`,
		want: []string{"request POST /sessions/current/activity 200", "request DELETE /sessions/current 204", "call msal.logoutRedirect"}},
	// The user has signed in on two other devices: the page lists the
	// three, ends one, then signs out everywhere else, which ends the
	// third.
	"The user's own sessions": {after: `
const elsewhere = new __h.SessionClient({ sessionsUrl, getAccessToken, transport: 'header', pollSeconds: 0 });
await elsewhere.signIn();
const phone = new __h.SessionClient({ sessionsUrl, getAccessToken, transport: 'header', pollSeconds: 0 });
await phone.signIn();
await showYourSessions();
await endSession(elsewhere.info.id);
await signOutEverywhereElse();
await showYourSessions();`,
		want: []string{"request POST /sessions 201", "request POST /sessions 201",
			"request GET /sessions 200", "call showMessage Unknown device, last active", "(this device)", "call showMessage Unknown device", "call showMessage Unknown device",
			"request DELETE /sessions/", " 204", "request GET /sessions 200", "(this device)", "call showMessage Unknown device",
			"request DELETE /sessions 200", "call showMessage Signed out of 1 other session.",
			"request GET /sessions 200", "(this device)", "done"}},
	// The page reloaded: a new client takes up the tab's session.
	"Where to keep the session id, and why": {after: `
const reloaded = new __h.SessionClient({ sessionsUrl, getAccessToken, transport: 'header', storage: 'sessionStorage', pollSeconds: 0 });
__h.log('resumed', (await reloaded.resume())?.userId);`,
		want: []string{"request POST /sessions 201", "request GET /sessions/current 200", "resumed guide"}},
	"Mobile apps and server-side clients": {want: []string{"request POST /sessions 201", "request GET /example/hello 200"}},
	// App B signs in to staging through the same sessions API, and its
	// API (the staging stage) takes the session.
	"Several environments from one deployment": {after: `__h.log('environment', session.info.environment);`,
		want: []string{"request POST /sessions 201", "request GET /staging/example/hello 200", "environment staging"}},
}

// guideNames are what the harness gives a snippet that does not declare
// them itself: the app's own values and functions, and stand-ins.
var guideNames = []string{"sessionsUrl", "apiUrl", "stagingApiUrl", "userChoseToStay", "getAccessToken", "handleRefusal", "showMessage",
	"showWarning", "hideWarning", "msalInstance", "userManager"}

// declares says whether a snippet declares name (or imports it).
func declares(snippet, name string) bool {
	n := regexp.QuoteMeta(name)
	return regexp.MustCompile(`\b(const|let|var|function|class)\s+` + n + `\b|\b(const|let|var)\s*\{[^}]*\b` + n + `\b[^}]*\}\s*=|import\s*\{[^}]*\b` + n + `\b`).MatchString(snippet)
}

// guideSnippets are the guide's js blocks, each under its heading.
func guideSnippets(t *testing.T, doc string) (headings []string, snippets []string) {
	t.Helper()
	heading := ""
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "#!") {
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		if strings.HasPrefix(line, "```") {
			lang := strings.TrimPrefix(line, "```")
			var body []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				body = append(body, lines[i])
			}
			if lang == "js" || lang == "javascript" {
				headings = append(headings, heading)
				snippets = append(snippets, strings.Join(body, "\n"))
			}
		}
	}
	return headings, snippets
}

// Every JavaScript snippet of docs/integrating-your-app.md runs, as
// written, under Node against a local stack: '@sessionguard/browser' is
// the library (clients/browser, installed as npm would: its package.json
// exports), and '@azure/msal-browser', 'oidc-client-ts' and
// 'aws-amplify/auth' are stand-ins that hand out development tokens
// (clients/browser/test/guide-harness.js). Each run must exit 0 and print,
// in order, the requests and calls its check names; no snippet may go
// unchecked, no check may lack its snippet, and a snippet's refusal that
// its check does not expect fails it.
func TestIntegrationGuide(t *testing.T) {
	needs.Parts(t, NodeTests)
	doc, err := os.ReadFile(filepath.Join(oidcprovider.Root(), "docs", "integrating-your-app.md"))
	if err != nil {
		t.Fatal(err)
	}
	headings, snippets := guideSnippets(t, string(doc))
	if len(snippets) == 0 {
		t.Fatal("the guide has no js snippets")
	}
	seen := map[string]bool{}
	for _, h := range headings {
		if seen[h] {
			t.Fatalf("two snippets under %q: give each its own heading", h)
		}
		seen[h] = true
		if _, ok := guideChecks[h]; !ok {
			t.Errorf("the snippet under %q has no check in guideChecks", h)
		}
	}
	for h := range guideChecks {
		if !seen[h] {
			t.Errorf("guideChecks names %q, which has no snippet in the guide", h)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// A project folder as an app's: the library installed, the IdP
	// libraries' stand-ins beside it.
	dir := t.TempDir()
	harness := "file://" + filepath.Join(clientDir(), "test", "guide-harness.js")
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "@sessionguard"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(clientDir(), filepath.Join(dir, "node_modules", "@sessionguard", "browser")); err != nil {
		t.Fatal(err)
	}
	for _, stand := range []struct{ pkg, sub, names string }{
		{"@azure/msal-browser", "index.js", "PublicClientApplication"},
		{"oidc-client-ts", "index.js", "UserManager"},
		{"aws-amplify", "auth.js", "fetchAuthSession"},
	} {
		exports := `"./index.js"`
		if stand.sub != "index.js" {
			exports = `{"./auth": "./auth.js"}`
		}
		write(filepath.Join("node_modules", stand.pkg, "package.json"), `{"name": "`+stand.pkg+`", "type": "module", "exports": `+exports+`}`)
		write(filepath.Join("node_modules", stand.pkg, stand.sub), "export { "+stand.names+" } from '"+harness+"';\n")
	}

	clock := devidp.NewClock(time.Now())
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncWriter{}, Now: clock.Now, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	env := nodeEnv(s, clockControl(t, clock))
	for i, snippet := range snippets {
		h := headings[i]
		check := guideChecks[h]
		t.Run(h, func(t *testing.T) {
			var prelude []string
			for _, name := range guideNames {
				if !declares(snippet, name) {
					prelude = append(prelude, name)
				}
			}
			var given []string
			for _, name := range []string{"session", "accessToken"} {
				if !declares(snippet, name) {
					given = append(given, name)
				}
			}
			module := "import * as __h from '" + harness + "';\n" +
				"const { " + strings.Join(prelude, ", ") + " } = __h;\n" +
				check.before + "\n" +
				"const { " + strings.Join(given, ", ") + " } = await __h.world();\n" +
				"// --- the guide's snippet ---\n" + snippet + "\n// ---\n" +
				check.after + "\n__h.done();\n"
			name := fmt.Sprintf("snippet%d.mjs", i+1)
			write(name, module)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", name)
			cmd.Dir = dir
			cmd.Env = append(env, "GUIDE_USER=guide"+strconv.Itoa(i+1))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node %s: %v\n%s\n--- the module:\n%s", name, err, out, module)
			}
			got := string(out)
			rest := got
			for _, w := range check.want {
				j := strings.Index(rest, w)
				if j < 0 {
					t.Fatalf("the run printed\n%s\nwant, in order, %q: missing %q", got, check.want, w)
				}
				rest = rest[j+len(w):]
			}
			if !strings.HasSuffix(strings.TrimSpace(got), "done") {
				t.Errorf("the run did not end with done:\n%s", got)
			}
			if strings.Contains(got, "call handleRefusal") {
				t.Errorf("a refusal the check does not expect:\n%s", got)
			}
		})
	}
}

package wiring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/examples/app"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/edge"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/token"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// fixture is every HTTP function, built as its main builds it, on a
// memory store, with a development issuer and one JSON log.
type fixture struct {
	idp  *devidp.Issuer
	logs *bytes.Buffer
	fns  map[string]lambda.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ck := devidp.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}, Now: ck.Now, Roles: true})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(ck.Now)
	logs := &bytes.Buffer{}
	d := wiring.Deps{Log: obs.NewLogger(logs), Now: ck.Now, Config: config.Config{
		Environments: environment.Config{Source: "stage", Name: "environment", Known: []string{"demo"}},
		AdminRole:    "sessionguard-admin",
	}}
	return &fixture{idp: idp, logs: logs, fns: map[string]lambda.Handler{
		"sessions": lambda.NewHandler(wiring.Proxy(d, wiring.Sessions(d, v, store))),
		"settings": lambda.NewHandler(wiring.Proxy(d, wiring.Admin(d, v, store, nil))),
		"signals":  lambda.NewHandler(wiring.Proxy(d, wiring.Signals(d, v, store))),
		// The example app as the local stack runs it, and as its own
		// function serves a REST API (APP_API_KIND=rest).
		"example":      lambda.NewHandler(wiring.Proxy(d, app.Handler())),
		"example-rest": lambda.NewHandler(edge.NewREST(app.Handler(), wiring.Edge(d))),
	}}
}

// response is what API Gateway reads of a proxy answer, either kind.
type response struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
}

func (f *fixture) invoke(t *testing.T, fn string, payload []byte) response {
	t.Helper()
	out, err := f.fns[fn].Invoke(context.Background(), payload)
	return decode(t, fn, out, err)
}

func decode(t *testing.T, fn string, out []byte, err error) response {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: the function failed (API Gateway answers 5xx): %v", fn, err)
	}
	var r response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%s: answer %s: %v", fn, out, err)
	}
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	for k, vs := range r.MultiValueHeaders { // as API Gateway merges them
		r.Headers[k] = strings.Join(vs, ",")
	}
	return r
}

// problem reads a problem+json answer: its reason and the fields it names.
func (r response) problem(t *testing.T) (reason string, fields []string) {
	t.Helper()
	if ct := r.Headers["Content-Type"]; ct != "application/problem+json" {
		t.Fatalf("status %d, Content-Type %q, body %s; want application/problem+json", r.StatusCode, ct, r.Body)
	}
	var p struct {
		Reason string
		Errors []struct{ Field string }
	}
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		t.Fatalf("problem %s: %v", r.Body, err)
	}
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	return p.Reason, fields
}

// edit decodes an event, applies change, and encodes it again.
func edit(t *testing.T, raw []byte, change func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	change(ev)
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func load(t *testing.T, name string, values map[string]string) []byte {
	t.Helper()
	raw, err := events.Load(name, values)
	if err != nil {
		t.Fatal(err)
	}
	return raw
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
	}()
	f()
	w.Close()
	return string(<-done)
}

// forged is the log line an attacker's decoded path tries to plant.
const forged = `{"level":"INFO","msg":"decision","decision":"allow","reason":"ok","userId":"admin","forged":true}`

// TestDecodedPathsAtEveryProxiedFunction: HTTP APIs can hand a function a
// percent-decoded rawPath. A path with "..", ".", "//", a backslash, a
// NUL, or a newline followed by a JSON object, reaching any HTTP function
// in an HTTP API or REST event, is answered 400 problem+json naming
// "path": no redirect to a path Go's ServeMux cleaned, no failed
// invocation (a 5xx), and nothing printed outside the function's own JSON
// log, in which the forged line appears only as an escaped value.
func TestDecodedPathsAtEveryProxiedFunction(t *testing.T) {
	f := newFixture(t)
	v2 := map[string]string{
		"sessions": "sessions/current.json",
		"settings": "settings/get-settings.json",
		"signals":  "signals/push.json",
		"example":  "settings/get-settings.json", // an HTTP API event with an authorizer context
	}
	rest, err := os.ReadFile("../edge/testdata/rest-proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	attacks := []struct{ name, path string }{
		{"dot-dot to another environment", "/environments/demo/../prod/settings"},
		{"dot-dot under the console", "/console/../environments"},
		{"dot segment", "/sessions/./current"},
		{"encoded dot-dot", "/console/%2e%2e/environments"},
		{"double slash", "//environments/prod/settings"},
		{"backslash", `/console/..\environments`},
		{"NUL", "/console/\x00"},
		{"encoded NUL", "/console/%00"},
		{"newline and a JSON line", "/console/\n" + forged + "\n"},
		{"encoded newline and a JSON line", "/console/%0A" + strings.ReplaceAll(forged, `"`, "%22")},
		{"invalid UTF-8, encoded", "/console/%ff"},
		{"decoded question mark", "/environments/demo/settings?x=1"},
	}
	check := func(t *testing.T, fn string, payload []byte) {
		t.Helper()
		f.logs.Reset()
		var out []byte
		var err error
		printed := captureOutput(t, func() { out, err = f.fns[fn].Invoke(context.Background(), payload) })
		if printed != "" {
			t.Errorf("printed outside the JSON log:\n%s", printed)
		}
		resp := decode(t, fn, out, err)
		if resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Fatalf("status %d (Location %q, body %s); want 400 or 404", resp.StatusCode, resp.Headers["Location"], resp.Body)
		}
		if _, fields := resp.problem(t); len(fields) == 0 || fields[0] != "path" {
			t.Errorf("problem fields %v; want path", fields)
		}
		for _, line := range strings.Split(strings.TrimSpace(f.logs.String()), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("log line %q is not JSON", line)
				continue
			}
			if _, ok := m["forged"]; ok || m["msg"] != "edge" {
				t.Errorf("log line %s: want only the edge's refusal", line)
			}
		}
	}
	for fn, name := range v2 {
		raw := load(t, name, nil)
		for _, a := range attacks {
			t.Run(fn+"/HTTP API/"+a.name, func(t *testing.T) {
				check(t, fn, edit(t, raw, func(ev map[string]any) {
					ev["rawPath"] = a.path
					ev["requestContext"].(map[string]any)["http"].(map[string]any)["path"] = a.path
				}))
			})
		}
		// A REST event reaching an HTTP API function names no rawPath: it
		// is refused, not routed to "/".
		t.Run(fn+"/REST event", func(t *testing.T) {
			check(t, fn, edit(t, rest, func(ev map[string]any) { ev["path"] = "/console/\n" + forged }))
		})
	}
	for _, a := range attacks {
		t.Run("example-rest/REST API/"+a.name, func(t *testing.T) {
			check(t, "example-rest", edit(t, rest, func(ev map[string]any) { ev["path"] = a.path }))
		})
	}
}

// TestCanonicalPathsStillServed: the checks leave the events of events/
// and the REST example alone (the answers are the handlers' own).
func TestCanonicalPathsStillServed(t *testing.T) {
	f := newFixture(t)
	for fn, name := range map[string]string{"settings": "settings/environments.json", "example": "settings/get-settings.json"} {
		raw := load(t, name, nil)
		if fn == "example" {
			raw = edit(t, raw, func(ev map[string]any) { ev["rawPath"] = "/hello" })
		}
		if r := f.invoke(t, fn, raw); r.StatusCode >= 500 || r.StatusCode == 400 {
			t.Errorf("%s %s: status %d %s", fn, name, r.StatusCode, r.Body)
		}
	}
	rest, err := os.ReadFile("../edge/testdata/rest-proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	if r := f.invoke(t, "example-rest", rest); r.StatusCode != 200 || !strings.Contains(r.Body, `"owner":"alice"`) {
		t.Errorf("the REST example: status %d %s; want alice's items", r.StatusCode, r.Body)
	}
	raw := edit(t, load(t, "settings/get-settings.json", nil), func(ev map[string]any) { ev["rawPath"] = "/items/caf%C3%A9%20noir" })
	if r := f.invoke(t, "example", raw); r.StatusCode != 404 || strings.Contains(r.Headers["Content-Type"], "problem") {
		t.Errorf("an escaped path the router does not know: status %d %s; want the router's own 404", r.StatusCode, r.Body)
	}
}

// TestIdentityHeadersInAnotherLetterCaseAtTheAPIs: the sessions and admin
// APIs read headers through net/http after the adapter, which folds two
// spellings of a header into one name with two values (and splits an HTTP
// API's comma-joined values again) and then reads the first. An event with
// the Authorization or session header under two spellings, or the session
// cookie twice, is refused before that: 401 problem+json with the
// authorizer's reason, even when both copies are the caller's own.
func TestIdentityHeadersInAnotherLetterCaseAtTheAPIs(t *testing.T) {
	f := newFixture(t)
	tok, err := f.idp.Mint(devidp.Token{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.invoke(t, "sessions", load(t, "sessions/sign-in.json", map[string]string{events.AccessToken: tok}))
	var signedIn struct{ SessionID string }
	if json.Unmarshal([]byte(r.Body), &signedIn); r.StatusCode != 201 || signedIn.SessionID == "" {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Body)
	}
	sid := signedIn.SessionID
	current := load(t, "sessions/current.json", map[string]string{events.AccessToken: tok, events.SessionID: sid})
	settings := load(t, "settings/get-settings.json", map[string]string{events.AccessToken: tok, events.SessionID: sid})
	headers := func(change func(h map[string]any)) func(map[string]any) {
		return func(ev map[string]any) { change(ev["headers"].(map[string]any)) }
	}
	cookie := "__Host-sg_session=" + sid
	byCookie := func(cookies ...string) func(map[string]any) {
		return func(ev map[string]any) {
			delete(ev["headers"].(map[string]any), "x-session-id")
			ev["cookies"] = cookies
		}
	}
	for _, c := range []struct {
		name, fn string
		event    []byte
		change   func(map[string]any)
		status   int
		reason   string
	}{
		{"control: the session in the header", "sessions", current, func(map[string]any) {}, 200, ""},
		{"control: the session cookie once", "sessions", current, byCookie("theme=dark", cookie), 200, ""},
		{"authorization and Authorization", "sessions", current, headers(func(h map[string]any) { h["Authorization"] = "Bearer " + tok }), 401, "token_malformed"},
		{"x-session-id and X-Session-Id", "sessions", current, headers(func(h map[string]any) { h["X-Session-Id"] = sid }), 401, "session_unknown"},
		{"x-session-id, comma-joined", "sessions", current, headers(func(h map[string]any) { h["x-session-id"] = sid + "," + sid }), 401, "session_unknown"},
		{"the session cookie twice", "sessions", current, byCookie(cookie, "theme=dark", cookie), 401, "session_unknown"},
		{"the session cookie in cookies and in a Cookie header", "sessions", current, func(ev map[string]any) {
			byCookie(cookie)(ev)
			ev["headers"].(map[string]any)["Cookie"] = cookie
		}, 401, "session_unknown"},
		{"admin API: authorization and Authorization", "settings", settings, headers(func(h map[string]any) { h["Authorization"] = "Bearer " + tok }), 401, "token_malformed"},
		{"admin API: x-session-id and X-Session-Id", "settings", settings, headers(func(h map[string]any) { h["X-Session-Id"] = sid }), 401, "session_unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.invoke(t, c.fn, edit(t, c.event, c.change))
			if r.StatusCode != c.status {
				t.Fatalf("status %d %s; want %d", r.StatusCode, r.Body, c.status)
			}
			if c.reason == "" {
				return
			}
			if got, fields := r.problem(t); got != c.reason || len(fields) == 0 {
				t.Fatalf("reason %q, fields %v; want %s naming the header", got, fields, c.reason)
			}
		})
	}
	rest, err := os.ReadFile("../edge/testdata/rest-proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("REST example: Authorization and authorization", func(t *testing.T) {
		ev := edit(t, rest, func(ev map[string]any) {
			ev["headers"].(map[string]any)["authorization"] = "Bearer x"
			ev["multiValueHeaders"].(map[string]any)["authorization"] = []string{"Bearer x"}
		})
		r := f.invoke(t, "example-rest", ev)
		if got, _ := r.problem(t); r.StatusCode != 401 || got != "token_malformed" {
			t.Fatalf("status %d, reason %q; want 401 token_malformed", r.StatusCode, got)
		}
	})
}

package edge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/reason"
)

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"/", "/sessions", "/sessions/current", "/console/", "/environments/demo/settings",
		"/items/a%20b", "/items/a%2Fb", "/items/caf%C3%A9", "/items/café", "/items/..a", "/items/a..", "/.well-known/x", "/a%25b"} {
		if x := checkPath(p); x != nil {
			t.Errorf("checkPath(%q) = %v; want accepted", p, x)
		}
	}
	for _, p := range []string{"", "sessions", "*", "/..", "/.", "/a/../b", "/a/./b", "/a/..", "/console/%2e%2e/x", "/console/%2E/x",
		"//a", "/a//b", "/a%2F%2Fb", "/a\\b", "/a%5Cb", "/a\x00", "/a%00", "/a\nb", "/a%0Ab", "/a\rb", "/a\x7f", "/a%C2%85",
		"/a%ff", "/a\xff", "/a%zz", "/a%4", "/a?b", "/a#b", "/" + strings.Repeat("a", maxPath)} {
		x := checkPath(p)
		if x == nil || x.Field != "path" || x.Status != http.StatusBadRequest {
			t.Errorf("checkPath(%q) = %v; want a 400 naming path", p, x)
		}
	}
}

func TestCheckMethodQueryHost(t *testing.T) {
	for _, c := range []struct {
		field, value string
		check        func(string) *Refusal
		ok           bool
	}{
		{"method", "GET", checkMethod, true},
		{"method", "PROPFIND", checkMethod, true},
		{"method", "", checkMethod, false},
		{"method", "GET /x", checkMethod, false},
		{"method", "GET\n{}", checkMethod, false},
		{"query", "a=1&b=%0A", checkQuery, true},
		{"query", "a=\n{}", checkQuery, false},
		{"query", "a=1#x", checkQuery, false},
		{"host", "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", checkHost, true},
		{"host", "127.0.0.1:8080", checkHost, true},
		{"host", "", checkHost, true},
		{"host", "evil.example/x", checkHost, false},
		{"host", "a@b", checkHost, false},
	} {
		x := c.check(c.value)
		if (x == nil) != c.ok || x != nil && x.Field != c.field {
			t.Errorf("check %s %q = %v; want accepted %v", c.field, c.value, x, c.ok)
		}
	}
}

func TestCheckIdentity(t *testing.T) {
	c := Config{EnvironmentHeader: "X-Environment"}
	c.Sources = c.Sources.WithDefaults()
	const sid, other = "SID", "OTHER"
	for _, tc := range []struct {
		name    string
		headers map[string]string
		multi   map[string][]string
		cookies []string
		want    reason.Code // "" accepted
	}{
		{"one of each", map[string]string{"Authorization": "Bearer t", "X-Session-Id": sid, "X-Environment": "demo"}, nil, nil, ""},
		{"HTTP API names", map[string]string{"authorization": "Bearer t", "x-session-id": sid}, nil, []string{"__Host-sg_session=" + other}, ""},
		{"REST maps", map[string]string{"Authorization": "Bearer t"}, map[string][]string{"Authorization": {"Bearer t"}}, nil, ""},
		{"Authorization in two spellings", map[string]string{"Authorization": "Bearer t", "authorization": "Bearer t"}, nil, nil, reason.TokenMalformed},
		{"Authorization comma-joined", map[string]string{"authorization": "Bearer t,Bearer u"}, nil, nil, reason.TokenMalformed},
		{"Authorization twice in multiValueHeaders", nil, map[string][]string{"Authorization": {"Bearer t", "Bearer t"}}, nil, reason.TokenMalformed},
		{"Authorization once under each spelling in multiValueHeaders", nil, map[string][]string{"Authorization": {"Bearer t"}, "AUTHORIZATION": {"Bearer u"}}, nil, reason.TokenMalformed},
		{"session header in two spellings", map[string]string{"X-Session-Id": sid, "x-session-id": other}, nil, nil, reason.SessionUnknown},
		{"session header comma-joined", map[string]string{"x-session-id": sid + ", " + other}, nil, nil, reason.SessionUnknown},
		{"environment header in two spellings", map[string]string{"X-Environment": "demo", "x-environment": "prod"}, nil, nil, reason.EnvironmentUnknown},
		{"session cookie once", nil, nil, []string{"theme=dark", "__Host-sg_session=" + sid}, ""},
		{"session cookie twice in cookies", nil, nil, []string{"__Host-sg_session=" + sid, "__Host-sg_session=" + other}, reason.SessionUnknown},
		{"session cookie twice in one header", map[string]string{"Cookie": "__Host-sg_session=" + sid + "; __Host-sg_session=" + other}, nil, nil, reason.SessionUnknown},
		{"session cookie after a comma", map[string]string{"cookie": "a=b, __Host-sg_session=" + sid}, nil, []string{"__Host-sg_session=" + other}, reason.SessionUnknown},
		{"session cookie in Cookie and cookie", map[string]string{"Cookie": "__Host-sg_session=" + sid, "cookie": "__Host-sg_session=" + sid}, nil, nil, reason.SessionUnknown},
		{"session cookie in two Cookie headers", map[string]string{"Cookie": "__Host-sg_session=" + other}, map[string][]string{"Cookie": {"__Host-sg_session=" + sid, "__Host-sg_session=" + other}}, nil, reason.SessionUnknown},
		{"REST Cookie in both maps, once", map[string]string{"Cookie": "__Host-sg_session=" + sid}, map[string][]string{"Cookie": {"__Host-sg_session=" + sid}}, nil, ""},
	} {
		x := c.checkIdentity(tc.headers, tc.multi, tc.cookies)
		switch {
		case tc.want == "" && x != nil:
			t.Errorf("%s: refused %v; want accepted", tc.name, x)
		case tc.want != "" && (x == nil || x.Reason != tc.want || x.Status != int(reason.StatusOf(tc.want))):
			t.Errorf("%s: %v; want %s", tc.name, x, tc.want)
		}
	}
}

// echo answers with what the handler was given.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "body": string(b), "auth": r.Header.Values("Authorization")})
})

const v2Event = `{"version":"2.0","rawPath":"/items","rawQueryString":"a=1","headers":{"authorization":"Bearer t"},
"requestContext":{"domainName":"a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com","http":{"method":"POST","path":"/items"}},
"body":"aGVsbG8=","isBase64Encoded":true}`

func invoke(t *testing.T, h interface {
	Invoke(context.Context, []byte) ([]byte, error)
}, payload string) (int, map[string]any) {
	t.Helper()
	out, err := h.Invoke(context.Background(), []byte(payload))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal([]byte(resp.Body), &body)
	return resp.StatusCode, body
}

// TestEventsReadStrictly: an event that names a member twice (two
// rawPaths, two "authorization" headers) or holds invalid UTF-8 is refused
// (encoding/json would take the last name, and mangle the bytes); the
// base64 body reaches the handler decoded, and bad base64 is refused.
func TestEventsReadStrictly(t *testing.T) {
	h := NewV2(echo, Config{})
	if code, body := invoke(t, h, v2Event); code != 200 || body["body"] != "hello" || body["path"] != "/items" {
		t.Fatalf("the event: %d %v; want the decoded body at /items", code, body)
	}
	for _, c := range []struct{ name, from, to, field string }{
		{"two rawPaths", `"rawPath":"/items",`, `"rawPath":"/items","rawPath":"/../x",`, "event"},
		{"a header member twice", `{"authorization":"Bearer t"}`, `{"authorization":"Bearer t","authorization":"Bearer u"}`, "event"},
		{"invalid UTF-8", `"/items","rawQuery`, "\"/items\xff\",\"rawQuery", "event"},
		{"bad base64", `"aGVsbG8="`, `"aGVsbG8=!"`, "body"},
		{"a REST event", `"rawPath":"/items",`, `"path":"/items",`, "path"},
	} {
		ev := strings.Replace(v2Event, c.from, c.to, 1)
		if c.name == "a REST event" {
			ev = strings.Replace(ev, `"path":"/items"}`, `"path":""}`, 1)
		}
		if ev == v2Event {
			t.Fatalf("%s: no change", c.name)
		}
		code, body := invoke(t, h, ev)
		errs, _ := body["errors"].([]any)
		if code != 400 || len(errs) != 1 || errs[0].(map[string]any)["field"] != c.field {
			t.Errorf("%s: %d %v; want 400 naming %s", c.name, code, body, c.field)
		}
	}
}

// TestGateway: a real HTTP request with a dot-dot, an encoded NUL or
// newline, or a double slash is refused before the router, which would
// otherwise redirect to the path it cleaned; the refusal is one escaped
// JSON log line.
func TestGateway(t *testing.T) {
	var logs bytes.Buffer
	mux := http.NewServeMux()
	mux.Handle("/", echo)
	srv := httptest.NewServer(Gateway(mux, obs.NewLogger(&logs)))
	defer srv.Close()
	get := func(target string) *http.Response {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := get("/environments/demo/settings"); resp.StatusCode != 200 {
		t.Fatalf("a canonical path: %d; want 200", resp.StatusCode)
	}
	forged := `%0A%7B%22msg%22%3A%22decision%22%2C%22forged%22%3Atrue%7D`
	for _, target := range []string{"/environments/demo/../prod/settings", "/environments/demo/%2e%2e/prod/settings",
		"//environments/prod/settings", "/console/%00", "/console/" + forged, "/console/%5C..%5Cx"} {
		logs.Reset()
		resp := get(target)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s (Location %q); want 400 problem+json", target, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		var m map[string]any
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &m) != nil || m["msg"] != "edge" || m["field"] != "path" {
			t.Errorf("GET %s: log %q; want one edge line naming path", target, logs.String())
		}
	}
}

// TestOnlyTheEdgeCallsTheAdapter: every function that serves HTTP (the
// mains, the local stack, the example app) goes through this package; no
// other code hands events to aws-lambda-go-api-proxy's adapters itself.
func TestOnlyTheEdgeCallsTheAdapter(t *testing.T) {
	root := filepath.Join("..", "..")
	var found int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("aws-lambda-go-api-proxy/httpadapter")) {
			if filepath.ToSlash(path) != "../../shared/edge/edge.go" {
				t.Errorf("%s uses httpadapter itself: serve it through shared/edge (wiring.Proxy)", path)
			}
			found++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("the walk found no use of httpadapter at all: it did not walk the repository")
	}
}

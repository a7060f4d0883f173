package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/reason"
	"strings"
)

// TestSessionCookieTwiceWithASpace: net/http trims a cookie's name, so
// "__Host-sg_session =B" is the session cookie to a handler's r.Cookie; the
// edge counts it too. A single session cookie still passes.
func TestSessionCookieTwiceWithASpace(t *testing.T) {
	c := Config{Sources: identity.Sources{}.WithDefaults()}
	for _, h := range []string{"__Host-sg_session =B; __Host-sg_session=A", "__Host-sg_session\t=B;__Host-sg_session= A"} {
		if c.checkIdentity(map[string]string{"cookie": h}, nil, nil) == nil {
			t.Errorf("edge let %q through", h)
		}
	}
	if x := c.checkIdentity(map[string]string{"cookie": "theme=dark; __Host-sg_session =A"}, nil, nil); x != nil {
		t.Errorf("one session cookie: %v; want accepted", x)
	}
}

// TestSessionCookieReadTwoWays: a Cookie header the authorizer (which
// reads it whole) and the handler (to which the adapter hands a 2.0
// event's headers split at commas) would read differently is refused.
func TestSessionCookieReadTwoWays(t *testing.T) {
	c := Config{Sources: identity.Sources{}.WithDefaults()}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		multi   map[string][]string
		cookies []string
		refused bool
	}{
		{"quoted value with a comma", map[string]string{"cookie": `__Host-sg_session="A,B"`}, nil, nil, true},
		{"after a comma, once", map[string]string{"cookie": "x=1,__Host-sg_session=A"}, nil, nil, true},
		{"another cookie's value holds a comma", map[string]string{"cookie": "x=1,2; __Host-sg_session=A"}, nil, nil, false},
		{"REST maps name two sessions", map[string]string{"Cookie": "__Host-sg_session=A"}, map[string][]string{"Cookie": {"__Host-sg_session=B"}}, nil, true},
		{"REST maps name one", map[string]string{"Cookie": "theme=dark"}, map[string][]string{"Cookie": {"__Host-sg_session=A", "theme=dark"}}, nil, false},
	} {
		x := c.checkIdentity(tc.headers, tc.multi, tc.cookies)
		if (x != nil) != tc.refused || x != nil && x.Reason != reason.SessionUnknown {
			t.Errorf("%s: %v; want refused %v (session_unknown)", tc.name, x, tc.refused)
		}
	}
}

// FuzzSessionCookieReadOnce: whatever Cookie header and cookies element a
// client sends, a request the edge lets through carries the session
// cookie at most once as the handler reads it (r.CookiesNamed, after the
// adapter), and a session cookie the handler reads is the one the
// authorizer read (identity.CookieValues over the event: cookies and
// Cookie headers, else multiValueHeaders). HTTP API and REST events.
func FuzzSessionCookieReadOnce(f *testing.F) {
	for _, seed := range [][2]string{
		{"__Host-sg_session =B; __Host-sg_session=A", ""},
		{"__Host-sg_session=A", "__Host-sg_session =B"},
		{"theme=dark", "__Host-sg_session=A"},
		{"x=1, __Host-sg_session=A", "__Host-sg_session=B"},
		{"x=1,__Host-sg_session=A", ""},
		{`__Host-sg_session="A,B"; __Host-sg_session=C`, ""},
		{`__Host-sg_session="A"`, `__Host-sg_session=A`},
		{"__Host-sg_session\t=A", "theme=dark"},
	} {
		f.Add(seed[0], seed[1])
	}
	const name = "__Host-sg_session"
	var seen []*http.Cookie
	var called bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called, seen = true, r.CookiesNamed(name)
		w.WriteHeader(http.StatusNoContent)
	})
	v2, rest := NewV2(h, Config{}), NewREST(h, Config{})
	f.Fuzz(func(t *testing.T, header, cookie string) {
		check := func(kind string, ev any, authorizerReads string) {
			t.Helper()
			payload, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			called, seen = false, nil
			fn := map[string]lambda.Handler{"2.0": v2, "REST": rest}[kind]
			if _, err := fn.Invoke(t.Context(), payload); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			switch {
			case !called:
			case len(seen) > 1:
				t.Fatalf("%s: Cookie %q, cookies [%q]: the handler read the session cookie %d times", kind, header, cookie, len(seen))
			case len(seen) == 1 && seen[0].Value != authorizerReads:
				t.Fatalf("%s: Cookie %q, cookies [%q]: the handler read %q, the authorizer %q", kind, header, cookie, seen[0].Value, authorizerReads)
			}
		}
		ctx := events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/items"}}
		a, _ := identity.CookieValues([]string{cookie, header}, name)
		check("2.0", events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/items", RequestContext: ctx,
			Headers: map[string]string{"cookie": header}, Cookies: []string{cookie}}, a)
		// API Gateway puts the last Cookie line in headers, all of them
		// in multiValueHeaders.
		if a, _ = identity.CookieValues([]string{header}, name); a == "" {
			a, _ = identity.CookieValues([]string{cookie, header}, name)
		}
		check("REST", events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/items",
			Headers: map[string]string{"Cookie": header}, MultiValueHeaders: map[string][]string{"Cookie": {cookie, header}}}, a)
	})
}

// TestHeaderNamesFoldOnlyASCII: a name that matches the session header
// only under Unicode folding ("X-Seſſion-Id", long s) is another header
// to the authorizer and to net/http, so the edge does not count it: the
// handler reads the one session header.
func TestHeaderNamesFoldOnlyASCII(t *testing.T) {
	var got []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("X-Session-Id")
		w.WriteHeader(http.StatusNoContent)
	})
	ev := `{"version":"2.0","rawPath":"/items","headers":{"x-session-id":"A","X-Seſſion-Id":"B,C"},
"requestContext":{"http":{"method":"GET","path":"/items"}}}`
	code, body := invoke(t, NewV2(h, Config{}), ev)
	if code != http.StatusNoContent || len(got) != 1 || got[0] != "A" {
		t.Fatalf("%d %v, the handler read X-Session-Id %q; want 204 and A", code, body, got)
	}
}

// A named stage: the HTTP API puts the stage's name in front of the path;
// the handler routes without it, and a path not under the stage is
// refused.
func TestNamedStageIsStripped(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Path
		w.WriteHeader(http.StatusNoContent)
	})
	event := func(stage, path string) string {
		return `{"version":"2.0","rawPath":"` + path + `","requestContext":{"stage":"` + stage + `","http":{"method":"GET","path":"` + path + `"}}}`
	}
	for _, c := range []struct{ stage, path, want string }{
		{"staging", "/staging/sessions/current", "/sessions/current"},
		{"staging", "/staging", "/"},
		{"$default", "/sessions", "/sessions"},
		{"", "/sessions", "/sessions"},
	} {
		got = ""
		if code, body := invoke(t, NewV2(h, Config{}), event(c.stage, c.path)); code != http.StatusNoContent || got != c.want {
			t.Errorf("stage %q, path %s: %d %v, the handler saw %q; want 204 and %s", c.stage, c.path, code, body, got, c.want)
		}
	}
	for _, c := range []struct{ stage, path, field string }{
		{"staging", "/sessions", "path"},
		{"staging", "/stagingx/sessions", "path"},
		{"staging", "/prod/sessions", "path"},
		{"st/aging", "/st/aging/sessions", "stage"},
	} {
		got = ""
		code, body := invoke(t, NewV2(h, Config{}), event(c.stage, c.path))
		if code != http.StatusBadRequest || got != "" || !strings.Contains(fmt.Sprint(body), "field:"+c.field) {
			t.Errorf("stage %q, path %s: %d %v (handler saw %q); want 400 naming %s, the handler not called", c.stage, c.path, code, body, got, c.field)
		}
	}
}

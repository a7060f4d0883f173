package sessionapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/token"
)

// twoEnvironments is a fixture whose deployment serves demo (its stage
// variable's) and staging, and lets https://app.example.com call it from
// the browser.
func twoEnvironments(t *testing.T) *fixture {
	t.Helper()
	return newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
		return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
	}, func(c *Config) {
		c.Environments.Known = []string{"demo", "staging"}
		c.AllowedOrigins = []string{"https://app.example.com"}
	})
}

// withQuery sets an event's query string.
func withQuery(q string) func(*awsevents.APIGatewayV2HTTPRequest) {
	return func(ev *awsevents.APIGatewayV2HTTPRequest) { ev.RawQueryString = q }
}

// One deployment, two environments: a sign-in names its environment with
// the environment query parameter (else it is the stage variable's), the
// session belongs to that environment, and the other environment's
// requests refuse it.
func TestSignInNamesItsEnvironment(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	resp := f.call(t, "sessions/sign-in.json", tok, "", withQuery("environment=staging"))
	if resp.StatusCode != http.StatusCreated || body(t, resp)["environment"] != "staging" {
		t.Fatalf("sign-in to staging = %d %s; want 201 in staging", resp.StatusCode, resp.Body)
	}
	sid := body(t, resp)["sessionId"].(string)
	if resp := f.call(t, "sessions/current.json", tok, sid, withQuery("environment=staging")); resp.StatusCode != http.StatusOK {
		t.Fatalf("current in staging = %d %s; want 200", resp.StatusCode, resp.Body)
	}
	// The stage's environment (demo), named or not, refuses it.
	for _, q := range []string{"", "environment=demo"} {
		resp := f.call(t, "sessions/current.json", tok, sid, withQuery(q))
		if resp.StatusCode != http.StatusForbidden || body(t, resp)["reason"] != "binding_environment" {
			t.Fatalf("current with %q = %d %s; want 403 binding_environment", q, resp.StatusCode, resp.Body)
		}
	}
	if resp := f.call(t, "sessions/sign-in.json", tok, "", nil); body(t, resp)["environment"] != "demo" {
		t.Fatalf("sign-in without the parameter = %s; want the stage variable's environment, demo", resp.Body)
	}
}

func TestEnvironmentParameterRefusals(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	for _, tt := range []struct {
		query      string
		status     int
		reason     string
		field      string
		eventFiles []string
	}{
		{"environment=prod", http.StatusForbidden, "environment_unknown", "", []string{"sessions/sign-in.json", "sessions/current.json"}},
		{"environment=demo&environment=staging", http.StatusBadRequest, "", "environment", []string{"sessions/sign-in.json", "sessions/current.json"}},
		{"environment=%zz", http.StatusBadRequest, "", "(query)", []string{"sessions/sign-in.json", "sessions/current.json"}},
	} {
		for _, name := range tt.eventFiles {
			resp := f.call(t, name, tok, "sid", withQuery(tt.query))
			b := body(t, resp)
			if resp.StatusCode != tt.status || tt.reason != "" && b["reason"] != tt.reason ||
				tt.field != "" && !strings.Contains(resp.Body, `"field":"`+tt.field+`"`) {
				t.Errorf("%s ?%s = %d %s; want %d %s%s", name, tt.query, resp.StatusCode, resp.Body, tt.status, tt.reason, tt.field)
			}
		}
	}
}

// preflight is a browser's CORS preflight of path from origin for method.
func preflight(path, origin, method string) func(*awsevents.APIGatewayV2HTTPRequest) {
	return func(ev *awsevents.APIGatewayV2HTTPRequest) {
		ev.RouteKey, ev.RawPath = "OPTIONS "+path, path
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "OPTIONS", path
		ev.Body = ""
		ev.Headers = map[string]string{"origin": origin, "access-control-request-method": method,
			"access-control-request-headers": "authorization,content-type,x-session-id", "host": ev.Headers["host"]}
	}
}

func TestCrossOriginSignIn(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	// The preflight of a listed origin: 204, its origin echoed, with
	// credentials, the route's methods and the headers a client sends.
	resp := f.call(t, "sessions/sign-in.json", tok, "", preflight("/sessions", "https://app.example.com", "POST"))
	h := resp.Headers
	if resp.StatusCode != http.StatusNoContent || h["Access-Control-Allow-Origin"] != "https://app.example.com" ||
		h["Access-Control-Allow-Credentials"] != "true" || h["Access-Control-Allow-Methods"] != "POST, GET, DELETE" ||
		h["Access-Control-Allow-Headers"] != "Authorization, Content-Type, DPoP, X-Session-Id" || h["Vary"] != "Origin" {
		t.Fatalf("preflight of a listed origin = %d %v; want 204 with its CORS headers", resp.StatusCode, h)
	}
	resp = f.call(t, "sessions/current.json", tok, "", preflight("/sessions/current", "https://app.example.com", "DELETE"))
	if resp.StatusCode != http.StatusNoContent || resp.Headers["Access-Control-Allow-Methods"] != "GET, DELETE" {
		t.Fatalf("preflight of DELETE /sessions/current = %d %v; want 204 allowing GET, DELETE", resp.StatusCode, resp.Headers)
	}
	// Another origin, "*"-like spellings, or a method the route does not
	// take: 403 naming the header, and nothing that lets a browser read.
	for _, tt := range []struct{ origin, method, field string }{
		{"https://evil.example", "POST", "Origin"},
		{"https://app.example.com.evil.example", "POST", "Origin"},
		{"http://app.example.com", "POST", "Origin"},
		{"null", "POST", "Origin"},
		{"", "POST", "Origin"},
		{"https://app.example.com", "PUT", "Access-Control-Request-Method"},
	} {
		resp := f.call(t, "sessions/sign-in.json", tok, "", preflight("/sessions", tt.origin, tt.method))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, `"field":"`+tt.field+`"`) ||
			(tt.field == "Origin" && resp.Headers["Access-Control-Allow-Origin"] != "") {
			t.Errorf("preflight from %q for %s = %d %v %s; want 403 naming %s, no Access-Control-Allow-Origin for a refused origin", tt.origin, tt.method, resp.StatusCode, resp.Headers, resp.Body, tt.field)
		}
	}
	// The sign-in itself: readable by the listed origin, not by another.
	resp = f.call(t, "sessions/sign-in.json", tok, "", func(ev *awsevents.APIGatewayV2HTTPRequest) { ev.Headers["origin"] = "https://app.example.com" })
	if resp.StatusCode != http.StatusCreated || resp.Headers["Access-Control-Allow-Origin"] != "https://app.example.com" || resp.Headers["Access-Control-Allow-Credentials"] != "true" {
		t.Fatalf("sign-in from the listed origin = %d %v; want 201 with its CORS headers", resp.StatusCode, resp.Headers)
	}
	resp = f.call(t, "sessions/current.json", tok, "", func(ev *awsevents.APIGatewayV2HTTPRequest) { ev.Headers["origin"] = "https://evil.example" })
	if _, ok := resp.Headers["Access-Control-Allow-Origin"]; ok || resp.Headers["Vary"] != "Origin" {
		t.Fatalf("a read from another origin: headers %v; want no Access-Control-Allow-Origin, Vary: Origin", resp.Headers)
	}
}

// Without allowed origins (the default), no preflight passes.
func TestNoAllowedOriginsMeansSameOriginOnly(t *testing.T) {
	f := newFixture(t)
	resp := f.call(t, "sessions/sign-in.json", "", "", preflight("/sessions", "https://app.example.com", "POST"))
	if resp.StatusCode != http.StatusForbidden || resp.Headers["Access-Control-Allow-Origin"] != "" {
		t.Fatalf("preflight with no allowed origins = %d %v; want 403", resp.StatusCode, resp.Headers)
	}
}

// The environment a sign-in names is taken as named, whatever the
// deployment's own source (stage variable, header, host, fixed), and the
// current-session route judges the session in it.
func TestNamedEnvironmentWhateverTheSource(t *testing.T) {
	for _, src := range []environment.Config{
		{Source: "stage", Name: "environment"},
		{Source: "header", Name: "X-Environment"},
		{Source: "host", Hosts: map[string]string{"a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com": "demo"}},
		{Source: "fixed", Name: "demo"},
	} {
		t.Run(src.Source, func(t *testing.T) {
			f := newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
				return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
			}, func(c *Config) {
				src.Known = []string{"demo", "staging"}
				c.Environments = src
			})
			tok := f.token(t, "alice", time.Time{})
			resp := f.call(t, "sessions/sign-in.json", tok, "", withQuery("environment=staging"))
			if resp.StatusCode != http.StatusCreated || body(t, resp)["environment"] != "staging" {
				t.Fatalf("sign-in naming staging = %d %s; want 201 in staging", resp.StatusCode, resp.Body)
			}
			sid := body(t, resp)["sessionId"].(string)
			if resp := f.call(t, "sessions/current.json", tok, sid, withQuery("environment=staging")); resp.StatusCode != http.StatusOK || body(t, resp)["environment"] != "staging" {
				t.Fatalf("current naming staging = %d %s; want 200", resp.StatusCode, resp.Body)
			}
		})
	}
}

// A state change (sign-in, keep working, sign-out; the end of another
// session: TestEndingFromForeignOriginsRefused) sent by a page of an
// origin that is neither listed nor the API's own is refused, even without
// a preflight; reads, and clients that send no Origin, are not affected.
func TestWritesFromForeignOriginsRefused(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	origin := func(o string) func(*awsevents.APIGatewayV2HTTPRequest) {
		return func(ev *awsevents.APIGatewayV2HTTPRequest) {
			if o == "" {
				delete(ev.Headers, "origin")
			} else {
				ev.Headers["origin"] = o
			}
		}
	}
	for _, tt := range []struct {
		origin string
		want   int
	}{
		{"https://evil.example", http.StatusForbidden},
		{"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com.evil.example", http.StatusForbidden},
		{"https://app.example.com", http.StatusCreated},                                // listed
		{"https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", http.StatusCreated}, // the API's own host
		{"", http.StatusCreated}, // not a browser page
	} {
		resp := f.call(t, "sessions/sign-in.json", tok, "", origin(tt.origin))
		if resp.StatusCode != tt.want || tt.want == http.StatusForbidden && !strings.Contains(resp.Body, `"field":"Origin"`) {
			t.Errorf("sign-in from origin %q = %d %s; want %d", tt.origin, resp.StatusCode, resp.Body, tt.want)
		}
	}
	sid := f.signIn(t, tok)
	if resp := f.call(t, "sessions/sign-out.json", tok, sid, origin("https://evil.example")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out from another origin = %d; want 403", resp.StatusCode)
	}
	if resp := f.call(t, "sessions/current.json", tok, sid, origin("https://evil.example")); resp.StatusCode != http.StatusOK {
		t.Fatalf("reading the session from another origin = %d; want 200 (unreadable to that page without CORS)", resp.StatusCode)
	}
	if resp := f.call(t, "sessions/sign-out.json", tok, sid, origin("")); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out without Origin = %d; want 204", resp.StatusCode)
	}
}

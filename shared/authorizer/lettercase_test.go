package authorizer

import (
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// TestIdentityHeadersInAnotherLetterCase: an identity header sent twice
// under names that differ only in letter case, or the session cookie sent
// twice, is refused like any repeated identity header, whichever copy the
// event names last: REST headers and multiValueHeaders, payload 1.0 and
// 2.0 events. The same identity sent once is allowed (the controls).
func TestIdentityHeadersInAnotherLetterCase(t *testing.T) {
	f := newFixture(t, options{})
	tok := f.token(t, devidp.Token{})
	other := f.token(t, devidp.Token{User: "mallory"})
	sid := f.session(t, sessionSpec{}).Reveal()
	const cookie = "__Host-sg_session="
	type edit struct{ from, to string }
	// REST events with the session in Cookie headers instead of X-Session-Id.
	restCookie := []edit{
		{`"X-Session-Id": "` + sid + `"`, `"Cookie": "theme=dark; ` + cookie + sid + `"`},
		{`"X-Session-Id": ["` + sid + `"]`, `"Cookie": ["theme=dark; ` + cookie + sid + `"]`},
	}
	for _, c := range []struct {
		name, event string
		edits       []edit
		status      string
		want        reason.Code
	}{
		{"REST headers: Authorization and authorization", "rest-request.json", []edit{
			{`"Authorization": "Bearer ` + tok + `",`, `"Authorization": "Bearer ` + tok + `", "authorization": "Bearer ` + tok + `",`},
		}, "401", reason.TokenMalformed},
		{"REST multiValueHeaders: one value under each spelling", "rest-request.json", []edit{
			{`"Authorization": ["Bearer ` + tok + `"],`, `"AUTHORIZATION": ["Bearer ` + other + `"], "Authorization": ["Bearer ` + tok + `"],`},
		}, "401", reason.TokenMalformed},
		{"REST both maps: another user's token first", "rest-request.json", []edit{
			{`"Authorization": "Bearer ` + tok + `",`, `"authorization": "Bearer ` + other + `", "Authorization": "Bearer ` + tok + `",`},
			{`"Authorization": ["Bearer ` + tok + `"],`, `"authorization": ["Bearer ` + other + `"], "Authorization": ["Bearer ` + tok + `"],`},
		}, "401", reason.TokenMalformed},
		{"REST headers: X-Session-Id and x-session-id", "rest-request.json", []edit{
			{`"X-Session-Id": "` + sid + `"`, `"x-session-id": "` + sid + `", "X-Session-Id": "` + sid + `"`},
		}, "401", reason.SessionUnknown},
		{"REST multiValueHeaders: X-Session-Id and X-SESSION-ID", "rest-request.json", []edit{
			{`"X-Session-Id": ["` + sid + `"]`, `"X-SESSION-ID": ["` + sid + `"], "X-Session-Id": ["` + sid + `"]`},
		}, "401", reason.SessionUnknown},
		{"REST control: the session cookie in one Cookie header", "rest-request.json", restCookie, "allow", reason.OK},
		{"REST headers: the session cookie in Cookie and in cookie", "rest-request.json", append(restCookie[:1:1],
			edit{`"Accept": "application/json",`, `"Accept": "application/json", "cookie": "` + cookie + sid + `",`}, restCookie[1],
		), "401", reason.SessionUnknown},
		{"REST multiValueHeaders: the session cookie in two Cookie headers", "rest-request.json", append(restCookie[:1:1],
			edit{`"X-Session-Id": ["` + sid + `"]`, `"Cookie": ["theme=dark", "` + cookie + sid + `"], "COOKIE": ["` + cookie + sid + `"]`},
		), "401", reason.SessionUnknown},
		{"payload 1.0: cookie and Cookie", "http-api-v1.json", []edit{
			{`"accept": "application/json",`, `"accept": "application/json", "Cookie": "` + cookie + sid + `",`},
		}, "401", reason.SessionUnknown},
		{"payload 2.0 headers: authorization and Authorization", "http-api-v2.json", []edit{
			{`"authorization": "Bearer ` + tok + `",`, `"authorization": "Bearer ` + tok + `", "Authorization": "Bearer ` + tok + `",`},
		}, "401", reason.TokenMalformed},
		{"payload 2.0 headers: x-session-id and X-Session-Id", "http-api-v2.json", []edit{
			{`"x-session-id": "` + sid + `"`, `"X-Session-Id": "` + sid + `", "x-session-id": "` + sid + `"`},
		}, "401", reason.SessionUnknown},
		{"payload 2.0 cookies: the session cookie twice", "http-api-v2-cookie.json", []edit{
			{`"cookies": ["theme=dark", "` + cookie + sid + `"]`, `"cookies": ["theme=dark", "` + cookie + sid + `", "` + cookie + sid + `"]`},
		}, "401", reason.SessionUnknown},
		{"payload 2.0: the session cookie in cookies and in a Cookie header", "http-api-v2-cookie.json", []edit{
			{`"headers": {`, `"headers": {"Cookie": "` + cookie + sid + `",`},
		}, "401", reason.SessionUnknown},
		// Cookies are read as net/http reads them for a handler: a name is
		// trimmed, so "__Host-sg_session =B" is the session cookie too.
		{"payload 2.0 cookies: the session cookie again, with a space before =", "http-api-v2-cookie.json", []edit{
			{`"cookies": ["theme=dark", `, `"cookies": ["theme=dark", "__Host-sg_session =B", `},
		}, "401", reason.SessionUnknown},
		{"REST headers: the session cookie again, with a space before =", "rest-request.json", []edit{
			{`"X-Session-Id": "` + sid + `"`, `"Cookie": "__Host-sg_session =B; ` + cookie + sid + `"`},
			{`"X-Session-Id": ["` + sid + `"]`, `"Cookie": ["__Host-sg_session =B; ` + cookie + sid + `"]`},
		}, "401", reason.SessionUnknown},
		{"payload 2.0 control: the session cookie once, with a space before =", "http-api-v2-cookie.json", []edit{
			{`"cookies": ["theme=dark", "` + cookie + sid + `"]`, `"cookies": ["theme=dark", "__Host-sg_session =` + sid + `"]`},
		}, "allow", reason.OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := string(load(t, "authorizer/"+c.event, tok, sid))
			for _, e := range c.edits {
				changed := strings.Replace(ev, e.from, e.to, 1)
				if changed == ev {
					t.Fatalf("%s not found in %s", e.from, c.event)
				}
				ev = changed
			}
			if got, _ := f.decide(t, []byte(ev)); got != c.status {
				t.Fatalf("decision = %s; want %s", got, c.status)
			}
			if got := f.lastDecision(t)["reason"]; got != string(c.want) {
				t.Fatalf("reason = %v; want %s", got, c.want)
			}
		})
	}

	// An environment read from a header: two spellings of it name no
	// environment.
	a := New(f.h.auth.verifier, f.store, environment.Config{Source: "header", Name: "X-Environment", Known: []string{"demo"}}, policy.Enforcement{}, f.clock.Now)
	f.h = NewHandler(a, HandlerOptions{Log: obs.NewLogger(f.logs)})
	for _, c := range []struct {
		name, to string
		status   string
		want     reason.Code
	}{
		{"environment header once", `"X-Environment": "demo",`, "allow", reason.OK},
		{"environment header in two spellings", `"X-Environment": "demo", "x-environment": "demo",`, "403", reason.EnvironmentUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := strings.Replace(string(load(t, "authorizer/rest-request.json", tok, sid)), `"headers": {`, `"headers": {`+c.to, 1)
			if got, _ := f.decide(t, []byte(ev)); got != c.status {
				t.Fatalf("decision = %s; want %s", got, c.status)
			}
			if got := f.lastDecision(t)["reason"]; got != string(c.want) {
				t.Fatalf("reason = %v; want %s", got, c.want)
			}
		})
	}
}

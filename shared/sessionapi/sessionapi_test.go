package sessionapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/token"
)

type fixture struct {
	idp   *devidp.Issuer
	clock *devidp.Clock
	store *memstore.Store
	fn    lambda.Handler
	logs  *bytes.Buffer
	auth  *authorizer.Authorizer // the authorizer of the app's routes, on the same store
	api   *API
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, func(idp *devidp.Issuer) []token.Issuer {
		return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
	})
}

// newFixtureWith trusts the issuers issuers returns (its key set is the
// development issuer's).
func newFixtureWith(t *testing.T, issuers func(*devidp.Issuer) []token.Issuer) *fixture {
	t.Helper()
	return newFixtureEdit(t, issuers, nil)
}

// newFixtureEdit is newFixtureWith with edit applied to the API's
// configuration (environments, allowed origins) before it is built.
func newFixtureEdit(t *testing.T, issuers func(*devidp.Issuer) []token.Issuer, edit func(*Config)) *fixture {
	t.Helper()
	ck := devidp.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Issuers: issuers(idp), Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(ck.Now)
	envs := environment.Config{Source: "stage", Name: "environment", Known: []string{"demo"}}
	logs := &bytes.Buffer{}
	cfg := Config{Verifier: v, Store: store, Environments: envs, Log: obs.NewLogger(logs), Now: ck.Now}
	if edit != nil {
		edit(&cfg)
	}
	cfg.Proofs = dpop.NewChecker(dpop.Config{Replay: store, Now: ck.Now})
	cfg.Authorizer = authorizer.New(v, store, cfg.Environments, policy.Enforcement{}, ck.Now, authorizer.WithDPoP(cfg.Proofs))
	api := New(cfg)
	return &fixture{idp: idp, clock: ck, store: store, fn: lambda.NewHandler(httpadapter.NewV2(api).ProxyWithContext), logs: logs, auth: cfg.Authorizer, api: api}
}

func (f *fixture) token(t *testing.T, user string, authAt time.Time) string {
	t.Helper()
	tok, err := f.idp.Mint(devidp.Token{User: user, AuthTime: authAt})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// call feeds an event file, with values swapped in and edits applied,
// through the runtime's handler path.
func (f *fixture) call(t *testing.T, name, tok, sid string, edit func(*awsevents.APIGatewayV2HTTPRequest)) awsevents.APIGatewayV2HTTPResponse {
	t.Helper()
	raw, err := events.Load(name, map[string]string{events.AccessToken: tok, events.SessionID: sid})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var ev awsevents.APIGatewayV2HTTPRequest
		json.Unmarshal(raw, &ev)
		edit(&ev)
		raw, _ = json.Marshal(ev)
	}
	out, err := f.fn.Invoke(context.Background(), raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var resp awsevents.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp awsevents.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return m
}

func (f *fixture) signIn(t *testing.T, tok string) string {
	t.Helper()
	resp := f.call(t, "sessions/sign-in.json", tok, "", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Body)
	}
	return body(t, resp)["sessionId"].(string)
}

func TestEveryEventFile(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "alice", time.Time{})
	resp := f.call(t, "sessions/sign-in.json", tok, "", nil)
	b := body(t, resp)
	if resp.StatusCode != 201 || b["staySignedIn"] != true || b["userId"] != "alice" || len(b["sessionId"].(string)) != 43 {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, b)
	}
	cookie := strings.Join(resp.Cookies, ";") + resp.Headers["Set-Cookie"] + strings.Join(resp.MultiValueHeaders["Set-Cookie"], ";")
	for _, want := range []string{"__Host-sg_session=" + b["sessionId"].(string), "Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age="} {
		if !strings.Contains(cookie, want) {
			t.Errorf("stay-signed-in cookie %q lacks %q", cookie, want)
		}
	}
	sid := b["sessionId"].(string)
	if resp := f.call(t, "sessions/current.json", tok, sid, nil); resp.StatusCode != 200 || body(t, resp)["environment"] != "demo" {
		t.Fatalf("current: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/sign-out.json", tok, sid, nil); resp.StatusCode != 204 {
		t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/sign-out.json", tok, sid, nil); resp.StatusCode != 204 {
		t.Fatalf("repeated sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/current.json", tok, sid, nil); resp.StatusCode != 401 || body(t, resp)["reason"] != "session_revoked" {
		t.Fatalf("current after sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	if strings.Contains(f.logs.String(), sid) || strings.Contains(f.logs.String(), strings.Split(tok, ".")[2]) {
		t.Fatal("logs contain a session id or token")
	}
}

func TestBrowserSessionCookie(t *testing.T) {
	f := newFixture(t)
	resp := f.call(t, "sessions/sign-in.json", f.token(t, "alice", time.Time{}), "", func(e *awsevents.APIGatewayV2HTTPRequest) {
		e.Body = `{"staySignedIn":false}`
	})
	cookie := strings.Join(resp.Cookies, ";") + strings.Join(resp.MultiValueHeaders["Set-Cookie"], ";") + resp.Headers["Set-Cookie"]
	if resp.StatusCode != 201 || strings.Contains(cookie, "Max-Age") || strings.Contains(cookie, "Expires") {
		t.Fatalf("browser-session cookie %q (%d)", cookie, resp.StatusCode)
	}
}

func TestMustSignInAgainWithCredentialsAfterSignOut(t *testing.T) {
	f := newFixture(t)
	authAt := f.clock.Now()
	old := f.token(t, "alice", authAt)
	sid := f.signIn(t, old)
	f.clock.Add(time.Minute)
	f.call(t, "sessions/sign-out.json", old, sid, nil)
	// The same token, and a refreshed one from the same authentication,
	// cannot start a session.
	f.clock.Add(time.Minute)
	for _, tok := range []string{old, f.token(t, "alice", authAt)} {
		resp := f.call(t, "sessions/sign-in.json", tok, "", nil)
		if resp.StatusCode != 401 || body(t, resp)["reason"] != "session_revoked" || !strings.Contains(resp.Headers["Content-Type"], "application/problem+json") {
			t.Fatalf("sign-in with a pre-sign-out authentication: %d %s", resp.StatusCode, resp.Body)
		}
	}
	// A fresh authentication can.
	f.signIn(t, f.token(t, "alice", f.clock.Now()))
	// Other users are not affected.
	f.signIn(t, f.token(t, "bob", authAt))
}

func TestSessionLimit(t *testing.T) {
	for _, on := range []policy.OnLimit{policy.DenyNew, policy.EndOldest} {
		t.Run(string(on), func(t *testing.T) {
			f := newFixture(t)
			s := policy.Defaults()
			s.MaxSessionsPerUser, s.OnSessionLimit = 2, on
			if err := f.store.PutSettings(context.Background(), policy.SettingsChange{Environment: "demo", Version: 1, New: s}); err != nil {
				t.Fatal(err)
			}
			tok := f.token(t, "alice", time.Time{})
			first := f.signIn(t, tok)
			f.clock.Add(time.Second)
			f.signIn(t, tok)
			f.clock.Add(time.Second)
			resp := f.call(t, "sessions/sign-in.json", tok, "", nil)
			switch on {
			case policy.DenyNew:
				if resp.StatusCode != 403 || body(t, resp)["reason"] != "forbidden" {
					t.Fatalf("third sign-in: %d %s", resp.StatusCode, resp.Body)
				}
			case policy.EndOldest:
				if resp.StatusCode != 201 || body(t, resp)["endedSessions"] != 1.0 {
					t.Fatalf("third sign-in: %d %s", resp.StatusCode, resp.Body)
				}
				if r := f.call(t, "sessions/current.json", tok, first, nil); r.StatusCode != 401 {
					t.Fatalf("oldest session still works: %d", r.StatusCode)
				}
			}
		})
	}
}

func TestSignInRefusals(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "alice", time.Time{})
	tests := []struct {
		name   string
		edit   func(*awsevents.APIGatewayV2HTTPRequest)
		status int
		want   string
	}{
		{"no token", func(e *awsevents.APIGatewayV2HTTPRequest) { delete(e.Headers, "authorization") }, 401, `"reason":"token_missing"`},
		{"bad token", func(e *awsevents.APIGatewayV2HTTPRequest) { e.Headers["authorization"] = "Bearer x.y.z" }, 401, `"reason":"token_malformed"`},
		{"unknown environment", func(e *awsevents.APIGatewayV2HTTPRequest) { e.StageVariables["environment"] = "prod" }, 403, `"reason":"environment_unknown"`},
		{"unknown field", func(e *awsevents.APIGatewayV2HTTPRequest) { e.Body = `{"staySignedIn":true,"admin":true}` }, 400, `"field":"admin"`},
		{"wrong type", func(e *awsevents.APIGatewayV2HTTPRequest) { e.Body = `{"staySignedIn":"yes"}` }, 400, `"field":"staySignedIn"`},
		{"not JSON", func(e *awsevents.APIGatewayV2HTTPRequest) { e.Body = `staySignedIn=1` }, 400, `"field":"(body)"`},
		{"a member twice", func(e *awsevents.APIGatewayV2HTTPRequest) { e.Body = `{"staySignedIn":false,"staySignedIn":true}` }, 400, `"field":"(body)"`},
	}
	for _, tt := range tests {
		resp := f.call(t, "sessions/sign-in.json", tok, "", tt.edit)
		if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
			t.Errorf("%s: %d %s; want %d with %s", tt.name, resp.StatusCode, resp.Body, tt.status, tt.want)
		}
	}
}

func TestStaySignedInNotAllowed(t *testing.T) {
	f := newFixture(t)
	s := policy.Defaults()
	s.StaySignedIn.Allowed = false // the browser-lifetime preset
	if err := f.store.PutSettings(context.Background(), policy.SettingsChange{Environment: "demo", Version: 1, New: s}); err != nil {
		t.Fatal(err)
	}
	resp := f.call(t, "sessions/sign-in.json", f.token(t, "alice", time.Time{}), "", nil)
	if resp.StatusCode != 201 || body(t, resp)["staySignedIn"] != false {
		t.Fatalf("sign-in asking to stay signed in: %d %s", resp.StatusCode, resp.Body)
	}
}

// Session fixation: a session id planted in the victim's browser (header
// or cookie) is never adopted; sign-in always issues a fresh id, and the
// attacker's session stays the attacker's.
func TestSessionFixation(t *testing.T) {
	f := newFixture(t)
	planted := f.signIn(t, f.token(t, "mallory", time.Time{}))
	invented := strings.Repeat("A", 43)
	for _, sid := range []string{planted, invented} {
		resp := f.call(t, "sessions/sign-in.json", f.token(t, "alice", time.Time{}), "", func(ev *awsevents.APIGatewayV2HTTPRequest) {
			ev.Headers["x-session-id"] = sid
			ev.Cookies = []string{"__Host-sg_session=" + sid}
		})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Body)
		}
		got := body(t, resp)["sessionId"].(string)
		if got == sid {
			t.Fatalf("sign-in adopted the planted session id")
		}
	}
	// Alice's token on the planted session is refused: it is mallory's.
	if resp := f.call(t, "sessions/current.json", f.token(t, "alice", time.Time{}), planted, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice's token on mallory's session: %d; want 403 (binding_user)", resp.StatusCode)
	}
}

package sessionapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/edge"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// The sample events' API, as a proof names it.
const api = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"

// dpopFixture is the sessions API behind the edge, as Lambda runs it,
// with environment demo under mode, and a client key and another.
type dpopFixture struct {
	*fixture
	key, other *devidp.DPoPKey
}

func newDPoPFixture(t *testing.T, mode policy.DPoPMode) *dpopFixture {
	t.Helper()
	return newDPoPFixtureEdit(t, mode, nil)
}

// newDPoPFixtureEdit is newDPoPFixture with edit applied to the API's
// configuration.
func newDPoPFixtureEdit(t *testing.T, mode policy.DPoPMode, edit func(*Config)) *dpopFixture {
	t.Helper()
	f := newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
		return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
	}, edit)
	f.fn = lambda.NewHandler(edge.NewV2(f.api, edge.Config{}))
	set := policy.Defaults()
	set.DPoP = mode
	if err := f.store.PutSettings(context.Background(), policy.SettingsChange{Environment: "demo", Version: 1, At: f.clock.Now(), Old: policy.Defaults(), New: set}); err != nil {
		t.Fatal(err)
	}
	key, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
	other, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
	return &dpopFixture{fixture: f, key: key, other: other}
}

// token is alice's token bound to k (nil: unbound).
func (d *dpopFixture) token(t *testing.T, k *devidp.DPoPKey) string {
	t.Helper()
	tok := devidp.Token{User: "alice"}
	if k != nil {
		tok.Claims = map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint}}
	}
	s, err := d.idp.Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proof is k's proof for method and path at the sample API with tok.
func proof(k *devidp.DPoPKey, method, path, tok string) string {
	return k.MustSign(devidp.Proof{Method: method, URL: api + path, AccessToken: tok})
}

// send feeds the event file name with "<scheme> <tok>" and the proof (""
// none) through the edge and the API.
func (d *dpopFixture) send(t *testing.T, name, scheme, tok, sid, proof string, edit func(*awsevents.APIGatewayV2HTTPRequest)) awsevents.APIGatewayV2HTTPResponse {
	t.Helper()
	return d.call(t, name, tok, sid, func(e *awsevents.APIGatewayV2HTTPRequest) {
		e.Headers["authorization"] = scheme + " " + tok
		if proof != "" {
			e.Headers["dpop"] = proof
		}
		if edit != nil {
			edit(e)
		}
	})
}

// refused fails unless resp is a 401 with reason, the DPoP challenge,
// and the log names check.
func (d *dpopFixture) refused(t *testing.T, what string, resp awsevents.APIGatewayV2HTTPResponse, reason, check string) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized || body(t, resp)["reason"] != reason {
		t.Errorf("%s: %d %s; want 401 %s", what, resp.StatusCode, resp.Body, reason)
		return
	}
	challenge := ""
	for k, v := range resp.Headers {
		if strings.EqualFold(k, "WWW-Authenticate") {
			challenge = v
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		if strings.EqualFold(k, "WWW-Authenticate") {
			challenge = strings.Join(vs, ", ")
		}
	}
	want := `DPoP algs="ES256 RS256 PS256 EdDSA"`
	if reason == "dpop_invalid" {
		want = `DPoP error="invalid_dpop_proof", algs="ES256 RS256 PS256 EdDSA"`
	}
	if challenge != want {
		t.Errorf("%s: WWW-Authenticate %q; want %q", what, challenge, want)
	}
	lines := strings.Split(strings.TrimSpace(d.logs.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `"dpopCheck":"`+check+`"`) {
		t.Errorf("%s: the log line %s does not name the check %s", what, last, check)
	}
}

// TestSignInBindsTheSession: under dpop required, a sign-in with a
// DPoP-bound token and its proof (POST, the sessions URL) records the
// proof key on the session; from then on the current session, the
// keep-alive and sign-out need a fresh proof by that key: none, a
// replayed one, or one by another key (also with the victim's session id
// and a token of the same user bound to the other key: a copied session
// id) are refused, and the session stays live until a proven sign-out.
func TestSignInBindsTheSession(t *testing.T) {
	d := newDPoPFixture(t, policy.DPoPRequired)
	tok := d.token(t, d.key)
	resp := d.send(t, "sessions/sign-in.json", "DPoP", tok, "", proof(d.key, "POST", "/sessions", tok), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in with a bound token and its proof: %d %s", resp.StatusCode, resp.Body)
	}
	sid := body(t, resp)["sessionId"].(string)
	id, _ := session.ParseID(sid)
	if s, err := d.store.Session(context.Background(), id.Hash()); err != nil || s.DPoPKey != d.key.Thumbprint {
		t.Fatalf("the session's key = %q, %v; want the proof's %s", s.DPoPKey, err, d.key.Thumbprint)
	}
	current := func(scheme, tok, proof string) awsevents.APIGatewayV2HTTPResponse {
		return d.send(t, "sessions/current.json", scheme, tok, sid, proof, nil)
	}
	good := proof(d.key, "GET", "/sessions/current", tok)
	if resp := current("DPoP", tok, good); resp.StatusCode != 200 {
		t.Fatalf("current with a proof: %d %s", resp.StatusCode, resp.Body)
	}
	d.refused(t, "current, the same proof again", current("DPoP", tok, good), "dpop_invalid", dpop.CheckJTI)
	d.refused(t, "current without a proof", current("DPoP", tok, ""), "dpop_required", dpop.CheckMissing)
	d.refused(t, "current as Bearer", current("Bearer", tok, ""), "dpop_required", dpop.CheckDowngrade)
	d.refused(t, "current with another key's proof", current("DPoP", tok, proof(d.other, "GET", "/sessions/current", tok)), "dpop_invalid", dpop.CheckJKT)
	stolen := d.token(t, d.other)
	d.refused(t, "the session id with the same user's token bound to another key", current("DPoP", stolen, proof(d.other, "GET", "/sessions/current", stolen)), "dpop_invalid", dpop.CheckSession)
	d.refused(t, "current with a proof for sign-in", current("DPoP", tok, proof(d.key, "POST", "/sessions", tok)), "dpop_invalid", dpop.CheckHTM)

	keep := d.send(t, "sessions/current.json", "DPoP", tok, sid, proof(d.key, "POST", "/sessions/current/activity", tok), func(e *awsevents.APIGatewayV2HTTPRequest) {
		e.RawPath, e.RequestContext.HTTP.Path, e.RequestContext.HTTP.Method = "/sessions/current/activity", "/sessions/current/activity", "POST"
	})
	if keep.StatusCode != 200 {
		t.Fatalf("keep-alive with a proof: %d %s (its proof is checked once, not twice)", keep.StatusCode, keep.Body)
	}

	signOut := func(p string) awsevents.APIGatewayV2HTTPResponse {
		return d.send(t, "sessions/sign-out.json", "DPoP", tok, sid, p, nil)
	}
	d.refused(t, "sign-out without a proof", signOut(""), "dpop_required", dpop.CheckMissing)
	d.refused(t, "sign-out with another key's proof", signOut(proof(d.other, "DELETE", "/sessions/current", tok)), "dpop_invalid", dpop.CheckSession)
	d.refused(t, "sign-out with a proof for GET", signOut(proof(d.key, "GET", "/sessions/current", tok)), "dpop_invalid", dpop.CheckHTM)
	if resp := current("DPoP", tok, proof(d.key, "GET", "/sessions/current", tok)); resp.StatusCode != 200 {
		t.Fatalf("after the refused sign-outs the session is live: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := signOut(proof(d.key, "DELETE", "/sessions/current", tok)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out with a proof: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := current("DPoP", tok, proof(d.key, "GET", "/sessions/current", tok)); resp.StatusCode != 401 || body(t, resp)["reason"] != "session_revoked" {
		t.Fatalf("current after sign-out: %d %s; want session_revoked", resp.StatusCode, resp.Body)
	}
	if strings.Contains(d.logs.String(), sid) || strings.Contains(d.logs.String(), strings.Split(tok, ".")[2]) {
		t.Fatal("the log holds a session id or a token")
	}
}

// TestSignInUnderEachMode: what a sign-in must bring under each mode, and
// the check each refusal names.
func TestSignInUnderEachMode(t *testing.T) {
	for _, c := range []struct {
		name   string
		mode   policy.DPoPMode
		scheme string
		bound  bool
		proof  func(d *dpopFixture, tok string) string
		status int
		reason string
		check  string
		bindTo bool // the session is bound to the client's key
	}{
		{"required: bound token and proof", policy.DPoPRequired, "DPoP", true, nil, 201, "", "", true},
		{"required: a plain Bearer token", policy.DPoPRequired, "Bearer", false, nil, 401, "dpop_required", dpop.CheckUnbound, false},
		{"required: no proof", policy.DPoPRequired, "DPoP", true, func(*dpopFixture, string) string { return "" }, 401, "dpop_required", dpop.CheckMissing, false},
		{"required: a proof for another URL", policy.DPoPRequired, "DPoP", true, func(d *dpopFixture, tok string) string { return proof(d.key, "POST", "/sessions/current", tok) }, 401, "dpop_invalid", dpop.CheckHTU, false},
		{"required: a proof for GET", policy.DPoPRequired, "DPoP", true, func(d *dpopFixture, tok string) string { return proof(d.key, "GET", "/sessions", tok) }, 401, "dpop_invalid", dpop.CheckHTM, false},
		{"required: another key's proof", policy.DPoPRequired, "DPoP", true, func(d *dpopFixture, tok string) string { return proof(d.other, "POST", "/sessions", tok) }, 401, "dpop_invalid", dpop.CheckJKT, false},
		{"allowed: bound token and proof", policy.DPoPAllowed, "DPoP", true, nil, 201, "", "", true},
		{"allowed: a plain Bearer token", policy.DPoPAllowed, "Bearer", false, func(*dpopFixture, string) string { return "" }, 201, "", "", false},
		{"allowed: a bound token as Bearer", policy.DPoPAllowed, "Bearer", true, nil, 401, "dpop_required", dpop.CheckDowngrade, false},
		{"off: a bound token as Bearer", policy.DPoPOff, "Bearer", true, func(*dpopFixture, string) string { return "" }, 201, "", "", false},
		{"off: the DPoP scheme", policy.DPoPOff, "DPoP", true, nil, 401, "token_malformed", dpop.CheckOff, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newDPoPFixture(t, c.mode)
			var k *devidp.DPoPKey
			if c.bound {
				k = d.key
			}
			tok := d.token(t, k)
			p := proof(d.key, "POST", "/sessions", tok)
			if c.proof != nil {
				p = c.proof(d, tok)
			}
			resp := d.send(t, "sessions/sign-in.json", c.scheme, tok, "", p, nil)
			if resp.StatusCode != c.status {
				t.Fatalf("%d %s; want %d", resp.StatusCode, resp.Body, c.status)
			}
			if c.status != 201 {
				if c.reason == "token_malformed" {
					if body(t, resp)["reason"] != c.reason {
						t.Errorf("reason %v; want %s", body(t, resp)["reason"], c.reason)
					}
					return
				}
				d.refused(t, c.name, resp, c.reason, c.check)
				return
			}
			// Off takes a bound token as Bearer, and the log line says so.
			lines := strings.Split(strings.TrimSpace(d.logs.String()), "\n")
			if got := strings.Contains(lines[len(lines)-1], `"dpopDowngradeAccepted":true`); got != (c.mode == policy.DPoPOff && c.bound && c.scheme == "Bearer") {
				t.Errorf("dpopDowngradeAccepted in the sign-in's log line %s: %v; want %v", lines[len(lines)-1], got, !got)
			}
			id, _ := session.ParseID(body(t, resp)["sessionId"].(string))
			s, _ := d.store.Session(context.Background(), id.Hash())
			if got := s.DPoPKey == d.key.Thumbprint; got != c.bindTo || !c.bindTo && s.DPoPKey != "" {
				t.Errorf("the session's key %q; bound to the client's key: %v, want %v", s.DPoPKey, got, c.bindTo)
			}
		})
	}
}

// TestProofNamesTheURLAsCalled: on a named stage the client calls
// .../staging/sessions; the proof names that URL (the edge hands the
// handler the path before it takes the stage off), not the path the
// handler routes on. Without a domain name in the event, no proof passes.
func TestProofNamesTheURLAsCalled(t *testing.T) {
	d := newDPoPFixture(t, policy.DPoPRequired)
	onStage := func(e *awsevents.APIGatewayV2HTTPRequest) {
		e.RawPath, e.RequestContext.HTTP.Path, e.RequestContext.Stage = "/staging/sessions", "/staging/sessions", "staging"
	}
	tok := d.token(t, d.key)
	d.refused(t, "a proof without the stage", d.send(t, "sessions/sign-in.json", "DPoP", tok, "", proof(d.key, "POST", "/sessions", tok), onStage), "dpop_invalid", dpop.CheckHTU)
	if resp := d.send(t, "sessions/sign-in.json", "DPoP", tok, "", proof(d.key, "POST", "/staging/sessions", tok), onStage); resp.StatusCode != 201 {
		t.Fatalf("a proof naming the stage's URL: %d %s", resp.StatusCode, resp.Body)
	}
	// An event without requestContext.domainName names no URL: the Host
	// header, which the client chooses, does not stand in for it.
	noDomain := func(e *awsevents.APIGatewayV2HTTPRequest) {
		e.RequestContext.DomainName = ""
		delete(e.Headers, "origin") // a client that is not a browser
	}
	d.refused(t, "no domain name, a proof for the Host header's URL", d.send(t, "sessions/sign-in.json", "DPoP", tok, "", proof(d.key, "POST", "/sessions", tok), noDomain), "dpop_invalid", dpop.CheckHTU)
}

// TestCrossOriginDPoP: an app on a listed origin signs in with DPoP from
// the browser. Every sessions route's preflight allows the DPoP header
// (a browser sends no request with a header the preflight did not
// allow), and the answers let the page read WWW-Authenticate, the DPoP
// challenge of a refusal.
func TestCrossOriginDPoP(t *testing.T) {
	const app = "https://app.example.com"
	d := newDPoPFixtureEdit(t, policy.DPoPRequired, func(c *Config) { c.AllowedOrigins = []string{app} })
	for _, c := range []struct{ method, path string }{
		{"POST", "/sessions"},
		{"GET", "/sessions"},
		{"DELETE", "/sessions"},
		{"GET", "/sessions/current"},
		{"DELETE", "/sessions/current"},
		{"POST", "/sessions/current/activity"},
		{"DELETE", "/sessions/0123456789abcdef"},
	} {
		resp := d.call(t, "sessions/sign-in.json", "", "", func(ev *awsevents.APIGatewayV2HTTPRequest) {
			preflight(c.path, app, c.method)(ev)
			ev.Headers["access-control-request-headers"] = "authorization,content-type,dpop,x-session-id"
		})
		allowed := map[string]bool{}
		for _, h := range strings.Split(resp.Headers["Access-Control-Allow-Headers"], ",") {
			allowed[strings.ToLower(strings.TrimSpace(h))] = true
		}
		if resp.StatusCode != http.StatusNoContent || !allowed["dpop"] || !allowed["authorization"] || !allowed["x-session-id"] || !allowed["content-type"] {
			t.Errorf("preflight of %s %s asking for DPoP = %d, Access-Control-Allow-Headers %q; want 204 allowing authorization, content-type, dpop, x-session-id",
				c.method, c.path, resp.StatusCode, resp.Headers["Access-Control-Allow-Headers"])
		}
	}
	fromApp := func(e *awsevents.APIGatewayV2HTTPRequest) { e.Headers["origin"] = app }
	tok := d.token(t, d.key)
	resp := d.send(t, "sessions/sign-in.json", "DPoP", tok, "", proof(d.key, "POST", "/sessions", tok), fromApp)
	if resp.StatusCode != http.StatusCreated || resp.Headers["Access-Control-Allow-Origin"] != app || resp.Headers["Access-Control-Expose-Headers"] != "WWW-Authenticate" {
		t.Fatalf("cross-origin sign-in with a proof = %d %v; want 201 readable by %s, exposing WWW-Authenticate", resp.StatusCode, resp.Headers, app)
	}
	sid := body(t, resp)["sessionId"].(string)
	resp = d.send(t, "sessions/current.json", "DPoP", tok, sid, "", fromApp)
	d.refused(t, "cross-origin current without a proof", resp, "dpop_required", dpop.CheckMissing)
	if resp.Headers["Access-Control-Allow-Origin"] != app || resp.Headers["Access-Control-Expose-Headers"] != "WWW-Authenticate" {
		t.Errorf("a cross-origin DPoP refusal's headers %v; want it readable by %s with WWW-Authenticate exposed", resp.Headers, app)
	}
	resp = d.send(t, "sessions/current.json", "DPoP", tok, sid, "", func(e *awsevents.APIGatewayV2HTTPRequest) { e.Headers["origin"] = "https://evil.example" })
	if _, ok := resp.Headers["Access-Control-Expose-Headers"]; ok {
		t.Errorf("an answer to an origin not listed exposes headers: %v", resp.Headers)
	}
}

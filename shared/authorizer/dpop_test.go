package authorizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// apiKind is one kind of authorizer event, and the URL its sample
// request was made to (what a proof's htu names).
type apiKind struct {
	name, file, url string
}

// The kinds: an HTTP API's payload 2.0 (htu from requestContext.domainName
// and rawPath) and a REST API's REQUEST event (htu from
// requestContext.domainName and requestContext.path, which keeps the
// stage).
var apiKinds = []apiKind{
	{"HTTP API", "authorizer/http-api-v2.json", "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/demo"},
	{"REST API", "authorizer/rest-request.json", "https://k9l8m7n6o5.execute-api.eu-west-1.amazonaws.com/prod/demo"},
}

// dctx is one DPoP case: a fixture, the event kind, the client's key and
// another key.
type dctx struct {
	t          testing.TB
	f          *fixture
	kind       apiKind
	key, other *devidp.DPoPKey
}

// token mints alice's token bound to k (nil: unbound).
func (d *dctx) token(k *devidp.DPoPKey) string {
	tok := devidp.Token{}
	if k != nil {
		tok.Claims = map[string]any{"cnf": map[string]any{"jkt": k.Thumbprint}}
	}
	return d.f.token(d.t, tok)
}

// session starts alice's session under mode, bound to k (nil: none).
func (d *dctx) session(mode policy.DPoPMode, k *devidp.DPoPKey) string {
	s := policy.Defaults()
	s.DPoP = mode
	sp := sessionSpec{settings: &s}
	if k != nil {
		sp.key = k.Thumbprint
	}
	return d.f.session(d.t, sp).Reveal()
}

// proof is the client's proof for the kind's request with tok, changed by
// edit.
func (d *dctx) proof(tok string, edit func(*devidp.Proof)) string {
	p := devidp.Proof{Method: "GET", URL: d.kind.url, AccessToken: tok}
	if edit != nil {
		edit(&p)
	}
	return d.key.MustSign(p)
}

// event is the kind's sample event with "<scheme> <tok>" as
// Authorization, the session id sid and a DPoP header per proof (none:
// no header; two: under two spellings), in headers and, for REST, in
// multiValueHeaders; edit changes the decoded event.
func (d *dctx) event(scheme, tok, sid string, proofs []string, edit func(map[string]any)) []byte {
	d.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(load(d.t, d.kind.file, tok, sid), &m); err != nil {
		d.t.Fatal(err)
	}
	h := m["headers"].(map[string]any)
	multi, _ := m["multiValueHeaders"].(map[string]any)
	for k := range h {
		if strings.EqualFold(k, "authorization") {
			h[k] = scheme + " " + tok
			if multi != nil {
				multi[k] = []any{scheme + " " + tok}
			}
		}
	}
	for i, p := range proofs {
		name := []string{"DPoP", "dpop"}[i%2]
		h[name] = p
		if multi != nil {
			multi[name] = []any{p}
		}
	}
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// hostHeader sets the event's Host header (in headers and, for REST,
// multiValueHeaders) to host.
func hostHeader(host string) func(map[string]any) {
	return func(m map[string]any) {
		for k := range m["headers"].(map[string]any) {
			if strings.EqualFold(k, "host") {
				m["headers"].(map[string]any)[k] = host
			}
		}
		if multi, ok := m["multiValueHeaders"].(map[string]any); ok {
			for k := range multi {
				if strings.EqualFold(k, "host") {
					multi[k] = []any{host}
				}
			}
		}
	}
}

// offDowngrade is the row of TestDPoPChecks whose allow the decision line
// marks dpopDowngradeAccepted.
const offDowngrade = "off: a bound token sent as Bearer passes as before"

// TestDPoPChecks is the table of the DPoP checks at the authorizer: for
// each kind of event, the valid request and each way to fail, in the
// order the checks run, with the reason each gets and the check the
// decision log names.
func TestDPoPChecks(t *testing.T) {
	const allowed, required, off = policy.DPoPAllowed, policy.DPoPRequired, policy.DPoPOff
	type row struct {
		name  string
		build func(d *dctx) []byte
		want  reason.Code
		check string // the dpopCheck the log line names; "" none
	}
	// valid is a request that passes: a bound token, its proof, a session
	// bound to the same key, under mode.
	valid := func(mode policy.DPoPMode, edit func(*devidp.Proof)) func(d *dctx) []byte {
		return func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(mode, d.key), []string{d.proof(tok, edit)}, nil)
		}
	}
	// signed is the client's request with a proof signed by the client's
	// key but changed by header (the proof's header) and claims.
	signed := func(header, claims map[string]any) func(d *dctx) []byte {
		return func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(tok, func(p *devidp.Proof) { p.Headers, p.Claims = header, claims })}, nil)
		}
	}
	// at is a valid request whose proof was made rel from the clock's now.
	at := func(rel time.Duration) func(d *dctx) []byte {
		return func(d *dctx) []byte {
			return valid(allowed, func(p *devidp.Proof) { p.IssuedAt = d.f.clock.Now().Add(rel) })(d)
		}
	}
	rows := []row{
		{"valid", valid(allowed, nil), reason.OK, ""},
		{"valid under required", valid(required, nil), reason.OK, ""},
		{"valid: htu with a query and fragment, host in capitals", valid(allowed, func(p *devidp.Proof) {
			p.URL = strings.Replace(p.URL, "execute-api", "EXECUTE-API", 1) + "?page=2#top"
		}), reason.OK, ""},
		{"valid: iat 60 s old", at(-60 * time.Second), reason.OK, ""},
		{"valid: iat 10 s ahead", at(10 * time.Second), reason.OK, ""},
		// The header.
		{"typ JWT", signed(map[string]any{"typ": "JWT"}, nil), reason.DPoPInvalid, dpop.CheckTyp},
		{"alg none", signed(map[string]any{"alg": "none"}, nil), reason.DPoPInvalid, dpop.CheckAlg},
		{"alg HS256", signed(map[string]any{"alg": "HS256"}, nil), reason.DPoPInvalid, dpop.CheckAlg},
		{"jwk with a private member", func(d *dctx) []byte {
			priv := map[string]any{"d": "c2VjcmV0"}
			for k, v := range d.key.JWK {
				priv[k] = v
			}
			return signed(map[string]any{"jwk": priv}, nil)(d)
		}, reason.DPoPInvalid, dpop.CheckJWK},
		{"no jwk", signed(map[string]any{"jwk": nil}, nil), reason.DPoPInvalid, dpop.CheckJWK},
		{"signed by another key than its jwk", func(d *dctx) []byte {
			return signed(map[string]any{"jwk": d.other.JWK}, nil)(d)
		}, reason.DPoPInvalid, dpop.CheckSignature},
		// Method and URL.
		{"htm POST for a GET", valid(allowed, func(p *devidp.Proof) { p.Method = "POST" }), reason.DPoPInvalid, dpop.CheckHTM},
		{"htu on another host", valid(allowed, func(p *devidp.Proof) { p.URL = "https://api.evil.example/demo" }), reason.DPoPInvalid, dpop.CheckHTU},
		{"htu on another path", valid(allowed, func(p *devidp.Proof) { p.URL += "/other" }), reason.DPoPInvalid, dpop.CheckHTU},
		{"htu with plain http", valid(allowed, func(p *devidp.Proof) { p.URL = "http" + strings.TrimPrefix(p.URL, "https") }), reason.DPoPInvalid, dpop.CheckHTU},
		// The host is requestContext.domainName's, never the Host header's,
		// which the client chooses.
		{"valid: a Host header naming another host", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(tok, nil)}, hostHeader("api.evil.example"))
		}, reason.OK, ""},
		{"htu on the Host header's host", func(d *dctx) []byte {
			tok := d.token(d.key)
			proof := d.proof(tok, func(p *devidp.Proof) {
				p.URL = "https://api.evil.example/" + p.URL[strings.Index(p.URL, "amazonaws.com/")+len("amazonaws.com/"):]
			})
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{proof}, hostHeader("api.evil.example"))
		}, reason.DPoPInvalid, dpop.CheckHTU},
		{"no domainName: the Host header's URL", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(tok, nil)}, func(m map[string]any) {
				delete(m["requestContext"].(map[string]any), "domainName")
			})
		}, reason.DPoPInvalid, dpop.CheckHTU},
		// Time.
		{"iat 61 s old", at(-61 * time.Second), reason.DPoPInvalid, dpop.CheckIAT},
		{"iat 11 s ahead", at(11 * time.Second), reason.DPoPInvalid, dpop.CheckIAT},
		// Replay.
		{"no jti", signed(nil, map[string]any{"jti": nil}), reason.DPoPInvalid, dpop.CheckJTI},
		{"a replayed proof", func(d *dctx) []byte {
			tok := d.token(d.key)
			ev := d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(tok, nil)}, nil)
			if got, _ := d.f.decide(d.t, ev); got != "allow" {
				d.t.Fatalf("the first use of the proof: %s; want allow", got)
			}
			return ev
		}, reason.DPoPInvalid, dpop.CheckJTI},
		// Binding.
		{"ath of another token", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(d.token(d.key)+"x", nil)}, nil)
		}, reason.DPoPInvalid, dpop.CheckATH},
		{"no ath", signed(nil, map[string]any{"ath": nil}), reason.DPoPInvalid, dpop.CheckATH},
		{"a token bound to another key", func(d *dctx) []byte {
			tok := d.token(d.other)
			return d.event("DPoP", tok, d.session(allowed, nil), []string{d.proof(tok, nil)}, nil)
		}, reason.DPoPInvalid, dpop.CheckJKT},
		{"an unbound token sent as DPoP", func(d *dctx) []byte {
			tok := d.token(nil)
			return d.event("DPoP", tok, d.session(allowed, nil), []string{d.proof(tok, nil)}, nil)
		}, reason.DPoPInvalid, dpop.CheckJKT},
		{"a session bound to another key", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.other), []string{d.proof(tok, nil)}, nil)
		}, reason.DPoPInvalid, dpop.CheckSession},
		// dpop_required.
		{"a bound token sent as Bearer (a downgrade)", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("Bearer", tok, d.session(allowed, d.key), []string{d.proof(tok, nil)}, nil)
		}, reason.DPoPRequired, dpop.CheckDowngrade},
		{"the DPoP scheme without a proof", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, nil), nil, nil)
		}, reason.DPoPRequired, dpop.CheckMissing},
		{"a bound session, a plain token, no proof", func(d *dctx) []byte {
			return d.event("Bearer", d.token(nil), d.session(allowed, d.key), nil, nil)
		}, reason.DPoPRequired, dpop.CheckMissing},
		{"required: a plain Bearer token", func(d *dctx) []byte {
			return d.event("Bearer", d.token(nil), d.session(required, nil), nil, nil)
		}, reason.DPoPRequired, dpop.CheckUnbound},
		{"required: a session not bound to a key", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(required, nil), []string{d.proof(tok, nil)}, nil)
		}, reason.DPoPRequired, dpop.CheckUnbound},
		// The DPoP header is an identity header.
		{"two DPoP headers in two spellings", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(tok, nil), d.proof(tok, nil)}, nil)
		}, reason.DPoPInvalid, dpop.CheckRepeated},
		{"two DPoP values joined by a comma", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(allowed, d.key), []string{d.proof(tok, nil) + "," + d.proof(tok, nil)}, nil)
		}, reason.DPoPInvalid, dpop.CheckRepeated},
		// What passes without a proof, and off.
		{"allowed: a plain Bearer token on an unbound session", func(d *dctx) []byte {
			return d.event("Bearer", d.token(nil), d.session(allowed, nil), nil, nil)
		}, reason.OK, ""},
		{offDowngrade, func(d *dctx) []byte {
			return d.event("Bearer", d.token(d.key), d.session(off, nil), nil, nil)
		}, reason.OK, ""},
		{"off: the DPoP scheme is refused", func(d *dctx) []byte {
			tok := d.token(d.key)
			return d.event("DPoP", tok, d.session(off, nil), []string{d.proof(tok, nil)}, nil)
		}, reason.TokenMalformed, dpop.CheckOff},
		{"off: a session bound to a key still needs its proof", func(d *dctx) []byte {
			return d.event("Bearer", d.token(nil), d.session(off, d.key), nil, nil)
		}, reason.DPoPRequired, dpop.CheckMissing},
	}
	for _, kind := range apiKinds {
		for _, simple := range []bool{true, false} {
			for _, r := range rows {
				t.Run(kind.name+"/"+r.name, func(t *testing.T) {
					t.Parallel()
					f := newFixture(t, options{simple: simple})
					key, err := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
					if err != nil {
						t.Fatal(err)
					}
					other, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
					d := &dctx{t: t, f: f, kind: kind, key: key, other: other}
					got, _ := d.f.decide(t, r.build(d))
					line := f.lastDecision(t)
					wantOutcome := "401"
					if r.want == reason.OK {
						wantOutcome = "allow"
					}
					if got != wantOutcome || line["reason"] != string(r.want) {
						t.Fatalf("%s, reason %v (%v); want %s, %s", got, line["reason"], line["error"], wantOutcome, r.want)
					}
					if check, _ := line["dpopCheck"].(string); check != r.check {
						t.Errorf("dpopCheck = %q; want %q (%v)", check, r.check, line["error"])
					}
					// The downgrade off lets through is named in the log, and
					// only it.
					if got := line["dpopDowngradeAccepted"] == true; got != (r.name == offDowngrade) {
						t.Errorf("dpopDowngradeAccepted in the decision line: %v; want %v", got, !got)
					}
					if r.check == dpop.CheckIAT {
						if _, ok := line["dpopSkewSeconds"].(float64); !ok {
							t.Errorf("the iat deny names no skew: %v", line)
						}
					}
				})
			}
		}
	}
}

// TestDPoPBehindACustomDomain: behind a custom domain with a base path
// mapping (api.contoso.com, base path v1, to the API's stage), the client
// calls https://api.contoso.com/v1/demo, and API Gateway describes that
// request with the custom domain as requestContext.domainName and the
// base path in the path (payload 2.0: rawPath; REST:
// requestContext.path), with no stage: a proof naming that URL passes; one
// naming the API's own execute-api URL, or the custom domain without the
// base path, is refused at htu. Both kinds of event.
func TestDPoPBehindACustomDomain(t *testing.T) {
	const host, path = "api.contoso.com", "/v1/demo"
	for _, kind := range apiKinds {
		t.Run(kind.name, func(t *testing.T) {
			f := newFixture(t, options{simple: true})
			key, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
			d := &dctx{t: t, f: f, kind: kind, key: key}
			custom := func(m map[string]any) {
				rc := m["requestContext"].(map[string]any)
				rc["domainName"] = host
				if kind.file == "authorizer/http-api-v2.json" {
					m["rawPath"] = path
					rc["http"].(map[string]any)["path"] = path
				} else {
					rc["path"] = path
				}
				for k := range m["headers"].(map[string]any) {
					if strings.EqualFold(k, "host") {
						m["headers"].(map[string]any)[k] = host
					}
				}
			}
			for _, c := range []struct {
				htu  string
				want reason.Code
			}{
				{"https://" + host + path, reason.OK},
				{kind.url, reason.DPoPInvalid},
				{"https://" + host + "/demo", reason.DPoPInvalid},
			} {
				tok := d.token(key)
				proof := key.MustSign(devidp.Proof{Method: "GET", URL: c.htu, AccessToken: tok})
				f.decide(t, d.event("DPoP", tok, d.session(policy.DPoPRequired, key), []string{proof}, custom))
				line := f.lastDecision(t)
				if line["reason"] != string(c.want) || c.want != reason.OK && line["dpopCheck"] != dpop.CheckHTU {
					t.Errorf("htu %s: %v (%v); want %s", c.htu, line["reason"], line["error"], c.want)
				}
			}
		})
	}
}

// TestDPoPPayload1OnANamedStage: an HTTP API's payload 1.0 event on a
// named stage (dev) describes the URL the client called in
// requestContext.path, stage included (/dev/demo): a proof naming that
// URL passes; one without the stage is refused at htu.
func TestDPoPPayload1OnANamedStage(t *testing.T) {
	const host = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
	f := newFixture(t, options{})
	key, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
	d := &dctx{t: t, f: f, kind: apiKind{"HTTP API payload 1.0", "authorizer/http-api-v1.json", "https://" + host + "/dev/demo"}, key: key}
	onStage := func(m map[string]any) {
		m["methodArn"] = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/demo"
		m["path"] = "/dev/demo"
		rc := m["requestContext"].(map[string]any)
		rc["stage"], rc["path"] = "dev", "/dev/demo"
	}
	for _, c := range []struct {
		htu  string
		want reason.Code
	}{
		{"https://" + host + "/dev/demo", reason.OK},
		{"https://" + host + "/demo", reason.DPoPInvalid},
	} {
		tok := d.token(key)
		proof := key.MustSign(devidp.Proof{Method: "GET", URL: c.htu, AccessToken: tok})
		f.decide(t, d.event("DPoP", tok, d.session(policy.DPoPRequired, key), []string{proof}, onStage))
		line := f.lastDecision(t)
		if line["reason"] != string(c.want) || c.want != reason.OK && line["dpopCheck"] != dpop.CheckHTU {
			t.Errorf("htu %s: %v %v (%v); want %s", c.htu, line["reason"], line["dpopCheck"], line["error"], c.want)
		}
	}
}

// TestDPoPProofCheckedOnCachedTokens: the verified-token cache keeps a
// token's cnf.jkt, and a token taken from it still needs a fresh proof on
// every request: the same token again with no proof, a replayed proof,
// or another key's proof is refused; with a new proof it passes, as a
// cache hit.
func TestDPoPProofCheckedOnCachedTokens(t *testing.T) {
	f := newFixture(t, options{simple: true})
	key, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
	other, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
	d := &dctx{t: t, f: f, kind: apiKinds[0], key: key, other: other}
	tok := d.token(key)
	sid := d.session(policy.DPoPAllowed, key)
	first := d.proof(tok, nil)
	for i, c := range []struct {
		scheme string
		proofs []string
		want   reason.Code
		check  string
	}{
		{"DPoP", []string{first}, reason.OK, ""},
		{"DPoP", nil, reason.DPoPRequired, dpop.CheckMissing},
		{"Bearer", nil, reason.DPoPRequired, dpop.CheckDowngrade},
		{"DPoP", []string{first}, reason.DPoPInvalid, dpop.CheckJTI},
		{"DPoP", []string{other.MustSign(devidp.Proof{Method: "GET", URL: d.kind.url, AccessToken: tok})}, reason.DPoPInvalid, dpop.CheckJKT},
		{"DPoP", []string{d.proof(tok, nil)}, reason.OK, ""},
	} {
		f.decide(t, d.event(c.scheme, tok, sid, c.proofs, nil))
		line := f.lastDecision(t)
		check, _ := line["dpopCheck"].(string)
		if line["reason"] != string(c.want) || check != c.check {
			t.Errorf("request %d: %v %q (%v); want %s %q", i, line["reason"], check, line["error"], c.want, c.check)
		}
		if i > 0 && line["tokenCache"] != "hit" {
			t.Errorf("request %d: tokenCache %v; want hit", i, line["tokenCache"])
		}
	}
}

// TestDPoPFailsClosed: a proof that must be checked by an authorizer
// with no replay store is denied dependency_unavailable (500), never let
// through; and an allow after a proof check by an authorizer whose
// answers API Gateway caches (AUTHORIZER_CACHE_TTL_SECONDS) is turned
// into the same deny, since the cached allow would pass the next request
// without a proof, its decision line naming the cause (dpopCheck cache).
// A plain request under allowed passes either way.
func TestDPoPFailsClosed(t *testing.T) {
	f := newFixture(t, options{simple: true})
	key, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
	d := &dctx{t: t, f: f, kind: apiKinds[0], key: key}
	bare := New(f.h.auth.verifier, f.store, f.h.auth.envs, policy.Enforcement{}, f.clock.Now)
	cached := New(f.h.auth.verifier, f.store, f.h.auth.envs, policy.Enforcement{Horizon: 5 * time.Minute}, f.clock.Now,
		WithDPoP(dpop.NewChecker(dpop.Config{Replay: f.mem, Now: f.clock.Now})))
	for _, c := range []struct {
		name  string
		a     *Authorizer
		check string // the dpopCheck the decision line names
	}{{"no replay store", bare, ""}, {"answers cached", cached, dpop.CheckCache}} {
		f.h.auth = c.a
		tok := d.token(key)
		if got, _ := f.decide(t, d.event("DPoP", tok, d.session(policy.DPoPAllowed, key), []string{d.proof(tok, nil)}, nil)); got != "500" || f.lastDecision(t)["reason"] != string(reason.DependencyUnavailable) {
			t.Errorf("%s: a request with a proof = %s %v; want 500 dependency_unavailable", c.name, got, f.lastDecision(t)["error"])
		}
		if check, _ := f.lastDecision(t)["dpopCheck"].(string); check != c.check {
			t.Errorf("%s: the decision line's dpopCheck = %q; want %q, the cause of the 500", c.name, check, c.check)
		}
		if got, _ := f.decide(t, d.event("Bearer", d.token(nil), d.session(policy.DPoPAllowed, nil), nil, nil)); got != "allow" {
			t.Errorf("%s: a plain request = %s %v; want allow", c.name, got, f.lastDecision(t)["error"])
		}
	}
}

// TestDPoPGatewayModes is the authorizer's side of each mode, with and
// without a cache: a plain Bearer request without a DPoP header, and a
// DPoP request with its proof (the authorizer reads the DPoP header from
// the event's headers, whatever identitySource says; that the template's
// and the examples' identity sources name no DPoP header is
// infra/deploy's TestAuthorizersAsTheDPoPDocsSay). The authorizer cache
// (AUTHORIZER_CACHE_TTL_SECONDS, ReauthorizeEvery) must be off wherever a
// proof is checked: with it on, a request whose proof was checked fails
// closed (500), since API Gateway would serve the cached allow to the
// next request with no proof. Off needs no proof and works with the cache.
func TestDPoPGatewayModes(t *testing.T) {
	type want struct {
		plain, dpop string // outcome of a plain Bearer request, and of a DPoP one with its proof
	}
	for _, c := range []struct {
		mode  policy.DPoPMode
		cache time.Duration
		want  want
	}{
		{policy.DPoPOff, 0, want{"allow", "401 token_malformed"}},
		{policy.DPoPOff, 30 * time.Second, want{"allow", "401 token_malformed"}},
		{policy.DPoPAllowed, 0, want{"allow", "allow"}},
		{policy.DPoPAllowed, 30 * time.Second, want{"allow", "500 dependency_unavailable"}},
		{policy.DPoPRequired, 0, want{"401 dpop_required", "allow"}},
		{policy.DPoPRequired, 30 * time.Second, want{"401 dpop_required", "500 dependency_unavailable"}},
	} {
		for _, kind := range apiKinds {
			t.Run(fmt.Sprintf("%s/cache %v/%s", c.mode, c.cache, kind.name), func(t *testing.T) {
				f := newFixture(t, options{simple: true, enforcement: policy.Enforcement{Horizon: c.cache}})
				key, _ := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
				d := &dctx{t: t, f: f, kind: kind, key: key}
				outcomeOf := func(ev []byte) string {
					got, _ := f.decide(t, ev)
					if got == "allow" {
						return got
					}
					return got + " " + f.lastDecision(t)["reason"].(string)
				}
				plain := outcomeOf(d.event("Bearer", d.token(nil), d.session(c.mode, nil), nil, nil))
				tok := d.token(key)
				sid := d.session(c.mode, nil)
				if c.mode != policy.DPoPOff {
					sid = d.session(c.mode, key)
				}
				bound := outcomeOf(d.event("DPoP", tok, sid, []string{d.proof(tok, nil)}, nil))
				if plain != c.want.plain || bound != c.want.dpop {
					t.Errorf("plain %q, DPoP %q; want %q, %q", plain, bound, c.want.plain, c.want.dpop)
				}
			})
		}
	}
}

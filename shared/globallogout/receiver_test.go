package globallogout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/backchannel"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/token"
)

// A request signed by the Okta org for its custom authorization server's
// entry ends the user's sessions in every environment and records a
// sign-out there; the user's sessions at another issuer, and other users'
// sessions, are left as they are. The subject may name the org (the
// signer) or the entry's own issuer.
func TestRevocationEndsTheUsersSessionsEverywhere(t *testing.T) {
	for _, iss := range []string{"the signer (org)", "the entry's issuer"} {
		t.Run(iss, func(t *testing.T) {
			f := newFixture(t)
			subjectIss := f.idp.URL()
			if iss == "the entry's issuer" {
				subjectIss = f.okta
			}
			prod, staging := f.session(t, f.okta, "00u-alice", "prod"), f.session(t, f.okta, "00u-alice", "staging")
			bob := f.session(t, f.okta, "00u-bob", "prod")
			elsewhere := f.session(t, f.oidc, "00u-alice", "prod") // the same id at another issuer: someone else
			raw := f.jwt(t, f.idp.URL(), nil, nil)
			if a := f.post(t, bearer(raw), issSub(subjectIss, "00u-alice")); a.status != 204 || a.body != "" {
				t.Fatalf("revocation = %d %s; want 204 with no body", a.status, a.body)
			}
			if !f.revoked(t, prod) || !f.revoked(t, staging) {
				t.Error("a session of the user is still live")
			}
			if f.revoked(t, bob) || f.revoked(t, elsewhere) {
				t.Error("another user's session, or the same id's at another issuer, was revoked")
			}
			for _, env := range []string{"prod", "staging"} {
				u, _ := f.mem.User(context.Background(), env, session.UserKey{Issuer: f.okta, Subject: "00u-alice"})
				if !u.SignedOutAt.Equal(f.clock.Now()) || !u.SessionsValidFrom.Equal(f.clock.Now()) {
					t.Errorf("%s: SignedOutAt %v, SessionsValidFrom %v; want both %v (tokens authenticated before cannot sign in)", env, u.SignedOutAt, u.SessionsValidFrom, f.clock.Now())
				}
			}
			if strings.Contains(f.logs.String(), raw) || strings.Contains(f.logs.String(), strings.Split(raw, ".")[2]) {
				t.Error("the log carries the JWT")
			}
			if !strings.Contains(f.logs.String(), `"decision":"accept"`) || !strings.Contains(f.logs.String(), `"revoked":2`) ||
				!strings.Contains(f.logs.String(), `"userId":"00u-alice"`) || !strings.Contains(f.logs.String(), `"userIssuers":["`+f.okta+`"]`) {
				t.Errorf("no accept line with the user (userId, under its issuers) and the count: %s", f.logs.String())
			}
		})
	}
}

// A user with no session gets 204 too (sessionguard keeps no directory,
// so an unknown user cannot be told from one signed out everywhere), and
// the revocation point is recorded for that user key all the same.
func TestUnknownUserIs204(t *testing.T) {
	f := newFixture(t)
	if a := f.post(t, bearer(f.jwt(t, f.idp.URL(), nil, nil)), issSub(f.okta, "00u-nobody")); a.status != 204 {
		t.Fatalf("revocation of a user with no session = %d %s; want 204", a.status, a.body)
	}
	u, _ := f.mem.User(context.Background(), "prod", session.UserKey{Issuer: f.okta, Subject: "00u-nobody"})
	if u.SignedOutAt.IsZero() {
		t.Error("no sign-out recorded for the user: a token of theirs from before could still sign in")
	}
}

// The formats a subject may take, per entry: iss_sub (also under the
// member name subject), opaque (the user's id as sessionguard keys it),
// and email only where the entry keys its users by email; iss_sub cannot
// name a user of an entry keyed by another claim than sub (or Okta's uid).
// An iss_sub whose iss is the signer's (Okta's org, signing for a custom
// authorization server) names the user by the signer's user id: it
// applies to every entry the signer signs for, the org's own entry too,
// and is refused (400, never a 204 that ends nothing) when an entry of
// another issuer keys its users otherwise than by that id (okta's uid).
// A refused subject ends no session and records no sign-out.
func TestSubjectFormats(t *testing.T) {
	// org is an entry of the org itself, which signs for its own users.
	org := func(f *fixture) Entry {
		return Entry{Issuer: f.idp.URL(), Signer: f.idp.URL(), SignerKeys: f.idp.URL() + "/jwks.json", Audience: endpointURL, Profile: "okta", UserClaim: "uid"}
	}
	for name, c := range map[string]struct {
		edit    func(*Entry)
		entries func(f *fixture) []Entry // added to the fixture's
		signer  func(f *fixture) string
		body    func(f *fixture) string
		status  int
		field   string
		says    string
		users   func(f *fixture) []session.UserKey // revoked and signed out, on 204
	}{
		"sub_id iss_sub": {
			body:   func(f *fixture) string { return issSub(f.okta, "00u-alice") },
			status: 204, users: func(f *fixture) []session.UserKey { return []session.UserKey{{Issuer: f.okta, Subject: "00u-alice"}} }},
		"subject iss_sub (the other member name)": {
			body: func(f *fixture) string {
				return `{"subject":{"format":"iss_sub","iss":"` + f.okta + `","sub":"00u-alice"}}`
			},
			status: 204, users: func(f *fixture) []session.UserKey { return []session.UserKey{{Issuer: f.okta, Subject: "00u-alice"}} }},
		"iss_sub of the signer, an entry keyed by uid": {
			body:   func(f *fixture) string { return issSub(f.idp.URL(), "00u-alice") },
			status: 204, users: func(f *fixture) []session.UserKey { return []session.UserKey{{Issuer: f.okta, Subject: "00u-alice"}} }},
		"iss_sub of the signer, an org entry too": { // the custom server's users as well
			entries: func(f *fixture) []Entry { return []Entry{org(f)} },
			body:    func(f *fixture) string { return issSub(f.idp.URL(), "00u-alice") },
			status:  204, users: func(f *fixture) []session.UserKey {
				return []session.UserKey{{Issuer: f.idp.URL(), Subject: "00u-alice"}, {Issuer: f.okta, Subject: "00u-alice"}}
			}},
		"iss_sub of the signer, an entry keyed by sub (oidc)": {
			edit:   func(e *Entry) { e.Profile, e.UserClaim = "oidc", "sub" },
			body:   func(f *fixture) string { return issSub(f.idp.URL(), "00u-alice") },
			status: 400, field: "sub_id.format", says: "opaque"},
		"iss_sub of the signer, an okta entry keyed by sub": {
			edit:   func(e *Entry) { e.UserClaim = "sub" },
			body:   func(f *fixture) string { return issSub(f.idp.URL(), "00u-alice") },
			status: 400, field: "sub_id.format", says: "opaque"},
		"iss_sub of the signer, an org entry and one keyed by sub": { // nothing applied
			edit:    func(e *Entry) { e.Profile, e.UserClaim = "oidc", "sub" },
			entries: func(f *fixture) []Entry { return []Entry{org(f)} },
			body:    func(f *fixture) string { return issSub(f.idp.URL(), "00u-alice") },
			status:  400, field: "sub_id.format", says: "opaque"},
		"iss_sub of the entry's own issuer, keyed by sub": {
			edit:   func(e *Entry) { e.Profile, e.UserClaim = "oidc", "sub" },
			body:   func(f *fixture) string { return issSub(f.okta, "alice@example.test") },
			status: 204, users: func(f *fixture) []session.UserKey {
				return []session.UserKey{{Issuer: f.okta, Subject: "alice@example.test"}}
			}},
		"opaque": {
			body:   func(*fixture) string { return `{"sub_id":{"format":"opaque","id":"00u-alice"}}` },
			status: 204, users: func(f *fixture) []session.UserKey { return []session.UserKey{{Issuer: f.okta, Subject: "00u-alice"}} }},
		"email, where the entry keys users by email": {
			edit:   func(e *Entry) { e.UserClaim = "email" },
			signer: func(f *fixture) string { return f.oidc },
			body:   func(*fixture) string { return `{"sub_id":{"format":"email","email":"alice@example.test"}}` },
			status: 204, users: func(f *fixture) []session.UserKey {
				return []session.UserKey{{Issuer: f.oidc, Subject: "alice@example.test"}}
			}},
		"email, where sessionguard records no email": {
			body:   func(*fixture) string { return `{"sub_id":{"format":"email","email":"alice@example.test"}}` },
			status: 400, field: "sub_id.format"},
		"iss_sub for an entry keyed by tenant and object id": {
			edit:   func(e *Entry) { e.UserClaim, e.TenantClaim, e.Profile = "oid", "tid", "entra" },
			body:   func(f *fixture) string { return issSub(f.okta, "00u-alice") },
			status: 400, field: "sub_id.format", says: "opaque"},
		"opaque for an entry keyed by tenant and object id": {
			edit:   func(e *Entry) { e.UserClaim, e.TenantClaim, e.Profile = "oid", "tid", "entra" },
			body:   func(*fixture) string { return `{"sub_id":{"format":"opaque","id":"tid-1/oid-1"}}` },
			status: 204, users: func(f *fixture) []session.UserKey { return []session.UserKey{{Issuer: f.okta, Subject: "tid-1/oid-1"}} }},
		"another format (account)": {
			body:   func(*fixture) string { return `{"sub_id":{"format":"account","uri":"acct:alice@example.test"}}` },
			status: 400, field: "sub_id.format"},
	} {
		t.Run(name, func(t *testing.T) {
			var edits []func(*Entry)
			if c.edit != nil {
				edits = append(edits, c.edit)
			}
			f := newFixture(t, edits...)
			if c.entries != nil {
				f.reconfigure(t, append(slices.Clone(f.entries), c.entries(f)...))
			}
			signer := f.idp.URL()
			if c.signer != nil {
				signer = c.signer(f)
			}
			// Sessions of the users a case names, and of the same id under
			// each issuer a request of the org could reach.
			keys := []session.UserKey{{Issuer: f.okta, Subject: "00u-alice"}, {Issuer: f.idp.URL(), Subject: "00u-alice"}}
			if c.users != nil {
				keys = c.users(f)
			}
			var sessions []session.Session
			for _, k := range keys {
				sessions = append(sessions, f.session(t, k.Issuer, k.Subject, "staging"))
			}
			a := f.post(t, bearer(f.jwt(t, signer, nil, nil)), c.body(f))
			if a.status != c.status || (c.field != "" && a.fields() != c.field) || (c.says != "" && !a.says(c.says)) {
				t.Fatalf("= %d %s; want %d naming %q, saying %q", a.status, a.body, c.status, c.field, c.says)
			}
			for i, k := range keys {
				switch revoked, out := f.revoked(t, sessions[i]), f.signedOut(t, "staging", k); {
				case c.status == 204 && (!revoked || out.IsZero()):
					t.Errorf("%v: session revoked %v, sign-out at %v; want revoked and signed out", k, revoked, out)
				case c.status != 204 && (revoked || !out.IsZero()):
					t.Errorf("%v: a refused request revoked the session (%v) or recorded a sign-out (%v)", k, revoked, out)
				}
			}
		})
	}
}

// Every refusal of the request's authentication and scope: its status,
// the reason code, the field named (and what it says there, where a
// refusal could be taken for another), and nothing revoked.
func TestRefusals(t *testing.T) {
	type req struct {
		auth []string // Authorization values
		body string
	}
	for name, c := range map[string]struct {
		edit     func(*Entry)
		verifier func(f *fixture) Verifier // instead of the entries' signers'
		build    func(t *testing.T, f *fixture) req
		status   int
		code     string
		field    string
		says     string
	}{
		"no Authorization": {build: func(t *testing.T, f *fixture) req { return req{body: issSub(f.okta, "00u-alice")} },
			status: 401, code: "token_missing", field: "Authorization"},
		"Basic credentials": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{"Basic b2t0YTpzZWNyZXQ="}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_missing", field: "Authorization"},
		"Bearer with nothing": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{"Bearer "}, body: issSub(f.okta, "00u-alice")}
		},
			status: 401, code: "token_missing", field: "Authorization"},
		"two Authorization values": {build: func(t *testing.T, f *fixture) req {
			raw := bearer(f.jwt(t, f.idp.URL(), nil, nil))
			return req{auth: []string{raw, raw}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization", says: "more than once"},
		"two Authorization values, the second empty": {build: func(t *testing.T, f *fixture) req {
			// Joined, the two values would be one valid Authorization.
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), nil, nil)), ""}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization", says: "more than once"},
		"not a JWT": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{"Bearer f5641763544a7b24b08e4f74045"}, body: issSub(f.okta, "00u-alice")}
		},
			status: 401, code: "token_malformed", field: "Authorization"},
		"wrong aud (another endpoint)": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"aud": "https://other.example.test/global-token-revocation"}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_audience", field: "Authorization"},
		"wrong aud (the API's audience)": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"aud": devidp.DefaultAudience}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_audience", field: "Authorization"},
		"expired": {build: func(t *testing.T, f *fixture) req {
			raw := f.jwt(t, f.idp.URL(), nil, nil)
			f.clock.Add(6*time.Minute + time.Second) // exp 5 min, skew 1 min
			return req{auth: []string{bearer(raw)}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_expired", field: "Authorization"},
		"iat too old, though exp is far": {build: func(t *testing.T, f *fixture) req {
			iat := f.clock.Now().Add(-token.RevocationMaxAge - 2*time.Minute)
			raw := f.jwt(t, f.idp.URL(), map[string]any{"iat": iat.Unix(), "exp": f.clock.Now().Add(time.Hour).Unix()}, nil)
			return req{auth: []string{bearer(raw)}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_expired", field: "Authorization"},
		"not yet valid": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"nbf": f.clock.Now().Add(5 * time.Minute).Unix()}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_not_yet_valid", field: "Authorization"},
		"an issuer not configured to sign": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.okta, nil, nil))}, body: issSub(f.okta, "00u-alice")} // the custom server: the org signs for it
		}, status: 401, code: "token_issuer", field: "Authorization"},
		"a key the signer does not publish": {build: func(t *testing.T, f *fixture) req {
			attacker, err := devidp.New("https://attacker.example.test", f.clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			forged, err := attacker.Mint(devidp.Token{Issuer: f.idp.URL(), User: caller, Audience: endpointURL, TTL: 5 * time.Minute,
				Claims: map[string]any{"jti": "forged", "azp": nil}, Headers: map[string]any{"typ": "global-token-revocation+jwt"}})
			if err != nil {
				t.Fatal(err)
			}
			return req{auth: []string{bearer(forged)}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_signature", field: "Authorization"},
		"an algorithm outside the entry's": {build: func(t *testing.T, f *fixture) req {
			raw, err := f.idp.Mint(devidp.Token{Issuer: f.idp.URL(), User: caller, Audience: endpointURL, Alg: jwa.EdDSA, TTL: 5 * time.Minute,
				Claims: map[string]any{"jti": "eddsa", "azp": nil}, Headers: map[string]any{"typ": "global-token-revocation+jwt"}})
			if err != nil {
				t.Fatal(err)
			}
			return req{auth: []string{bearer(raw)}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_signature", field: "Authorization"},
		"an access token of the signer": {build: func(t *testing.T, f *fixture) req {
			raw, err := f.idp.Mint(devidp.Token{Issuer: f.idp.URL(), User: "alice", Audience: endpointURL, Claims: map[string]any{"jti": "at-1"}})
			if err != nil {
				t.Fatal(err)
			}
			return req{auth: []string{bearer(raw)}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"typ at+jwt": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), nil, map[string]any{"typ": "at+jwt"}))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"a logout token": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"events": map[string]any{token.BackchannelLogoutEvent: map[string]any{}}},
				map[string]any{"typ": "logout+jwt"}))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"an ID token (nonce)": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"nonce": "n-0S6"}, map[string]any{"typ": "JWT"}))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"no jti": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"jti": nil}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"no sub": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"sub": nil}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"no exp": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"exp": nil}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"a jti too long to store": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), map[string]any{"jti": strings.Repeat("j", 300)}, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 401, code: "token_malformed", field: "Authorization"},
		"a verified JWT addressed to no entry's URL": { // a verifier not built from the entries
			verifier: func(f *fixture) Verifier {
				return &stubVerifier{signer: f.idp.URL(), audience: "https://other.example.test/global-token-revocation"}
			},
			build: func(t *testing.T, f *fixture) req {
				return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), nil, nil))}, body: issSub(f.okta, "00u-alice")}
			}, status: 401, code: "token_audience", field: "Authorization"},
		"a caller not configured": {edit: func(e *Entry) { e.Callers = []string{"0oa-another-app"} }, build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), nil, nil))}, body: issSub(f.okta, "00u-alice")}
		}, status: 403, code: "forbidden", field: "Authorization"},
		"another trusted issuer's subject": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), nil, nil))}, body: issSub(f.oidc, "alice")} // the org does not sign for f.oidc
		}, status: 403, code: "forbidden", field: "sub_id.iss"},
		"an unknown issuer's subject": {build: func(t *testing.T, f *fixture) req {
			return req{auth: []string{bearer(f.jwt(t, f.idp.URL(), nil, nil))}, body: issSub(f.other, "alice")}
		}, status: 403, code: "forbidden", field: "sub_id.iss"},
	} {
		t.Run(name, func(t *testing.T) {
			var edits []func(*Entry)
			if c.edit != nil {
				edits = append(edits, c.edit)
			}
			f := newFixture(t, edits...)
			if c.verifier != nil {
				f.rc.cfg.Verifier = c.verifier(f)
			}
			alice := f.session(t, f.okta, "00u-alice", "prod")
			other := f.session(t, f.oidc, "alice", "prod")
			rq := c.build(t, f)
			r := httptest.NewRequest("POST", Path, strings.NewReader(rq.body))
			r.Header.Set("Content-Type", "application/json")
			for _, v := range rq.auth {
				r.Header.Add("Authorization", v)
			}
			a := f.do(t, r)
			if a.status != c.status || a.problem.Reason != c.code || a.fields() != c.field || (c.says != "" && !a.says(c.says)) {
				t.Fatalf("= %d %s; want %d %s naming %s, saying %q\nlogs: %s", a.status, a.body, c.status, c.code, c.field, c.says, f.logs.String())
			}
			if c.status == 401 && !strings.HasPrefix(strings.Join(a.header["Www-Authenticate"], ""), "Bearer") {
				t.Errorf("a 401 without WWW-Authenticate: Bearer: %v", a.header)
			}
			if f.revoked(t, alice) || f.revoked(t, other) {
				t.Error("a refused request revoked a session")
			}
			if !strings.Contains(f.logs.String(), `"reason":"`+c.code+`"`) {
				t.Errorf("the log does not carry the reason code: %s", f.logs.String())
			}
		})
	}
}

// A request's JWT is accepted once: the same JWT again (even naming
// another user) is refused 401 and revokes nothing, for as long as the
// verifier would accept the JWT; its jti is then forgotten.
func TestReplayedJWTIsRefused(t *testing.T) {
	f := newFixture(t)
	bob := f.session(t, f.okta, "00u-bob", "prod")
	raw := f.jwt(t, f.idp.URL(), nil, nil)
	if a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice")); a.status != 204 {
		t.Fatalf("first use = %d %s; want 204", a.status, a.body)
	}
	f.clock.Add(5*time.Minute + 59*time.Second) // exp 5 min plus the 1 min skew: the last second the JWT is accepted
	a := f.post(t, bearer(raw), issSub(f.okta, "00u-bob"))
	if a.status != 401 || a.problem.Reason != "token_malformed" || !strings.Contains(a.body, "already used") {
		t.Fatalf("replay naming another user = %d %s; want 401 already used", a.status, a.body)
	}
	if f.revoked(t, bob) {
		t.Error("the replay revoked bob's session")
	}
	f.clock.Add(time.Second)
	if fresh, err := f.mem.RecordJTI(context.Background(), f.idp.URL(), jtiPrefix+jtiOf(t, raw), f.clock.Now().Add(time.Hour)); err != nil || !fresh {
		t.Errorf("the jti once the JWT is refused anyway: RecordJTI = %v, %v; want forgotten", fresh, err)
	}
}

func jtiOf(t *testing.T, raw string) string {
	t.Helper()
	var c struct {
		JTI string `json:"jti"`
	}
	payload, err := b64decode(strings.Split(raw, ".")[1])
	if err != nil || json.Unmarshal(payload, &c) != nil {
		t.Fatalf("read the jti: %v", err)
	}
	return c.JTI
}

// failingRevokes fails RevokeUser the first n times, as a DynamoDB outage
// would.
type failingRevokes struct {
	*memstore.Store
	n int
}

func (s *failingRevokes) RevokeUser(ctx context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	if s.n > 0 {
		s.n--
		return nil, errors.New("dynamodb: throttled")
	}
	return s.Store.RevokeUser(ctx, env, user, from, at, why)
}

// A request whose revocation fails is not lost: 503 with Retry-After and
// nothing internal in the body, the JWT's jti forgotten, so the IdP's
// retry of the same request is applied (204); then a replay is refused.
func TestFailedRevocationIsRetried(t *testing.T) {
	f := newFixture(t)
	s := f.session(t, f.okta, "00u-alice", "prod")
	f.rc.cfg.Store = &failingRevokes{Store: f.mem, n: 1}
	raw := f.jwt(t, f.idp.URL(), nil, nil)
	a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice"))
	if a.status != 503 || a.problem.Reason != "dependency_unavailable" || len(a.problem.Errors) != 0 || strings.Contains(a.body, "throttled") || a.header["Retry-After"] == nil {
		t.Fatalf("while revocations fail = %d %s %v; want 503 dependency_unavailable, Retry-After, nothing internal", a.status, a.body, a.header)
	}
	if f.revoked(t, s) {
		t.Fatal("revoked though the store failed")
	}
	if a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice")); a.status != 204 {
		t.Fatalf("the IdP's retry = %d %s; want 204 (applied, not a replay)", a.status, a.body)
	}
	if !f.revoked(t, s) {
		t.Error("the session is still live after the retry")
	}
	if a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice")); a.status != 401 {
		t.Errorf("a replay after it was applied = %d; want 401", a.status)
	}
}

// With no entry configured for universal logout, every request is
// refused (401 token_issuer), and a method other than POST gets 405.
func TestNotConfiguredAndOtherMethods(t *testing.T) {
	f := newFixture(t)
	bare := New(Config{Store: f.mem, Environments: []string{"prod"}})
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", Path, strings.NewReader(issSub(f.okta, "00u-alice")))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", bearer(f.jwt(t, f.idp.URL(), nil, nil)))
	bare.ServeHTTP(rec, r)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), `"token_issuer"`) {
		t.Errorf("without universalLogout = %d %s; want 401 token_issuer", rec.Code, rec.Body.String())
	}
	a := f.do(t, httptest.NewRequest("GET", Path, nil))
	if a.status != 405 || a.header.Get("Allow") != "POST" {
		t.Errorf("GET = %d %v; want 405 with Allow: POST", a.status, a.header)
	}
}

// Bad bodies, each with a valid JWT: 400 problem+json naming the field,
// nothing revoked.
func TestBadBodies(t *testing.T) {
	long := strings.Repeat("x", 300)
	for body, field := range map[string]string{
		``:                 "(body)",
		`null`:             "(body)",
		`[]`:               "(body)",
		`{"sub_id": `:      "(body)",
		`{"sub_id":{}} {}`: "(body)",
		"\xff":             "(body)",
		`{"sub_id":{"format":"opaque","id":"a"},"sub_id":{"format":"opaque","id":"b"}}`: "(body)",
		`{"sub_id":{"format":"opaque","id":"a","i\u0064":"b"}}`:                         "(body)",
		`{}`:               "sub_id",
		`{"user":"alice"}`: "user,sub_id",
		`{"sub_id":{"format":"opaque","id":"a"},"extra":1}`:                              "extra",
		`{"sub_id":{"format":"opaque","id":"a"},"subject":{"format":"opaque","id":"a"}}`: "subject",
		`{"sub_id":"alice"}`:                                 "sub_id",
		`{"sub_id":{"id":"alice"}}`:                          "sub_id.format",
		`{"sub_id":{"format":1,"id":"alice"}}`:               "sub_id.format",
		`{"sub_id":{"format":"opaque"}}`:                     "sub_id.id",
		`{"sub_id":{"format":"opaque","id":""}}`:             "sub_id.id",
		`{"sub_id":{"format":"opaque","id":null}}`:           "sub_id.id",
		`{"sub_id":{"format":"opaque","id":"a","sub":"b"}}`:  "sub_id.sub",
		`{"sub_id":{"format":"iss_sub","sub":"b"}}`:          "sub_id.iss",
		`{"sub_id":{"format":"opaque","id":"` + long + `"}}`: "sub_id.id",
		`{"sub_id":{"format":"opaque","id":"a\u0000b"}}`:     "sub_id.id",
		`{"subject":{"format":"email"}}`:                     "subject.email",
	} {
		t.Run(body, func(t *testing.T) {
			f := newFixture(t)
			s := f.session(t, f.okta, "a", "prod")
			a := f.post(t, bearer(f.jwt(t, f.idp.URL(), nil, nil)), body)
			if a.status != 400 || a.fields() != field || a.problem.Reason == "" {
				t.Fatalf("= %d %s; want 400 naming %s", a.status, a.body, field)
			}
			if f.revoked(t, s) {
				t.Error("a bad body revoked a session")
			}
		})
	}
	t.Run("Content-Type", func(t *testing.T) {
		f := newFixture(t)
		r := httptest.NewRequest("POST", Path, strings.NewReader(issSub(f.okta, "00u-alice")))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", bearer(f.jwt(t, f.idp.URL(), nil, nil)))
		if a := f.do(t, r); a.status != 400 || a.fields() != "Content-Type" {
			t.Fatalf("a form body = %d %s; want 400 naming Content-Type", a.status, a.body)
		}
	})
	t.Run("too large", func(t *testing.T) {
		f := newFixture(t)
		body := `{"sub_id":{"format":"opaque","id":"a"},"pad":"` + strings.Repeat(" ", MaxBodyBytes) + `"}`
		if a := f.post(t, bearer(f.jwt(t, f.idp.URL(), nil, nil)), body); a.status != 400 || a.fields() != "(body)" || !a.says("larger than") {
			t.Fatalf("a body over %d bytes = %d %s; want 400 naming (body), saying it is larger than that", MaxBodyBytes, a.status, a.body)
		}
	})
}

// stubVerifier accepts every bearer token as a request of the signer for
// audience (default the fixture's endpoint), each with a jti of its own:
// the fuzz test is about bodies.
type stubVerifier struct {
	signer, audience string
	n                atomic.Int64
}

func (s *stubVerifier) VerifyRevocation(context.Context, string) (token.Revocation, error) {
	aud := s.audience
	if aud == "" {
		aud = endpointURL
	}
	return token.Revocation{Issuer: s.signer, Caller: caller, Audience: []string{aud}, JTI: fmt.Sprint("fuzz-", s.n.Add(1)),
		RefusedFrom: time.Now().Add(time.Hour)}, nil
}

// No body, content type or Authorization value makes the receiver fail:
// every answer is 204, 400, 401 or 403, never a 5xx or a panic, and a
// refusal names a field.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		`{"sub_id":{"format":"iss_sub","iss":"ISS","sub":"00u-alice"}}`,
		`{"subject":{"format":"opaque","id":"00u-alice"}}`,
		`{"sub_id":{"format":"email","email":"a@example.test"}}`,
		`{"sub_id":{"format":"opaque","id":"a"},"sub_id":{}}`,
		`{"sub_id":{"format":"opaque","id":"a\u0000"}}`,
		`{"sub_id":[1,2,{"format":"opaque"}]}`,
		"{\"sub_id\":{\"format\":\"iss_sub\",\"iss\":\"\xff\",\"sub\":\"x\"}}",
	} {
		f.Add(seed, "application/json", "Bearer x")
	}
	f.Add(`{}`, "application/json; charset=utf-8", "bearer  x ")
	f.Add(`{}`, "text/plain", "")
	fx := newFixture(f)
	fx.rc.cfg.Verifier = &stubVerifier{signer: fx.idp.URL()}
	f.Fuzz(func(t *testing.T, body, contentType, auth string) {
		body = strings.ReplaceAll(body, "ISS", fx.okta)
		r := httptest.NewRequest("POST", Path, strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		fx.rc.ServeHTTP(rec, r)
		switch rec.Code {
		case 204:
		case 400, 401, 403:
			var p struct {
				Reason string `json:"reason"`
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Reason == "" || len(p.Errors) == 0 || p.Errors[0].Field == "" {
				t.Fatalf("%d %s: want problem+json with a reason code naming a field", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("body %q, Content-Type %q, Authorization %q = %d %s; want 204, 400, 401 or 403", body, contentType, auth, rec.Code, rec.Body.String())
		}
	})
}

// When the signer's key set cannot be read, the request is answered 503
// with Retry-After and nothing internal in the body, nothing is revoked,
// and the JWT's jti is not recorded: the IdP's retry of the same request,
// once the key set is back, is applied.
func TestKeySetOutageIs503(t *testing.T) {
	f := newFixture(t)
	up := f.entries
	down := slices.Clone(up)
	for i := range down {
		down[i].SignerKeys = closedURL(t) + "/jwks.json"
	}
	f.reconfigure(t, down)
	s := f.session(t, f.okta, "00u-alice", "prod")
	raw := f.jwt(t, f.idp.URL(), nil, nil)
	a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice"))
	if a.status != 503 || a.problem.Reason != "dependency_unavailable" || len(a.problem.Errors) != 0 || a.header.Get("Retry-After") == "" || strings.Contains(a.body, "127.0.0.1") {
		t.Fatalf("while the key set is down = %d %s %v; want 503 dependency_unavailable, Retry-After, nothing internal", a.status, a.body, a.header)
	}
	if f.revoked(t, s) || !f.signedOut(t, "prod", s.User).IsZero() {
		t.Fatal("revoked, or a sign-out recorded, without a verified request")
	}
	f.reconfigure(t, up)
	if a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice")); a.status != 204 {
		t.Fatalf("the IdP's retry once the key set is back = %d %s; want 204 (its jti was not recorded)", a.status, a.body)
	}
	if !f.revoked(t, s) {
		t.Error("the session is still live after the retry")
	}
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// The sign-out point is the later of the receiver's clock and the JWT's
// iat: with the receiver's clock behind the IdP's, a token the IdP
// authenticated after the receiver's now but before it signed the
// request cannot sign in. The sessions end by the receiver's clock, which
// stamped their creation.
func TestSignOutPointIsNotBeforeTheJWTsIat(t *testing.T) {
	f := newFixture(t)
	s := f.session(t, f.okta, "00u-alice", "prod")
	iat := f.clock.Now().Add(40 * time.Second) // the IdP's clock ahead, within the clock skew
	raw := f.jwt(t, f.idp.URL(), map[string]any{"iat": iat.Unix()}, nil)
	if a := f.post(t, bearer(raw), issSub(f.okta, "00u-alice")); a.status != 204 {
		t.Fatalf("revocation = %d %s; want 204", a.status, a.body)
	}
	if !f.revoked(t, s) {
		t.Error("the session is still live")
	}
	for _, env := range []string{"prod", "staging"} {
		u, _ := f.mem.User(context.Background(), env, s.User)
		if !u.SignedOutAt.Equal(iat) {
			t.Errorf("%s: SignedOutAt = %v; want the JWT's iat %v (a token authenticated before it cannot sign in)", env, u.SignedOutAt, iat)
		}
		if !u.SessionsValidFrom.Equal(f.clock.Now()) {
			t.Errorf("%s: SessionsValidFrom = %v; want the receiver's now %v", env, u.SessionsValidFrom, f.clock.Now())
		}
	}
}

// The signer's other tokens keep their jtis apart from these requests':
// a logout token (the back-channel receiver), a SET (the signals
// receiver) and a revocation request's JWT, of the same signer and the
// same jti, are each accepted once.
func TestJTIsApartFromTheSignersOtherTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	envs := []string{"prod", "staging"}
	v, err := token.NewVerifier(token.Config{Now: f.clock.Now, NoCache: true, Issuers: []token.Issuer{{Issuer: f.idp.URL(), JWKSURL: f.idp.URL() + "/jwks.json",
		Audiences: []string{devidp.SETAudience}, ClientIDs: []string{devidp.DefaultClientID}}}})
	if err != nil {
		t.Fatal(err)
	}
	bc := backchannel.New(backchannel.Config{Verifier: v, Store: f.mem, Environments: envs, Now: f.clock.Now})
	sig := signals.New(signals.Config{Verifier: v, Store: f.mem, Environments: envs, SubjectIssuers: map[string][]string{f.idp.URL(): {f.okta}}, Now: f.clock.Now})
	const jti = "shared-jti-1"
	drop := func(c map[string]any) map[string]any {
		for _, k := range []string{"sub", "azp", "auth_time", "scope", "name", "preferred_username", "roles", "ver", "tid"} {
			if _, set := c[k]; !set {
				c[k] = nil
			}
		}
		return c
	}
	logout, err := f.idp.Mint(devidp.Token{Audience: devidp.DefaultClientID, TTL: 2 * time.Minute, Headers: map[string]any{"typ": "logout+jwt"},
		Claims: drop(map[string]any{"sub": "00u-carol", "jti": jti, "events": map[string]any{token.BackchannelLogoutEvent: map[string]any{}}})})
	if err != nil {
		t.Fatal(err)
	}
	set, err := f.idp.Mint(devidp.Token{Audience: devidp.SETAudience, Headers: map[string]any{"typ": "secevent+jwt"}, Claims: drop(map[string]any{"exp": nil, "jti": jti,
		"sub_id": map[string]any{"format": "iss_sub", "iss": f.okta, "sub": "00u-bob"},
		"events": map[string]any{signals.SessionRevoked: map[string]any{"event_timestamp": f.clock.Now().Unix()}}})})
	if err != nil {
		t.Fatal(err)
	}
	postLogout := func() int {
		r := httptest.NewRequest("POST", "/backchannel-logout", strings.NewReader(url.Values{"logout_token": {logout}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		bc.ServeHTTP(w, r)
		return w.Code
	}
	revocation := f.jwt(t, f.idp.URL(), map[string]any{"jti": jti}, nil)
	if got := postLogout(); got != 200 {
		t.Fatalf("the logout token = %d; want 200", got)
	}
	if o := sig.Process(ctx, set); o.Status != 202 {
		t.Fatalf("the SET = %+v; want 202", o)
	}
	if a := f.post(t, bearer(revocation), issSub(f.okta, "00u-alice")); a.status != 204 {
		t.Fatalf("the revocation request with the same jti = %d %s; want 204 (its jti kept apart)", a.status, a.body)
	}
	if got := postLogout(); got != 400 {
		t.Errorf("the logout token again = %d; want 400 (a replay)", got)
	}
	if o := sig.Process(ctx, set); o.Status != 400 {
		t.Errorf("the SET again = %+v; want 400 (a replay)", o)
	}
	if a := f.post(t, bearer(revocation), issSub(f.okta, "00u-alice")); a.status != 401 || !strings.Contains(a.body, "already used") {
		t.Errorf("the revocation request again = %d %s; want 401 already used", a.status, a.body)
	}
}

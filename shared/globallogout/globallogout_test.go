package globallogout

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// endpointURL is the receiver's URL in these tests, as an IdP calls it.
const endpointURL = "https://api.example.test/global-token-revocation"

// caller is the app integration's id at the IdP: the JWT's sub.
const caller = "0oa-sessionguard-app"

type fixture struct {
	clock   *devidp.Clock
	idp     *devidp.Issuer
	mem     *memstore.Store
	rc      *Receiver
	logs    *bytes.Buffer
	entries []Entry
	okta    string // the okta-shaped entry's issuer, signed by the IdP's org server (idp.URL())
	oidc    string // a plain OIDC entry: issuer idp's /p/oidc, signing for itself
	other   string // a trusted issuer of the deployment without universalLogout
}

// newFixture: an Okta-like org (idp.URL(), its key set at /jwks.json)
// signing requests for the custom authorization server entry f.okta
// (profile okta: users keyed by uid), and a plain OIDC issuer f.oidc
// (users keyed by sub) signing for itself, with the same keys.
func newFixture(t testing.TB, edit ...func(*Entry)) *fixture {
	t.Helper()
	ck := devidp.NewClock(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	idp := sharedIdP(t)
	clock.Store(ck)
	f := &fixture{clock: ck, idp: idp, mem: memstore.New(ck.Now), logs: &bytes.Buffer{},
		okta: idp.URL() + "/oauth2/default", oidc: idp.ProfileIssuer("oidc"), other: "https://partner.example.test/"}
	keys := idp.URL() + "/jwks.json"
	f.entries = []Entry{
		{Issuer: f.okta, Signer: idp.URL(), SignerKeys: keys, Audience: endpointURL, Profile: "okta", UserClaim: "uid"},
		{Issuer: f.oidc, Signer: f.oidc, SignerKeys: keys, Audience: endpointURL, Profile: "oidc", UserClaim: "sub", Algorithms: []string{"RS256", "ES256"}},
	}
	for _, e := range edit {
		for i := range f.entries {
			e(&f.entries[i])
		}
	}
	f.reconfigure(t, f.entries)
	return f
}

// reconfigure gives the receiver entries, and a verifier of their signers.
func (f *fixture) reconfigure(t testing.TB, entries []Entry) {
	t.Helper()
	f.entries = entries
	f.rc = New(Config{Verifier: f.verifier(t), Entries: f.entries, Store: f.mem, Environments: []string{"prod", "staging"}, Now: f.clock.Now, Log: obs.NewLogger(f.logs)})
}

// The tests share one development issuer (its keys take a while to
// make), each fixture with a clock of its own: tests here run one at a
// time, and the issuer reads the current fixture's clock.
var (
	idpOnce sync.Once
	idp     *devidp.Issuer
	idpErr  error
	stopIdP = func() {}
	clock   atomic.Pointer[devidp.Clock]
)

func TestMain(m *testing.M) {
	code := m.Run()
	if stopIdP != nil {
		stopIdP()
	}
	os.Exit(code)
}

func sharedIdP(t testing.TB) *devidp.Issuer {
	t.Helper()
	idpOnce.Do(func() { idp, stopIdP, idpErr = devidp.NewServer(func() time.Time { return clock.Load().Now() }) })
	if idpErr != nil {
		t.Fatal(idpErr)
	}
	return idp
}

func (f *fixture) verifier(t testing.TB) *token.Verifier {
	t.Helper()
	signers, err := Signers(f.entries)
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(token.Config{Now: f.clock.Now, Issuers: signers, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var jtis int

// jwt mints a request's JWT the way Okta's Universal Logout signs one:
// RS256 with the key's kid, typ global-token-revocation+jwt, iss the
// signer, sub the calling app, aud the endpoint, a fresh jti, iat now,
// nbf five minutes back, exp five minutes ahead. edit changes claims (nil
// removes one) and headers.
func (f *fixture) jwt(t *testing.T, iss string, claims map[string]any, headers map[string]any) string {
	t.Helper()
	jtis++
	now := f.clock.Now()
	c := map[string]any{"jti": fmt.Sprintf("gtr-%d", jtis), "nbf": now.Add(-5 * time.Minute).Unix()}
	for _, k := range []string{"azp", "auth_time", "scope", "name", "preferred_username", "roles", "ver", "tid"} {
		c[k] = nil // what an access token carries and this JWT does not
	}
	for k, v := range claims {
		c[k] = v
	}
	h := map[string]any{"typ": "global-token-revocation+jwt"}
	for k, v := range headers {
		h[k] = v
	}
	raw, err := f.idp.Mint(devidp.Token{Issuer: iss, User: caller, Audience: endpointURL, TTL: 5 * time.Minute, Claims: c, Headers: h})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

type answer struct {
	status  int
	header  http.Header
	problem struct {
		Reason string `json:"reason"`
		Errors []struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	body string
}

// says reports whether one of the problem's field errors says what.
func (a answer) says(what string) bool {
	for _, e := range a.problem.Errors {
		if strings.Contains(e.Message, what) {
			return true
		}
	}
	return false
}

func (a answer) fields() string {
	var out []string
	for _, e := range a.problem.Errors {
		out = append(out, e.Field)
	}
	return strings.Join(out, ",")
}

// post sends a request with the Authorization header auth ("" for none)
// and body.
func (f *fixture) post(t *testing.T, auth, body string) answer {
	t.Helper()
	req := httptest.NewRequest("POST", Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return f.do(t, req)
}

func (f *fixture) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	f.rc.ServeHTTP(rec, req)
	a := answer{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	if rec.Code != 204 {
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("a refusal's Content-Type = %q; want application/problem+json (body %s)", ct, a.body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &a.problem); err != nil || a.problem.Reason == "" {
			t.Errorf("a refusal's body %s: %v; want problem+json with a reason code", a.body, err)
		}
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
	return a
}

// session creates a live session of user (keyed under issuer) in env.
func (f *fixture) session(t *testing.T, issuer, user, env string) session.Session {
	t.Helper()
	id, _ := session.NewID()
	s := session.Session{Hash: id.Hash(), Environment: env, User: session.UserKey{Issuer: issuer, Subject: user},
		CreatedAt: f.clock.Now().Add(-time.Minute), Settings: policy.Defaults()}
	if _, err := f.mem.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return s
}

// signedOut returns the sign-out point recorded for user in env (zero:
// none).
func (f *fixture) signedOut(t *testing.T, env string, user session.UserKey) time.Time {
	t.Helper()
	u, err := f.mem.User(context.Background(), env, user)
	if err != nil {
		t.Fatal(err)
	}
	return u.SignedOutAt
}

func (f *fixture) revoked(t *testing.T, s session.Session) bool {
	t.Helper()
	got, err := f.mem.Session(context.Background(), s.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return got.Revoked()
}

func issSub(iss, sub string) string {
	b, _ := json.Marshal(map[string]any{"sub_id": map[string]string{"format": "iss_sub", "iss": iss, "sub": sub}})
	return string(b)
}

func bearer(raw string) string { return "Bearer " + raw }

func b64decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

package wiring

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// twoIssuers starts two development issuers and a configuration that
// trusts both.
func twoIssuers(t *testing.T) (a, b *devidp.Issuer, d Deps, logs *bytes.Buffer) {
	t.Helper()
	for _, p := range []**devidp.Issuer{&a, &b} {
		idp, stop, err := devidp.NewServer(time.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		*p = idp
	}
	logs = &bytes.Buffer{}
	d = Deps{Log: obs.NewLogger(logs), Config: config.Config{
		Token: token.Config{Issuers: []token.Issuer{
			{Issuer: a.URL(), Audiences: []string{devidp.DefaultAudience}},
			{Issuer: b.URL(), Audiences: []string{devidp.DefaultAudience}},
		}},
		Environments: environment.Config{Source: "stage", Name: "environment", Known: []string{"prod"}},
		AdminRole:    "sessionguard-admin",
	}}
	return a, b, d, logs
}

// With several trusted issuers and none granting the admin role, the admin
// API refuses everyone and the start log says why; with one marked, only
// its tokens carry the role.
func TestAdminRoleFromGrantingIssuersOnly(t *testing.T) {
	a, b, d, logs := twoIssuers(t)
	admin := func(idp *devidp.Issuer) string {
		tok, err := idp.Mint(devidp.Token{User: "root", Claims: map[string]any{"roles": []string{"sessionguard-admin"}}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	get := func(d Deps, tok string) int {
		v, err := AdminVerifier(context.Background(), d, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := Admin(d, v, memstore.New(nil), nil)
		req := httptest.NewRequest("GET", "/environments/prod/settings", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, idp := range []*devidp.Issuer{a, b} {
		if got := get(d, admin(idp)); got != 403 {
			t.Errorf("no issuer grants the role: admin of %s = %d; want 403", idp.URL(), got)
		}
	}
	if !strings.Contains(logs.String(), "refuses everyone") || !strings.Contains(logs.String(), "grantsAdmin") {
		t.Errorf("the start log does not say why the admin API refuses everyone:\n%s", logs)
	}
	d.Config.Token.Issuers[0].GrantsAdmin = true
	if got := get(d, admin(a)); got != 200 {
		t.Errorf("admin of the granting issuer = %d; want 200", got)
	}
	if got := get(d, admin(b)); got != 403 {
		t.Errorf("admin of the other trusted issuer = %d; want 403", got)
	}
}

// The signals receiver is built with each transmitter's subject issuers,
// not every trusted issuer.
func TestSignalsTransmitterScope(t *testing.T) {
	a, b, d, _ := twoIssuers(t)
	d.Config.Signals = []token.Issuer{{Issuer: a.URL(), Audiences: []string{devidp.SETAudience}}}
	d.Config.SignalsSubjectIssuers = map[string][]string{a.URL(): {a.URL()}}
	v, err := SignalsVerifier(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	rc := Signals(d, v, memstore.New(nil))
	for _, c := range []struct {
		users  *devidp.Issuer
		status int
	}{{b, 400}, {a, 202}} {
		raw, err := a.Mint(devidp.Token{Audience: devidp.SETAudience, Headers: map[string]any{"typ": "secevent+jwt"}, Claims: map[string]any{
			"jti":    "jti-" + c.users.URL(),
			"sub_id": map[string]any{"format": "iss_sub", "iss": c.users.URL(), "sub": "alice"},
			"events": map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if o := rc.Process(context.Background(), raw); o.Status != c.status {
			t.Errorf("SET about a user of %s = %+v; want %d", c.users.URL(), o, c.status)
		}
	}
}

// The directory is built from its configuration; DIRECTORY=none has none.
func TestDirectory(t *testing.T) {
	base := map[string]string{"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["a"]}]`, "ENVIRONMENTS": "prod", "TABLE_NAME": "t"}
	load := func(kv ...string) Deps {
		t.Helper()
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		c, err := config.Load(func(k string) string { return m[k] })
		if err != nil {
			t.Fatal(err)
		}
		return Deps{Config: c}
	}
	noSecret := func(context.Context, string) (string, error) { t.Fatal("no secret to read"); return "", nil }
	if _, err := Directory(context.Background(), load(), nil, noSecret); err == nil {
		t.Error("Directory with DIRECTORY=none succeeded")
	}
	if d, err := Directory(context.Background(), load("DIRECTORY", "http", "DIRECTORY_URL", "https://dir.example/"), nil, noSecret); err != nil || d.BatchSize() != 1 {
		t.Errorf("Directory(http) = %v, %v", d, err)
	}
	var asked string
	secret := func(_ context.Context, ref string) (string, error) { asked = ref; return "s3cret", nil }
	d, err := Directory(context.Background(), load("DIRECTORY", "scim", "DIRECTORY_URL", "https://dir.example/", "DIRECTORY_SECRET", "ssm:/sessionguard/scim"), nil, secret)
	if s, ok := d.(*directory.SCIM); err != nil || !ok || s.Token != "s3cret" || asked != "ssm:/sessionguard/scim" {
		t.Errorf("Directory(scim) = %+v, %v (secret asked for %q); want its token from DIRECTORY_SECRET", d, err, asked)
	}
}

// A directory id maps to the user's key under each trusted issuer; Entra
// subjects carry the tenant of DIRECTORY_TOKEN_URL.
func TestDirectoryKeys(t *testing.T) {
	m := map[string]string{"ENVIRONMENTS": "prod", "TABLE_NAME": "t",
		"DIRECTORY": "graph", "DIRECTORY_TOKEN_URL": "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", "DIRECTORY_CLIENT_ID": "app", "DIRECTORY_SECRET": "ssm:/sessionguard/x",
		"TRUSTED_ISSUERS": `[{"issuer":"https://login.microsoftonline.com/tenant-1/v2.0","profile":"entra","audiences":["a"]},{"issuer":"https://idp.example/","audiences":["a"]}]`}
	c, err := config.Load(func(k string) string { return m[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := []session.UserKey{{Issuer: "https://login.microsoftonline.com/tenant-1/v2.0", Subject: "tenant-1/oid-1"}, {Issuer: "https://idp.example/", Subject: "oid-1"}}
	if got := directoryKeys(c)("oid-1"); !slices.Equal(got, want) {
		t.Errorf("directoryKeys = %v; want %v (Entra subjects carry the tenant)", got, want)
	}
}

// The global token revocation receiver, built from the configuration as
// config.Load reads it: only an entry with universalLogout signs
// requests (another trusted issuer's JWT: 401 token_issuer), and only for
// its own users (another issuer's: 403); the start log names the signers.
// Without universalLogout every request is refused.
func TestGlobalLogoutScope(t *testing.T) {
	a, b, _, _ := twoIssuers(t)
	const endpoint = "http://127.0.0.1/global-token-revocation"
	load := func(trusted string) (Deps, *bytes.Buffer) {
		t.Helper()
		c, err := config.Load(func(k string) string {
			return map[string]string{"TRUSTED_ISSUERS": trusted, "ENVIRONMENTS": "prod,staging", "TABLE_NAME": "t"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		logs := &bytes.Buffer{}
		return Deps{Config: c, Log: obs.NewLogger(logs)}, logs
	}
	post := func(rc interface {
		ServeHTTP(w http.ResponseWriter, r *http.Request)
	}, signer *devidp.Issuer, jti, subjectIss string) (int, string) {
		t.Helper()
		raw, err := signer.Mint(devidp.Token{User: "0oa-app", Audience: endpoint, TTL: 5 * time.Minute, Headers: map[string]any{"typ": "global-token-revocation+jwt"},
			Claims: map[string]any{"jti": jti, "azp": nil, "auth_time": nil}})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/global-token-revocation", strings.NewReader(`{"sub_id":{"format":"iss_sub","iss":"`+subjectIss+`","sub":"alice"}}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+raw)
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	d, logs := load(`[{"issuer":"` + a.URL() + `","audiences":["` + devidp.DefaultAudience + `"],"universalLogout":{"audience":"` + endpoint + `"}},
		{"issuer":"` + b.URL() + `","audiences":["` + devidp.DefaultAudience + `"]}]`)
	store := memstore.New(nil)
	rc := GlobalLogout(d, store)
	if !strings.Contains(logs.String(), "universal logout accepted from these signers only") || !strings.Contains(logs.String(), a.URL()) {
		t.Errorf("start log = %s; want the signers named", logs.String())
	}
	for _, c := range []struct {
		signer, users *devidp.Issuer
		status        int
		reason        string
	}{{b, b, 401, "token_issuer"}, {a, b, 403, "forbidden"}, {a, a, 204, ""}} {
		status, body := post(rc, c.signer, "jti-"+c.signer.URL()+c.users.URL(), c.users.URL())
		if status != c.status || !strings.Contains(body, c.reason) {
			t.Errorf("signed by %s, naming a user of %s = %d %s; want %d %s", c.signer.URL(), c.users.URL(), status, body, c.status, c.reason)
		}
	}
	for _, env := range []string{"prod", "staging"} {
		if u, _ := store.User(context.Background(), env, session.UserKey{Issuer: a.URL(), Subject: "alice"}); u.SignedOutAt.IsZero() {
			t.Errorf("%s: no sign-out recorded for a's alice", env)
		}
		if u, _ := store.User(context.Background(), env, session.UserKey{Issuer: b.URL(), Subject: "alice"}); !u.SignedOutAt.IsZero() {
			t.Errorf("%s: a sign-out recorded for b's alice", env)
		}
	}
	d, logs = load(`[{"issuer":"` + a.URL() + `","audiences":["` + devidp.DefaultAudience + `"]}]`)
	if status, body := post(GlobalLogout(d, memstore.New(nil)), a, "jti-none", a.URL()); status != 401 || !strings.Contains(body, "token_issuer") || strings.Contains(logs.String(), "universal logout") {
		t.Errorf("without universalLogout = %d %s (logs %s); want 401 token_issuer and no start line", status, body, logs.String())
	}
}

// snapshotSpy is a store that counts the key-set snapshots written to it.
type snapshotSpy struct {
	*memstore.Store
	puts atomic.Int64
}

func (s *snapshotSpy) PutKeySetSnapshot(ctx context.Context, snap token.KeySetSnapshot) error {
	s.puts.Add(1)
	return s.Store.PutKeySetSnapshot(ctx, snap)
}

// The global token revocation receiver's verifier writes no key-set
// snapshot, even with a snapshot store in the token configuration it
// starts from: a copy of a signer's keys must never become keys the
// access-token verifiers trust.
func TestGlobalLogoutWritesNoKeySetSnapshot(t *testing.T) {
	a, _, _, _ := twoIssuers(t)
	const endpoint = "http://127.0.0.1/global-token-revocation"
	c, err := config.Load(func(k string) string {
		return map[string]string{"ENVIRONMENTS": "prod", "TABLE_NAME": "t",
			"TRUSTED_ISSUERS": `[{"issuer":"` + a.URL() + `","audiences":["` + devidp.DefaultAudience + `"],"universalLogout":{"audience":"` + endpoint + `"}}]`}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	store := &snapshotSpy{Store: memstore.New(nil)}
	c.Token.Snapshots = store
	rc := GlobalLogout(Deps{Config: c, Log: obs.NewLogger(&bytes.Buffer{})}, store)
	raw, err := a.Mint(devidp.Token{User: "0oa-app", Audience: endpoint, TTL: 5 * time.Minute, Headers: map[string]any{"typ": "global-token-revocation+jwt"},
		Claims: map[string]any{"jti": "jti-snapshot", "azp": nil, "auth_time": nil}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/global-token-revocation", strings.NewReader(`{"sub_id":{"format":"iss_sub","iss":"`+a.URL()+`","sub":"alice"}}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+raw)
	w := httptest.NewRecorder()
	rc.ServeHTTP(w, r)
	if w.Code != 204 {
		t.Fatalf("revocation = %d %s; want 204 (the signer's keys fetched)", w.Code, w.Body.String())
	}
	if n := store.puts.Load(); n != 0 {
		t.Errorf("PutKeySetSnapshot called %d times; want none", n)
	}
}

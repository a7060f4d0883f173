package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	evfiles "github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/token"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

type fixture struct {
	idp   *devidp.Issuer
	clock *devidp.Clock
	store *memstore.Store
	api   *API
	auth  *authorizer.Authorizer
	logs  *bytes.Buffer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ck := devidp.NewClock(t0)
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}, Now: ck.Now, Roles: true})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(ck.Now)
	logs := &bytes.Buffer{}
	api := New(Config{Verifier: v, Store: store, Environments: []string{"demo", "staging"}, Issuers: []string{idp.URL()}, AdminIssuers: []string{idp.URL()},
		Log: obs.NewLogger(logs), Now: ck.Now})
	envs := environment.Config{Source: "fixed", Name: "demo", Known: []string{"demo", "staging"}}
	return &fixture{idp: idp, clock: ck, store: store, api: api, logs: logs,
		auth: authorizer.New(v, store, envs, policy.Enforcement{}, ck.Now)}
}

func (f *fixture) token(t testing.TB, user string, roles ...string) string {
	t.Helper()
	claims := map[string]any{}
	if roles != nil {
		claims["roles"] = roles
	}
	tok, err := f.idp.Mint(devidp.Token{User: user, Claims: claims})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) admin(t testing.TB) string { return f.token(t, "root", "sessionguard-admin") }

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// fields lists the fields a problem body names.
func (r response) fields(t testing.TB) []string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q; want application/problem+json (status %d, body %s)", ct, r.status, r.body)
	}
	var p struct{ Errors []struct{ Field string } }
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func (f *fixture) call(t testing.TB, method, path, tok string, header map[string]string, body string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// Every admin event file goes through the Lambda runtime's decode/encode
// path, the API Gateway proxy adapter, and the API.
func TestEventFiles(t *testing.T) {
	names, err := evfiles.Names("settings")
	if err != nil || len(names) == 0 {
		t.Fatalf("event files: %v, %v", names, err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			ev, err := evfiles.Load(name, map[string]string{"__ACCESS_TOKEN__": f.admin(t), "__SESSION_ID__": "unused-by-the-admin-api"})
			if err != nil {
				t.Fatal(err)
			}
			out, err := lambda.NewHandler(httpadapter.NewV2(f.api).ProxyWithContext).Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Errorf("status = %d (%s); want 200", resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestAccess(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name, path, tok string
		status          int
		reason          reason.Code
	}{
		{"no token", "/environments/demo/settings", "", 401, reason.TokenMissing},
		{"not a JWT", "/environments/demo/settings", "garbage", 401, reason.TokenMalformed},
		{"no admin role", "/environments/demo/settings", f.token(t, "mallory"), 403, reason.Forbidden},
		{"another role", "/environments/demo/settings", f.token(t, "mallory", "reader", "sessionguard-admin-x"), 403, reason.Forbidden},
		{"admin of another environment", "/environments/demo/settings", f.token(t, "sam", "sessionguard-admin:staging"), 403, reason.Forbidden},
		{"admin of this environment", "/environments/staging/settings", f.token(t, "sam", "sessionguard-admin:staging"), 200, ""},
		{"global admin", "/environments/demo/settings", f.admin(t), 200, ""},
		{"unknown environment", "/environments/nope/settings", f.admin(t), 404, reason.EnvironmentUnknown},
		{"environments, no role", "/environments", f.token(t, "mallory"), 403, reason.Forbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.call(t, "GET", c.path, c.tok, nil, "")
			if r.status != c.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, c.status)
			}
			if c.reason != "" {
				if got := r.json(t)["reason"]; got != string(c.reason) {
					t.Errorf("reason = %v; want %s", got, c.reason)
				}
				r.fields(t) // a problem body
			}
		})
	}
	r := f.call(t, "GET", "/environments", f.token(t, "sam", "sessionguard-admin:staging"), nil, "")
	if envs := r.json(t)["environments"].([]any); r.status != 200 || len(envs) != 1 || envs[0].(map[string]any)["id"] != "staging" {
		t.Errorf("GET /environments as staging admin = %d %s; want just staging", r.status, r.body)
	}
	// The admin API reads no identity from headers: a forged authorizer
	// context or user header does not make a caller an admin.
	r = f.call(t, "GET", "/environments/demo/settings", f.token(t, "mallory"), map[string]string{
		"X-Apigateway-Context": `{"authorizer":{"lambda":{"userId":"root","roles":"sessionguard-admin"}}}`, "X-User-Id": "root"}, "")
	if r.status != 403 {
		t.Errorf("forged context: status = %d; want 403", r.status)
	}
	if strings.Contains(f.logs.String(), "eyJ") {
		t.Errorf("a token reached the log:\n%s", f.logs.String())
	}
}

// The admin role is taken only from the trusted issuers that grant it: a
// token of another trusted issuer is refused (403) whatever roles it
// carries, and with no granting issuer everyone is.
func TestAdminRoleOnlyFromGrantingIssuers(t *testing.T) {
	f := newFixture(t)
	partner, stop, err := devidp.NewServer(f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Now: f.clock.Now, Roles: true, Issuers: []token.Issuer{
		{Issuer: f.idp.URL(), Audiences: []string{devidp.DefaultAudience}},
		{Issuer: partner.URL(), Audiences: []string{devidp.DefaultAudience}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(idp *devidp.Issuer, roles ...string) string {
		tok, err := idp.Mint(devidp.Token{User: "root", Claims: map[string]any{"roles": roles}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, c := range []struct {
		name    string
		granted []string
		tok     string
		status  int
	}{
		{"the granting issuer's admin", []string{f.idp.URL()}, mint(f.idp, "sessionguard-admin"), 200},
		{"another trusted issuer's admin", []string{f.idp.URL()}, mint(partner, "sessionguard-admin"), 403},
		{"another trusted issuer's environment admin", []string{f.idp.URL()}, mint(partner, "sessionguard-admin:demo"), 403},
		{"no granting issuer", nil, mint(f.idp, "sessionguard-admin"), 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.api = New(Config{Verifier: v, Store: f.store, Environments: []string{"demo", "staging"}, Issuers: []string{f.idp.URL(), partner.URL()},
				AdminIssuers: c.granted, Log: obs.NewLogger(f.logs), Now: f.clock.Now})
			for _, path := range []string{"/environments/demo/settings", "/environments"} {
				if r := f.call(t, "GET", path, c.tok, nil, ""); r.status != c.status {
					t.Errorf("GET %s = %d (%s); want %d", path, r.status, r.body, c.status)
				}
			}
			r := f.call(t, "POST", "/environments/demo/users/alice/revoke?issuer="+f.idp.URL(), c.tok, nil, "")
			if c.status == 403 && r.status != 403 {
				t.Errorf("POST revoke = %d (%s); want 403", r.status, r.body)
			}
		})
	}
}

func TestSettingsVersions(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	r := f.call(t, "GET", "/environments/demo/settings", adm, nil, "")
	if r.status != 200 || r.header.Get("ETag") != `"0"` {
		t.Fatalf("GET = %d ETag %q; want 200 \"0\"", r.status, r.header.Get("ETag"))
	}
	body := `{"sessionExpiration":{"enabled":true,"maxSessionMinutes":480,"warningMinutes":30}}`
	if r := f.call(t, "PUT", "/environments/demo/settings", adm, nil, body); r.status != 428 || !contains(r.fields(t), "If-Match") {
		t.Errorf("PUT without If-Match = %d %s; want 428 naming If-Match", r.status, r.body)
	}
	if r := f.call(t, "PUT", "/environments/demo/settings", adm, map[string]string{"If-Match": "*"}, body); r.status != 428 {
		t.Errorf("PUT with If-Match * = %d; want 428 (a wildcard would skip the lost-update check)", r.status)
	}
	r = f.call(t, "PUT", "/environments/demo/settings", adm, map[string]string{"If-Match": `"0"`}, body)
	if r.status != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("PUT = %d %s ETag %q; want 200 \"1\"", r.status, r.body, r.header.Get("ETag"))
	}
	r = f.call(t, "PUT", "/environments/demo/settings", adm, map[string]string{"If-Match": `"0"`}, `{}`)
	if r.status != 412 || r.header.Get("ETag") != `"1"` || !contains(r.fields(t), "If-Match") {
		t.Errorf("stale PUT = %d ETag %q %s; want 412 with the current ETag", r.status, r.header.Get("ETag"), r.body)
	}
	r = f.call(t, "GET", "/environments/demo/settings/history", adm, nil, "")
	changes := r.json(t)["changes"].([]any)
	if len(changes) != 1 {
		t.Fatalf("history = %s; want one change", r.body)
	}
	c := changes[0].(map[string]any)
	if c["version"] != 1.0 || !strings.HasPrefix(c["actor"].(string), "root (") || c["new"].(map[string]any)["sessionExpiration"].(map[string]any)["maxSessionMinutes"] != 480.0 ||
		c["old"].(map[string]any)["sessionExpiration"].(map[string]any)["enabled"] != false {
		t.Errorf("history entry = %v; want version 1 by root with old and new values", c)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSettingsValidation(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	im := map[string]string{"If-Match": `"0"`}
	for _, c := range []struct {
		name, query, body string
		status            int
		fields            []string
	}{
		{"out of range and unknown", "", `{"sessionExpiration":{"enabled":true,"maxSessionMinutes":1441},"inactivityTimeout":{"enabled":true,"minutes":4},"typo":1}`,
			400, []string{"sessionExpiration.maxSessionMinutes", "inactivityTimeout.minutes", "typo"}},
		{"wrong type", "", `{"maxSessionsPerUser":"three"}`, 400, []string{"maxSessionsPerUser"}},
		{"not JSON", "", `{"sessionExpiration":`, 400, nil},
		{"too large", "", `{"exemptClients":["` + strings.Repeat("a", MaxBodyBytes) + `"]}`, 413, []string{"body"}},
		{"bad applyToRunning", "?applyToRunning=yes", `{}`, 400, []string{"applyToRunning"}},
		{"unknown preset", "?preset=nope", ``, 400, []string{"preset"}},
		{"preset and a body", "?preset=outlook-web", `{}`, 400, []string{"body"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.call(t, "PUT", "/environments/demo/settings"+c.query, adm, im, c.body)
			if r.status != c.status {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, c.status)
			}
			got := r.fields(t)
			for _, want := range c.fields {
				if !contains(got, want) {
					t.Errorf("fields = %v; want %s among them", got, want)
				}
			}
			if c.fields == nil && len(got) == 0 {
				t.Errorf("problem names no field: %s", r.body)
			}
		})
	}
	if _, v, _ := f.store.Settings(context.Background(), "demo"); v != 0 {
		t.Errorf("a rejected write changed the settings: version %d", v)
	}
}

// signIn creates a session for user under the environment's current
// settings, as the sessions API does, and returns its id.
func (f *fixture) signIn(t testing.TB, user string, staySignedIn bool) session.ID {
	t.Helper()
	ctx := context.Background()
	s, v, err := f.store.Settings(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := session.NewID()
	now := f.clock.Now()
	sess := session.Session{Hash: id.Hash(), Environment: "demo", User: session.UserKey{Issuer: f.idp.URL(), Subject: user},
		ClientID: devidp.DefaultClientID, CreatedAt: now, AuthTime: now, StaySignedIn: staySignedIn && s.StaySignedIn.Allowed,
		SettingsVersion: v, Settings: s, Device: "Firefox on Linux"}
	if _, err := f.store.Create(ctx, sess, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return id
}

// request is one request through the authorizer at the clock's time, with
// a fresh token; it records activity like the handler does.
func (f *fixture) request(t testing.TB, id session.ID, user string) authorizer.Result {
	t.Helper()
	tok, err := f.idp.Mint(devidp.Token{User: user})
	if err != nil {
		t.Fatal(err)
	}
	r := f.auth.Check(context.Background(), authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()})
	if _, err := f.auth.RecordActivity(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// probe judges the session at the clock's time without recording activity
// (as GET /sessions/current does): the way to look at a boundary without
// moving it.
func (f *fixture) probe(t testing.TB, id session.ID, user string) authorizer.Result {
	t.Helper()
	tok, err := f.idp.Mint(devidp.Token{User: user})
	if err != nil {
		t.Fatal(err)
	}
	return f.auth.Check(context.Background(), authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()})
}

func (f *fixture) at(t testing.TB, d time.Duration) { f.clock.Add(d - f.clock.Now().Sub(t0)) }

func TestApplyToRunningSessions(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	id := f.signIn(t, "alice", false)
	capped := `{"sessionExpiration":{"enabled":true,"maxSessionMinutes":60}}`
	if r := f.call(t, "PUT", "/environments/demo/settings", adm, map[string]string{"If-Match": `"0"`}, capped); r.status != 200 {
		t.Fatalf("PUT = %d %s", r.status, r.body)
	}
	f.at(t, 2*time.Hour)
	if r := f.request(t, id, "alice"); !r.Allowed() {
		t.Fatalf("by default a change waits for the next sign-in; got %s", r.Reason)
	}
	if r := f.call(t, "PUT", "/environments/demo/settings?applyToRunning=true", f.admin(t), map[string]string{"If-Match": `"1"`}, capped); r.status != 200 {
		t.Fatalf("PUT = %d %s", r.status, r.body)
	}
	if r := f.request(t, id, "alice"); r.Reason != reason.SessionExpired {
		t.Errorf("after applying the 60-minute cap to running sessions, a 2-hour-old session = %s; want session_expired", r.Reason)
	}
}

// Each preset: a session under it ends exactly when the service it copies
// would end it.
func TestPresets(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		preset string
		ssi    bool
		run    func(t *testing.T, f *fixture, id session.ID)
	}{
		{"idp-default", false, func(t *testing.T, f *fixture, id session.ID) {
			f.at(t, 30*day)
			if r := f.request(t, id, "alice"); !r.Allowed() || !r.Decision.ExpiresAt.IsZero() || !r.Decision.IdleExpiresAt.IsZero() {
				t.Errorf("after 30 idle days = %s %+v; want allowed, no caps", r.Reason, r.Decision)
			}
		}},
		{"dataverse-default", false, func(t *testing.T, f *fixture, id session.ID) {
			f.at(t, 1440*time.Minute-time.Second)
			r := f.probe(t, id, "alice")
			if !r.Allowed() || !r.Decision.WarnAt.Equal(t0.Add(1420*time.Minute)) {
				t.Errorf("one second before 24 h = %s warnAt %v; want allowed, warning at 23h40", r.Reason, r.Decision.WarnAt)
			}
			f.at(t, 1440*time.Minute)
			if r := f.probe(t, id, "alice"); r.Reason != reason.SessionExpired {
				t.Errorf("at 24 h = %s; want session_expired", r.Reason)
			}
		}},
		{"admin-portal", false, func(t *testing.T, f *fixture, id session.ID) {
			f.at(t, 8*time.Hour-time.Second)
			if r := f.probe(t, id, "alice"); !r.Allowed() {
				t.Errorf("one second before 8 h = %s; want allowed", r.Reason)
			}
			f.at(t, 8*time.Hour)
			if r := f.probe(t, id, "alice"); r.Reason != reason.SessionExpired {
				t.Errorf("at 8 h = %s; want session_expired", r.Reason)
			}
		}},
		{"outlook-web", false, func(t *testing.T, f *fixture, id session.ID) {
			f.at(t, 5*time.Hour)
			f.request(t, id, "alice") // activity restarts the 6 hours
			f.at(t, 11*time.Hour-time.Second)
			if r := f.probe(t, id, "alice"); !r.Allowed() || !r.Decision.IdleExpiresAt.Equal(t0.Add(11*time.Hour)) {
				t.Errorf("6 h minus 1 s after the last request = %s idle end %v; want allowed, ending at 11 h", r.Reason, r.Decision.IdleExpiresAt)
			}
			f.at(t, 11*time.Hour)
			if r := f.probe(t, id, "alice"); r.Reason != reason.SessionIdle {
				t.Errorf("6 h after the last request = %s; want session_idle", r.Reason)
			}
		}},
		{"sharepoint", true, func(t *testing.T, f *fixture, id session.ID) {
			// A return 23 h after sign-in does not renew: the 5 days still
			// count from sign-in.
			f.at(t, 23*time.Hour)
			f.request(t, id, "alice")
			f.at(t, 5*day-time.Second)
			if r := f.probe(t, id, "alice"); !r.Allowed() {
				t.Errorf("5 days minus 1 s = %s; want allowed", r.Reason)
			}
			f.at(t, 5*day)
			if r := f.probe(t, id, "alice"); r.Reason != reason.SessionIdle {
				t.Errorf("5 days after sign-in, renewed at no point = %s; want session_idle", r.Reason)
			}
		}},
		{"sharepoint", true, func(t *testing.T, f *fixture, id session.ID) {
			// A return 24 h after sign-in starts the 5 days afresh.
			f.at(t, 24*time.Hour)
			f.request(t, id, "alice")
			f.at(t, 6*day-time.Second)
			if r := f.probe(t, id, "alice"); !r.Allowed() {
				t.Errorf("5 days minus 1 s after the 24 h return = %s; want allowed", r.Reason)
			}
			f.at(t, 6*day)
			if r := f.probe(t, id, "alice"); r.Reason != reason.SessionIdle {
				t.Errorf("5 days after the 24 h return = %s; want session_idle", r.Reason)
			}
		}},
		{"browser-lifetime", true, func(t *testing.T, f *fixture, id session.ID) {
			s, _ := f.store.Session(context.Background(), id.Hash())
			if s.StaySignedIn {
				t.Errorf("a stay-signed-in request got a persistent session; want a browser-session one")
			}
			f.at(t, 30*day)
			if r := f.request(t, id, "alice"); !r.Allowed() {
				t.Errorf("after 30 days = %s; want allowed (the browser ends it)", r.Reason)
			}
		}},
	} {
		t.Run(c.preset, func(t *testing.T) {
			t.Parallel() // each preset has its own issuer, store and API
			f := newFixture(t)
			r := f.call(t, "PUT", "/environments/demo/settings?preset="+c.preset, f.admin(t), map[string]string{"If-Match": `"0"`}, "")
			if r.status != 200 {
				t.Fatalf("PUT preset = %d %s", r.status, r.body)
			}
			h := f.call(t, "GET", "/environments/demo/settings/history", f.admin(t), nil, "")
			if ch := h.json(t)["changes"].([]any)[0].(map[string]any); ch["preset"] != c.preset {
				t.Errorf("history records preset %v; want %s", ch["preset"], c.preset)
			}
			c.run(t, f, f.signIn(t, "alice", c.ssi))
		})
	}
}

func TestSessionsAdmin(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	var ids []session.ID
	for range 3 {
		ids = append(ids, f.signIn(t, "alice", false))
		f.clock.Add(time.Second)
	}
	f.signIn(t, "bob", false)
	list := func() []any {
		r := f.call(t, "GET", "/environments/demo/sessions?user=alice", adm, nil, "")
		if r.status != 200 {
			t.Fatalf("list = %d %s", r.status, r.body)
		}
		return r.json(t)["sessions"].([]any)
	}
	got := list()
	if len(got) != 3 || got[0].(map[string]any)["id"] != ids[0].Hash().String() {
		t.Fatalf("sessions = %v; want alice's 3, oldest first, by hash", got)
	}
	if strings.Contains(f.call(t, "GET", "/environments/demo/sessions?user=alice", adm, nil, "").json(t)["sessions"].([]any)[0].(map[string]any)["id"].(string), ids[0].Reveal()) {
		t.Fatal("the listing shows a raw session id")
	}
	path := "/environments/demo/sessions/" + ids[0].Hash().String()
	for i := range 2 { // idempotent
		if r := f.call(t, "DELETE", path, adm, nil, ""); r.status != 204 {
			t.Errorf("DELETE #%d = %d %s; want 204", i+1, r.status, r.body)
		}
	}
	if r := f.request(t, ids[0], "alice"); r.Reason != reason.SessionRevoked {
		t.Errorf("request on the revoked session = %s; want session_revoked", r.Reason)
	}
	if r := f.call(t, "DELETE", "/environments/staging/sessions/"+ids[1].Hash().String(), adm, nil, ""); r.status != 404 {
		t.Errorf("DELETE through another environment = %d; want 404", r.status)
	}
	if r := f.call(t, "DELETE", "/environments/demo/sessions/not-a-hash", adm, nil, ""); r.status != 400 || !contains(r.fields(t), "id") {
		t.Errorf("DELETE bad id = %d %s; want 400 naming id", r.status, r.body)
	}
	if len(list()) != 2 {
		t.Errorf("after one revocation alice has %d sessions; want 2", len(list()))
	}
	r := f.call(t, "POST", "/environments/demo/users/alice/revoke", adm, nil, "")
	if r.status != 200 || r.json(t)["revoked"] != 2.0 {
		t.Errorf("revoke all of alice = %d %s; want 2 revoked", r.status, r.body)
	}
	if len(list()) != 0 {
		t.Errorf("alice still has sessions")
	}
	if r := f.call(t, "GET", "/environments/demo/sessions", adm, nil, ""); r.status != 400 || !contains(r.fields(t), "user") {
		t.Errorf("list without user = %d; want 400 naming user", r.status)
	}
	if r := f.call(t, "GET", "/environments/demo/sessions?user=bob&issuer=https://evil.example/", adm, nil, ""); r.status != 400 || !contains(r.fields(t), "issuer") {
		t.Errorf("list with an untrusted issuer = %d; want 400 naming issuer", r.status)
	}
	if r := f.call(t, "GET", "/environments/demo/sessions?user=bob&cursor=xyz", adm, nil, ""); r.status != 400 || !contains(r.fields(t), "cursor") {
		t.Errorf("list with a bad cursor = %d; want 400 naming cursor", r.status)
	}
}

func TestAudits(t *testing.T) {
	f := newFixture(t)
	if err := f.store.PutReport(context.Background(), audit.Record{Environment: "demo", At: t0, Body: []byte(`{"activeSessions":3}`)}); err != nil {
		t.Fatal(err)
	}
	r := f.call(t, "GET", "/environments/demo/audits", f.admin(t), nil, "")
	reps := r.json(t)["reports"].([]any)
	if r.status != 200 || len(reps) != 1 || reps[0].(map[string]any)["report"].(map[string]any)["activeSessions"] != 3.0 {
		t.Errorf("audits = %d %s; want the stored report", r.status, r.body)
	}
}

func TestRoutesAnswerProblems(t *testing.T) {
	f := newFixture(t)
	if r := f.call(t, "GET", "/nope", f.admin(t), nil, ""); r.status != 404 {
		t.Errorf("GET /nope = %d; want 404", r.status)
	} else {
		r.fields(t)
	}
	r := f.call(t, "POST", "/environments/demo/settings", f.admin(t), nil, "{}")
	if r.status != 405 || !strings.Contains(r.header.Get("Allow"), "PUT") {
		t.Errorf("POST settings = %d Allow %q; want 405 allowing GET, PUT", r.status, r.header.Get("Allow"))
	}
	r.fields(t)
}

// The settings body never panics the API or earns a 5xx; every rejection
// is a 4xx problem.
func FuzzSettingsBody(f *testing.F) {
	for _, seed := range []string{`{}`, `{"sessionExpiration":{"enabled":true,"maxSessionMinutes":60,"warningMinutes":59}}`,
		`{"inactivityTimeout":{"enabled":true,"minutes":1e309}}`, `{"exemptClients":[1,null]}`, `[`, `null`, `{"a":`, "\xff"} {
		f.Add(seed)
	}
	fx := newFixture(f)
	adm := fx.admin(f)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("PUT", "/environments/demo/settings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adm)
		_, v, _ := fx.store.Settings(context.Background(), "demo")
		req.Header.Set("If-Match", etag(v))
		rec := httptest.NewRecorder()
		fx.api.ServeHTTP(rec, req)
		switch {
		case rec.Code == 200:
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d without a problem body", rec.Code)
			}
		default:
			b, _ := io.ReadAll(rec.Body)
			t.Fatalf("status %d for body %q: %s", rec.Code, body, b)
		}
	})
}

// The revocation-latency budget follows the settings and the deployment's
// enforcement: a 30 s authorizer cache, hourly checks with 15 min of
// slack, a 5-minute idle timeout.
func TestBudget(t *testing.T) {
	f := newFixture(t)
	f.api.cfg.Enforcement = policy.Enforcement{PolicyChecks: true, CheckSlack: 15 * time.Minute, Horizon: 30 * time.Second}
	s := policy.Defaults()
	s.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 5}
	if err := f.store.PutSettings(context.Background(), policy.SettingsChange{Environment: "demo", Version: 1, At: t0, Actor: "t", Old: policy.Defaults(), New: s}); err != nil {
		t.Fatal(err)
	}
	r := f.call(t, "GET", "/environments/demo/budget", f.admin(t), nil, "")
	b := r.json(t)
	if r.status != 200 || b["revocationSeconds"] != 30.0 || b["policyCheckSeconds"] != 4530.0 || b["idleEndsEarlySeconds"] != 30.0 || b["settingsVersion"] != 1.0 {
		t.Fatalf("budget = %d %s; want revocation 30 s, policy check 4530 s, idle 30 s early, version 1", r.status, r.body)
	}
	if r := f.call(t, "GET", "/environments/demo/budget", f.token(t, "bob"), nil, ""); r.status != 403 {
		t.Errorf("budget without the admin role = %d; want 403", r.status)
	}
}

// Shared Signals streams through the admin API, at the development
// transmitter: set up (push to a real receiver), verify, pause, list.
func TestTransmitterStreams(t *testing.T) {
	f := newFixture(t)
	sv, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: f.idp.URL(), Audiences: []string{devidp.SETAudience}}}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	rc := signals.New(signals.Config{Verifier: sv, Store: f.store, Verifications: f.store, Environments: []string{"demo"}, SubjectIssuers: map[string][]string{f.idp.URL(): {f.idp.URL()}}, Now: f.clock.Now})
	push := httptest.NewServer(rc)
	defer push.Close()
	f.api.cfg.Transmitters = []string{f.idp.URL()}
	f.api.cfg.StreamStore = f.store
	f.api.cfg.Streams = &ssf.Manager{Store: f.store, PushURL: push.URL, Now: f.clock.Now, Transmitters: []ssf.Transmitter{{Issuer: f.idp.URL(), Audience: devidp.SETAudience,
		Credential: func(context.Context) (string, error) { return devidp.TransmitterCredential, nil }}}}
	q := "?issuer=" + url.QueryEscape(f.idp.URL())
	admin := f.admin(t)

	if r := f.call(t, "PUT", "/transmitters/stream"+q, f.token(t, "ops", "sessionguard-admin:demo"), nil, `{"delivery":"push"}`); r.status != 403 {
		t.Errorf("an environment admin setting up a stream: %d; want 403 (transmitters serve every environment)", r.status)
	}
	if r := f.call(t, "PUT", "/transmitters/stream?issuer=https://nope.example", admin, nil, `{"delivery":"push"}`); r.status != 400 || r.fields(t)[0] != "issuer" {
		t.Errorf("an unknown transmitter: %d %s; want 400 naming issuer", r.status, r.body)
	}
	if r := f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"pigeon"}`); r.status != 400 || r.fields(t)[0] != "delivery" {
		t.Errorf("a bad delivery: %d %s; want 400 naming delivery", r.status, r.body)
	}
	for _, body := range []string{`{"delivery":"pigeon","delivery":"push"}`, `{"delivery":"push"} {"delivery":"poll"}`} {
		if r := f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, body); r.status != 400 || r.fields(t)[0] != "delivery" {
			t.Errorf("body %s: %d %s; want 400 (a member twice, or two values)", body, r.status, r.body)
		}
	}
	if r := f.call(t, "POST", "/transmitters/stream/verify"+q, admin, nil, ""); r.status != 409 {
		t.Errorf("verify before setup: %d; want 409", r.status)
	}
	r := f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	stream, _ := r.json(t)["stream"].(map[string]any)
	if r.status != 200 || stream["streamId"] == "" || stream["delivery"] != "push" {
		t.Fatalf("setup = %d %s; want a push stream", r.status, r.body)
	}
	r = f.call(t, "POST", "/transmitters/stream/verify"+q, admin, nil, "")
	if r.status != 200 || r.json(t)["verified"] != true {
		t.Fatalf("verify = %d %s; want verified (the event arrived at the receiver)", r.status, r.body)
	}
	r = f.call(t, "PUT", "/transmitters/stream/status"+q, admin, nil, `{"status":"paused","reason":"maintenance"}`)
	if r.status != 200 || r.json(t)["status"] != "paused" {
		t.Fatalf("status = %d %s; want paused", r.status, r.body)
	}
	r = f.call(t, "GET", "/transmitters", admin, nil, "")
	list, _ := r.json(t)["transmitters"].([]any)
	if r.status != 200 || len(list) != 1 || get(list[0], "status", "status") != "paused" || get(list[0], "stream", "verified") != true {
		t.Fatalf("transmitters = %d %s; want one, paused and verified", r.status, r.body)
	}
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// syncBuffer collects log lines from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type fixture struct {
	idp   *devidp.Issuer
	clock *devidp.Clock
	store Store
	mem   *memstore.Store
	h     *Handler
	logs  *syncBuffer
}

type options struct {
	simple      bool
	enforcement policy.Enforcement
	store       func(*memstore.Store) Store
}

func newFixture(t testing.TB, o options) *fixture {
	t.Helper()
	ck := devidp.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}, Algorithms: []string{"RS256", "ES256", "EdDSA"}}},
		Now:     ck.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mem := memstore.New(ck.Now)
	var store Store = mem
	if o.store != nil {
		store = o.store(mem)
	}
	envs := environment.Config{Source: "stage", Name: "environment", Known: []string{"demo", "staging"}}
	logs := &syncBuffer{}
	a := New(v, store, envs, o.enforcement, ck.Now, WithDPoP(dpop.NewChecker(dpop.Config{Replay: mem, Now: ck.Now})))
	h := NewHandler(a, HandlerOptions{SimpleResponses: o.simple, Log: obs.NewLogger(logs)})
	return &fixture{idp: idp, clock: ck, store: store, mem: mem, h: h, logs: logs}
}

func (f *fixture) token(t testing.TB, tok devidp.Token) string {
	t.Helper()
	if tok.User == "" {
		tok.User = "alice"
	}
	s, err := f.idp.Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type sessionSpec struct {
	user     string
	env      string
	settings *policy.Settings
	ssi      bool
	client   string
	key      string // the thumbprint of the key the session is bound to (DPoP)
}

// session stores a session as sign-in would, at the clock's now.
func (f *fixture) session(t testing.TB, sp sessionSpec) session.ID {
	t.Helper()
	id, err := session.NewID()
	if err != nil {
		t.Fatal(err)
	}
	s := policy.Defaults()
	if sp.settings != nil {
		s = *sp.settings
	}
	if sp.user == "" {
		sp.user = "alice"
	}
	if sp.env == "" {
		sp.env = "demo"
	}
	if sp.client == "" {
		sp.client = devidp.DefaultClientID
	}
	_, err = f.mem.Create(context.Background(), session.Session{
		Hash: id.Hash(), Environment: sp.env, User: session.UserKey{Issuer: f.idp.URL(), Subject: sp.user},
		ClientID: sp.client, CreatedAt: f.clock.Now(), AuthTime: f.clock.Now(), StaySignedIn: sp.ssi, Settings: s, DPoPKey: sp.key,
	}, session.Limit{}, func(session.Session) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func load(t testing.TB, name, tok, sid string) []byte {
	t.Helper()
	ev, err := events.Load(name, map[string]string{events.AccessToken: tok, events.SessionID: sid})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// invoke runs an event through the Lambda runtime's handler path.
func (f *fixture) invoke(t testing.TB, ev []byte) ([]byte, error) {
	t.Helper()
	return lambda.NewHandler(f.h).Invoke(context.Background(), ev)
}

// decide invokes ev and classifies the outcome.
func (f *fixture) decide(t testing.TB, ev []byte) (string, map[string]any) {
	t.Helper()
	out, err := f.invoke(t, ev)
	return outcome(t, out, err)
}

// outcome classifies a response: "allow", "403" or "401", plus the context.
func outcome(t testing.TB, out []byte, err error) (string, map[string]any) {
	t.Helper()
	if err != nil {
		if err.Error() == "Unauthorized" {
			return "401", nil
		}
		return "500", nil
	}
	var simple awsevents.APIGatewayV2CustomAuthorizerSimpleResponse
	if json.Unmarshal(out, &simple) == nil && bytes.Contains(out, []byte(`"isAuthorized"`)) {
		if simple.IsAuthorized {
			return "allow", simple.Context
		}
		return "403", simple.Context
	}
	var iam awsevents.APIGatewayCustomAuthorizerResponse
	if err := json.Unmarshal(out, &iam); err != nil {
		t.Fatalf("response %s is neither shape: %v", out, err)
	}
	if len(iam.PolicyDocument.Statement) != 1 {
		t.Fatalf("response %s: want one statement", out)
	}
	st := iam.PolicyDocument.Statement[0]
	if st.Action[0] != "execute-api:Invoke" || len(st.Resource) != 1 || !strings.HasSuffix(st.Resource[0], "/*") {
		t.Fatalf("statement %+v: want execute-api:Invoke on the stage wildcard", st)
	}
	if st.Effect == "Allow" {
		return "allow", iam.Context
	}
	return "403", iam.Context
}

// lastDecision returns the last decision log line.
func (f *fixture) lastDecision(t testing.TB) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("log line %q: %v", lines[len(lines)-1], err)
	}
	return m
}

func TestEveryEventFileAllows(t *testing.T) {
	for _, simple := range []bool{true, false} {
		f := newFixture(t, options{simple: simple})
		names, err := events.Names("authorizer")
		if err != nil || len(names) == 0 {
			t.Fatalf("events: %v %v", names, err)
		}
		for _, name := range names {
			sid := f.session(t, sessionSpec{})
			out, err := f.invoke(t, load(t, name, f.token(t, devidp.Token{}), sid.Reveal()))
			got, ctx := outcome(t, out, err)
			if got != "allow" {
				t.Fatalf("%s (simple=%v): %s %v; want allow (%s)", name, simple, got, err, f.lastDecision(t)["error"])
			}
			if ctx["userId"] != "alice" || ctx["environment"] != "demo" || ctx["sessionId"] != sid.Hash().Prefix() {
				t.Fatalf("%s: context %v", name, ctx)
			}
			if simple && strings.Contains(name, "v2") && !bytes.Contains(out, []byte(`"isAuthorized":true`)) {
				t.Fatalf("%s: HTTP API simple mode answered %s", name, out)
			}
		}
	}
}

func TestReasonCodes(t *testing.T) {
	short := policy.Defaults()
	short.SessionExpiration = policy.SessionExpiration{Enabled: true, MaxSessionMinutes: 60, WarningMinutes: 10}
	idle := policy.Defaults()
	idle.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 10}
	const ev = "authorizer/http-api-v2.json"

	tests := []struct {
		name   string
		o      options
		build  func(t *testing.T, f *fixture) []byte
		want   reason.Code
		status string
	}{
		{"token_missing", options{}, func(t *testing.T, f *fixture) []byte {
			return bytes.Replace(load(t, ev, "x", f.session(t, sessionSpec{}).Reveal()), []byte(`"authorization": "Bearer x",`), nil, 1)
		}, reason.TokenMissing, "401"},
		{"token_malformed (not bearer)", options{}, func(t *testing.T, f *fixture) []byte {
			return bytes.Replace(load(t, ev, "x", f.session(t, sessionSpec{}).Reveal()), []byte(`"Bearer x"`), []byte(`"Basic YWxpY2U6cHc="`), -1)
		}, reason.TokenMalformed, "401"},
		{"token_malformed", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, "not.a-token", f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenMalformed, "401"},
		{"token_signature", options{}, func(t *testing.T, f *fixture) []byte {
			tok := f.token(t, devidp.Token{})
			return load(t, ev, tok[:len(tok)-6]+"AAAAAA", f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenSignature, "401"},
		{"token_expired", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{TTL: -time.Hour}), f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenExpired, "401"},
		{"token_not_yet_valid", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{NotBefore: f.clock.Now().Add(time.Hour)}), f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenNotYetValid, "401"},
		{"token_issuer", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{Issuer: "https://login.evil.example"}), f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenIssuer, "401"},
		{"token_audience", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{Audience: "api://payroll"}), f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenAudience, "401"},
		{"token_too_large", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{Claims: map[string]any{"pad": strings.Repeat("x", 9000)}}), f.session(t, sessionSpec{}).Reveal())
		}, reason.TokenTooLarge, "401"},
		{"session_missing", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{}), "")
		}, reason.SessionMissing, "401"},
		{"session_unknown", options{}, func(t *testing.T, f *fixture) []byte {
			id, _ := session.NewID()
			return load(t, ev, f.token(t, devidp.Token{}), id.Reveal())
		}, reason.SessionUnknown, "401"},
		{"session_unknown (malformed id)", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{}), "../../etc/passwd")
		}, reason.SessionUnknown, "401"},
		{"binding_user: another user's token on a valid session", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{User: "mallory"}), f.session(t, sessionSpec{user: "alice"}).Reveal())
		}, reason.BindingUser, "403"},
		{"binding_environment: a session from another environment", options{}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{}), f.session(t, sessionSpec{env: "staging"}).Reveal())
		}, reason.BindingEnvironment, "403"},
		{"environment_unknown", options{}, func(t *testing.T, f *fixture) []byte {
			return bytes.Replace(load(t, ev, f.token(t, devidp.Token{}), f.session(t, sessionSpec{}).Reveal()), []byte(`"environment": "demo"`), []byte(`"environment": "prod"`), 1)
		}, reason.EnvironmentUnknown, "403"},
		{"session_expired", options{}, func(t *testing.T, f *fixture) []byte {
			sid := f.session(t, sessionSpec{settings: &short})
			f.clock.Add(time.Hour)
			return load(t, ev, f.token(t, devidp.Token{}), sid.Reveal())
		}, reason.SessionExpired, "401"},
		{"session_idle", options{}, func(t *testing.T, f *fixture) []byte {
			sid := f.session(t, sessionSpec{settings: &idle})
			f.clock.Add(10 * time.Minute)
			return load(t, ev, f.token(t, devidp.Token{}), sid.Reveal())
		}, reason.SessionIdle, "401"},
		{"session_revoked", options{}, func(t *testing.T, f *fixture) []byte {
			sid := f.session(t, sessionSpec{})
			f.mem.Revoke(context.Background(), sid.Hash(), f.clock.Now(), "sign_out")
			return load(t, ev, f.token(t, devidp.Token{}), sid.Reveal())
		}, reason.SessionRevoked, "401"},
		{"user_disabled", options{}, func(t *testing.T, f *fixture) []byte {
			sid := f.session(t, sessionSpec{})
			f.mem.DisableUser(context.Background(), "demo", session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}, f.clock.Now())
			return load(t, ev, f.token(t, devidp.Token{}), sid.Reveal())
		}, reason.UserDisabled, "401"},
		{"policy_check_stale", options{enforcement: policy.Enforcement{PolicyChecks: true, CheckSlack: 15 * time.Minute}}, func(t *testing.T, f *fixture) []byte {
			sid := f.session(t, sessionSpec{})
			f.clock.Add(75 * time.Minute)
			return load(t, ev, f.token(t, devidp.Token{}), sid.Reveal())
		}, reason.PolicyCheckStale, "401"},
		{"dependency_unavailable (JWKS down, nothing cached)", options{}, func(t *testing.T, f *fixture) []byte {
			f.idp.SetDown(true)
			return load(t, ev, f.token(t, devidp.Token{}), f.session(t, sessionSpec{}).Reveal())
		}, reason.DependencyUnavailable, "500"},
		{"dependency_unavailable (store down)", options{store: func(m *memstore.Store) Store { return failingStore{m} }}, func(t *testing.T, f *fixture) []byte {
			return load(t, ev, f.token(t, devidp.Token{}), f.session(t, sessionSpec{}).Reveal())
		}, reason.DependencyUnavailable, "500"},
		{"forbidden (not an authorizer event)", options{}, func(t *testing.T, f *fixture) []byte {
			return []byte(`{"Records":[]}`)
		}, reason.Forbidden, "500"},
	}
	for _, simple := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel() // each case has its own issuer, store and handler
				o := tt.o
				o.simple = simple
				f := newFixture(t, o)
				out, err := f.invoke(t, tt.build(t, f))
				got, ctx := outcome(t, out, err)
				line := f.lastDecision(t)
				if got != tt.status || line["reason"] != string(tt.want) {
					t.Fatalf("outcome %s, logged reason %v (%v); want %s, %s", got, line["reason"], line["error"], tt.status, tt.want)
				}
				if got == "403" && ctx["reason"] != string(tt.want) {
					t.Fatalf("403 context %v; want reason %s", ctx, tt.want)
				}
			})
		}
	}
}

type failingStore struct{ *memstore.Store }

func (failingStore) Lookup(context.Context, session.Hash, string, session.UserKey) (session.Session, session.User, error) {
	return session.Session{}, session.User{}, errors.New("dynamo: get session: connection refused")
}

func TestSignOutThenReuse(t *testing.T) {
	f := newFixture(t, options{simple: true})
	sid := f.session(t, sessionSpec{})
	ev := load(t, "authorizer/http-api-v2.json", f.token(t, devidp.Token{}), sid.Reveal())
	if got, _ := f.decide(t, ev); got != "allow" {
		t.Fatalf("before sign-out: %s", got)
	}
	if _, _, err := f.mem.Revoke(context.Background(), sid.Hash(), f.clock.Now(), "sign_out"); err != nil {
		t.Fatal(err)
	}
	// The same session id, even with a brand-new token, is refused for good.
	f.clock.Add(time.Second)
	ev = load(t, "authorizer/http-api-v2.json", f.token(t, devidp.Token{}), sid.Reveal())
	if got, _ := f.decide(t, ev); got != "401" || f.lastDecision(t)["reason"] != "session_revoked" {
		t.Fatalf("after sign-out: %s %v; want 401 session_revoked", got, f.lastDecision(t)["reason"])
	}
}

func TestAllowContextAndExpiryWarning(t *testing.T) {
	f := newFixture(t, options{})
	s := policy.Defaults()
	s.SessionExpiration = policy.SessionExpiration{Enabled: true, MaxSessionMinutes: 480, WarningMinutes: 20}
	s.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 60}
	start := f.clock.Now()
	sid := f.session(t, sessionSpec{settings: &s})
	f.clock.Add(5 * time.Minute)
	out, err := f.invoke(t, load(t, "authorizer/rest-request.json", f.token(t, devidp.Token{}), sid.Reveal()))
	got, ctx := outcome(t, out, err)
	want := map[string]any{
		"userId": "alice", "environment": "demo", "sessionId": sid.Hash().Prefix(), "clientId": devidp.DefaultClientID,
		"expiresAt":     start.Add(8 * time.Hour).Format(time.RFC3339),
		"warnAt":        start.Add(8*time.Hour - 20*time.Minute).Format(time.RFC3339),
		"idleExpiresAt": start.Add(time.Hour).Format(time.RFC3339), // activity is recorded after this decision
		"staySignedIn":  false,
	}
	if got != "allow" {
		t.Fatalf("outcome %s", got)
	}
	for k, v := range want {
		if ctx[k] != v {
			t.Errorf("context[%s] = %v; want %v", k, ctx[k], v)
		}
	}
	// REST contexts must be flat: strings, numbers and booleans only.
	for k, v := range ctx {
		switch v.(type) {
		case string, float64, bool:
		default:
			t.Errorf("context[%s] is %T; REST allows only flat values", k, v)
		}
	}
}

func TestActivityIsRateLimited(t *testing.T) {
	f := newFixture(t, options{simple: true})
	s := policy.Defaults()
	s.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 5} // interval: 30s
	sid := f.session(t, sessionSpec{settings: &s})
	tok := f.token(t, devidp.Token{})
	ev := load(t, "authorizer/http-api-v2.json", tok, sid.Reveal())
	activity := func() time.Time {
		got, _ := f.mem.Session(context.Background(), sid.Hash())
		return got.LastActivityAt
	}
	// 20 requests over 29s: no write (the interval has not passed since sign-in).
	for range 20 {
		if got, _ := f.decide(t, ev); got != "allow" {
			t.Fatal(got)
		}
		f.clock.Add(1450 * time.Millisecond)
	}
	if !activity().IsZero() {
		t.Fatalf("activity written within the first interval: %v", activity())
	}
	f.clock.Add(2 * time.Second)
	f.invoke(t, ev)
	first := activity()
	if first.IsZero() {
		t.Fatal("no activity recorded after the interval")
	}
	f.invoke(t, ev)
	if activity() != first {
		t.Fatal("a second write within the interval")
	}
	// Activity keeps the session alive past the idle timeout from sign-in.
	for range 12 {
		f.clock.Add(31 * time.Second)
		if got, _ := f.decide(t, ev); got != "allow" {
			t.Fatalf("active session denied: %v", f.lastDecision(t)["reason"])
		}
	}
	f.clock.Add(5*time.Minute + time.Second)
	if got, _ := f.decide(t, ev); got != "401" || f.lastDecision(t)["reason"] != "session_idle" {
		t.Fatalf("after 5 idle minutes: %s %v", got, f.lastDecision(t)["reason"])
	}
}

func TestLogsNeverCarryTokensOrSessionIDs(t *testing.T) {
	f := newFixture(t, options{simple: true})
	sid := f.session(t, sessionSpec{})
	tok := f.token(t, devidp.Token{Alg: jwa.ES256})
	for _, mutate := range []func(string) string{
		func(s string) string { return s },
		func(s string) string { return s[:len(s)-4] + "AAAA" },
		func(s string) string { return "garbage." + s },
	} {
		f.invoke(t, load(t, "authorizer/http-api-v2.json", mutate(tok), sid.Reveal()))
		f.invoke(t, load(t, "authorizer/rest-request.json", mutate(tok), sid.Reveal()))
	}
	logs := f.logs.String()
	parts := strings.Split(tok, ".")
	for _, secret := range []string{sid.Reveal(), parts[1][:40], parts[2][:20]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret %q:\n%s", secret, logs)
		}
	}
	line := f.lastDecision(t)
	for _, k := range []string{"requestId", "environment", "decision", "reason", "latencyMs", "_aws"} {
		if _, ok := line[k]; !ok {
			t.Errorf("decision line lacks %q: %v", k, line)
		}
	}
}

func FuzzInvokeNeverPanics(f *testing.F) {
	fx := newFixture(f, options{simple: true})
	// EdDSA tokens: a signature check under the fuzzer's coverage
	// instrumentation costs far less than RSA's, so mutations of the rest
	// of the event get explored.
	for _, name := range []string{"authorizer/http-api-v2.json", "authorizer/rest-request.json", "authorizer/http-api-v1.json"} {
		f.Add(load(f, name, fx.token(f, devidp.Token{Alg: jwa.EdDSA}), fx.session(f, sessionSpec{}).Reveal()))
	}
	// DPoP requests on sessions bound to an EdDSA key (cheap to verify),
	// on both kinds of event.
	if key, err := devidp.NewDPoPKey(jwa.EdDSA, fx.clock.Now); err == nil {
		for _, kind := range apiKinds {
			d := &dctx{t: f, f: fx, kind: kind, key: key}
			tok := fx.token(f, devidp.Token{Alg: jwa.EdDSA, Claims: map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint}}})
			f.Add(d.event("DPoP", tok, d.session(policy.DPoPAllowed, key), []string{d.proof(tok, nil)}, nil))
		}
	}
	var logs bytes.Buffer
	fx.h.log = obs.NewLogger(&logs)
	f.Fuzz(func(t *testing.T, ev []byte) {
		logs.Reset()
		out, err := fx.h.Invoke(context.Background(), ev)
		if err == nil && !json.Valid(out) {
			t.Fatalf("invalid JSON response %q", out)
		}
		decisionReason(t, logs.Bytes())
	})
}

// decisionReason checks that a decision was logged with a reason code of
// docs/reason-codes.md (or ok), and returns it.
func decisionReason(t *testing.T, logs []byte) reason.Code {
	t.Helper()
	var line struct{ Msg, Reason string }
	if err := json.Unmarshal(bytes.TrimSpace(logs), &line); err != nil || line.Msg != "decision" {
		t.Fatalf("no single decision line: %q", logs)
	}
	c := reason.Code(line.Reason)
	if c != reason.OK && !slices.Contains(reason.All, c) {
		t.Fatalf("decision reason %q is not a reason code", line.Reason)
	}
	return c
}

// The session id reader: whatever a client puts in the session header and
// the Cookie header, only the session's own id is accepted, and anything
// else is a deny with a reason code.
func FuzzSessionIDReader(f *testing.F) {
	fx := newFixture(f, options{simple: true})
	tok := fx.token(f, devidp.Token{Alg: jwa.EdDSA})
	sid := fx.session(f, sessionSpec{}).Reveal()
	var base map[string]any
	if err := json.Unmarshal(load(f, "authorizer/http-api-v2.json", tok, sid), &base); err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][2]string{{sid, ""}, {"", "__Host-sg_session=" + sid}, {"", "a=b; __Host-sg_session=\"" + sid + "\""},
		{strings.Repeat("A", 43), ""}, {sid + " ", ""}, {"", "__Host-sg_session=" + sid + "; __Host-sg_session=x"}, {"\x00", "\xff=;"}} {
		f.Add(seed[0], seed[1])
	}
	var logs bytes.Buffer
	fx.h.log = obs.NewLogger(&logs)
	f.Fuzz(func(t *testing.T, header, cookie string) {
		ev := map[string]any{}
		for k, v := range base {
			ev[k] = v
		}
		h := map[string]any{"authorization": "Bearer " + tok}
		if header != "" {
			h["x-session-id"] = header
		}
		ev["headers"] = h
		ev["cookies"] = []string{cookie}
		payload, _ := json.Marshal(ev)
		logs.Reset()
		out, _ := fx.h.Invoke(context.Background(), payload)
		c := decisionReason(t, logs.Bytes())
		allowed := strings.Contains(string(out), `"isAuthorized":true`)
		if allowed != (c == reason.OK) {
			t.Fatalf("response %s with reason %s", out, c)
		}
		if allowed && header != sid && !(header == "" && strings.Contains(cookie, sid)) {
			t.Fatalf("allowed with header %q, cookie %q", header, cookie)
		}
	})
}

// The runtime reuses one payload buffer for every invocation: decisions
// made one after another in the same buffer never mix up whose token was
// read (the handler copies what it keeps out of the payload).
func TestReusedPayloadBuffer(t *testing.T) {
	f := newFixture(t, options{simple: true})
	h := lambda.NewHandler(f.h)
	var evs [][]byte
	for _, user := range []string{"alice", "bobby"} { // same length: same event size
		tok := f.token(t, devidp.Token{User: user})
		evs = append(evs, load(t, "authorizer/http-api-v2.json", tok, f.session(t, sessionSpec{user: user}).Reveal()))
	}
	buf := make([]byte, 0, 2*len(evs[0]))
	for i := range 20 {
		want := []string{"alice", "bobby"}[i%2]
		buf = append(buf[:0], evs[i%2]...)
		out, err := h.Invoke(context.Background(), buf)
		if err != nil || !strings.Contains(string(out), `"userId":"`+want+`"`) {
			t.Fatalf("decision %d = %s, %v; want an allow for %s", i, out, err, want)
		}
		for j := range buf { // the runtime's next read overwrites the buffer
			buf[j] = 'x'
		}
	}
}

// TestRepeatedIdentityHeaders: a REST event whose multiValueHeaders carry
// two Authorization values, or two session ids, is refused whichever
// value API Gateway put in headers; and an event that names a member twice
// (escaped or not) is not read at all.
func TestRepeatedIdentityHeaders(t *testing.T) {
	f := newFixture(t, options{})
	tok := f.token(t, devidp.Token{})
	sid := f.session(t, sessionSpec{}).Reveal()
	other := f.token(t, devidp.Token{User: "mallory"})
	ev := string(load(t, "authorizer/rest-request.json", tok, sid))
	if got, _ := f.decide(t, []byte(ev)); got != "allow" {
		t.Fatalf("the unchanged REST event = %s; want allow", got)
	}
	for _, c := range []struct {
		name, from, to string
		want           reason.Code
		status         string
	}{
		{"two Authorization values", `"Authorization": ["Bearer ` + tok + `"]`, `"Authorization": ["Bearer ` + other + `", "Bearer ` + tok + `"]`, reason.TokenMalformed, "401"},
		{"two session ids", `"X-Session-Id": ["` + sid + `"]`, `"X-Session-Id": ["` + sid + `", "` + sid + `"]`, reason.SessionUnknown, "401"},
		{"lower-case name, two values", `"Authorization": ["Bearer ` + tok + `"]`, `"authorization": ["Bearer ` + tok + `", "Bearer ` + tok + `"]`, reason.TokenMalformed, "401"},
	} {
		t.Run(c.name, func(t *testing.T) {
			changed := strings.Replace(ev, c.from, c.to, 1)
			if changed == ev {
				t.Fatalf("%q not found in the event", c.from)
			}
			if got, _ := f.decide(t, []byte(changed)); got != c.status {
				t.Fatalf("decision = %s; want %s", got, c.status)
			}
			if got := f.lastDecision(t)["reason"]; got != string(c.want) {
				t.Fatalf("reason = %v; want %s", got, c.want)
			}
		})
	}
	for _, c := range []struct{ name, from, to string }{
		{"duplicate headers member", `"headers": {`, `"headers": {"Authorization": "Bearer ` + other + `",`},
		{"duplicate escaped member", `"headers": {`, `"headers": {"Authorizatio\u006e": "Bearer ` + other + `",`},
		{"duplicate top-level member", `"type": "REQUEST",`, `"type": "REQUEST", "type": "REQUEST",`},
	} {
		t.Run(c.name, func(t *testing.T) {
			changed := strings.Replace(ev, c.from, c.to, 1)
			if got, _ := f.decide(t, []byte(changed)); got == "allow" {
				t.Fatalf("decision = allow; want a refusal")
			}
			line := f.lastDecision(t)
			if line["reason"] != string(reason.Forbidden) || line["decision"] != "error" || line["status"] != float64(500) {
				t.Fatalf("logged decision %v, reason %v, status %v; want error, forbidden (unreadable event), 500 as answered", line["decision"], line["reason"], line["status"])
			}
		})
	}
}

func TestDecisionLogSaysWhetherTheTokenWasCached(t *testing.T) {
	f := newFixture(t, options{simple: true})
	sid := f.session(t, sessionSpec{})
	ev := load(t, "authorizer/http-api-v2.json", f.token(t, devidp.Token{}), sid.Reveal())
	for _, want := range []string{"miss", "hit"} {
		if got, _ := f.decide(t, ev); got != "allow" {
			t.Fatalf("decision = %s (%v); want allow", got, f.lastDecision(t)["reason"])
		}
		if got := f.lastDecision(t)["tokenCache"]; got != want {
			t.Fatalf("decision line tokenCache = %v; want %q", got, want)
		}
		// The fixture's verifier fetched its keys (no snapshots): the line
		// says so, hit or miss.
		if got := f.lastDecision(t)["keySource"]; got != "idp" {
			t.Fatalf("decision line keySource = %v; want idp", got)
		}
	}
}

package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/events"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

const receiverID = "https://sessionguard.example/signals"

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

type fixture struct {
	clock *devidp.Clock
	tx    *devidp.Issuer // the transmitter
	users string         // the access-token issuer
	store *memstore.Store
	rc    *Receiver
	alice session.UserKey
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ck := devidp.NewClock(t0)
	tx, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: tx.URL(), Audiences: []string{receiverID}}}, Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(ck.Now)
	users := "https://login.example/"
	f := &fixture{clock: ck, tx: tx, users: users, store: store, alice: session.UserKey{Issuer: users, Subject: "alice"},
		rc: New(Config{Verifier: v, Store: store, Environments: []string{"prod", "staging"}, SubjectIssuers: map[string][]string{tx.URL(): {users}}, Now: ck.Now})}
	for _, env := range []string{"prod", "staging"} {
		for _, u := range []string{"alice", "bob"} {
			id, _ := session.NewID()
			s := session.Session{Hash: id.Hash(), Environment: env, User: session.UserKey{Issuer: users, Subject: u}, CreatedAt: t0, Settings: policy.Defaults()}
			if _, err := store.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// set mints a SET about alice; edit changes its claims or headers.
func (f *fixture) set(t testing.TB, event, jti string, edit func(tok *devidp.Token)) string {
	t.Helper()
	tok := devidp.Token{Audience: receiverID, Headers: map[string]any{"typ": "secevent+jwt"}, Claims: map[string]any{
		"jti":    jti,
		"sub_id": map[string]any{"format": "iss_sub", "iss": f.users, "sub": "alice"},
		"events": map[string]any{event: map[string]any{"event_timestamp": t0.Unix()}},
	}}
	if edit != nil {
		edit(&tok)
	}
	raw, err := f.tx.Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (f *fixture) push(t *testing.T, body, contentType string) (int, map[string]string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/signals", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	f.rc.ServeHTTP(rec, req)
	var out map[string]string
	json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// live counts alice's and bob's live sessions over both environments.
func (f *fixture) live(t *testing.T) (alice, bob int) {
	t.Helper()
	for _, env := range []string{"prod", "staging"} {
		a, _, _ := f.store.UserSessions(context.Background(), env, f.alice, session.Page{})
		b, _, _ := f.store.UserSessions(context.Background(), env, session.UserKey{Issuer: f.users, Subject: "bob"}, session.Page{})
		alice, bob = alice+len(a), bob+len(b)
	}
	return alice, bob
}

func TestEventsRevoke(t *testing.T) {
	for _, c := range []struct {
		event    string
		disabled bool
	}{{SessionRevoked, false}, {CredentialChange, false}, {AccountDisabled, true}, {AccountPurged, true}} {
		t.Run(c.event[strings.LastIndexByte(c.event, '/')+1:], func(t *testing.T) {
			t.Parallel() // each case has its own transmitter and store
			f := newFixture(t)
			if status, body := f.push(t, f.set(t, c.event, "jti-1", nil), "application/secevent+jwt"); status != 202 {
				t.Fatalf("push = %d %v; want 202", status, body)
			}
			if a, b := f.live(t); a != 0 || b != 2 {
				t.Errorf("live sessions: alice %d, bob %d; want 0 and 2", a, b)
			}
			u, _ := f.store.User(context.Background(), "prod", f.alice)
			if u.Disabled != c.disabled {
				t.Errorf("alice disabled = %v; want %v", u.Disabled, c.disabled)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	f := newFixture(t)
	other, err := f.tx.AddKey(jwa.RS256) // signs, then leaves the key set
	if err != nil {
		t.Fatal(err)
	}
	forged := f.set(t, SessionRevoked, "jti-forged", func(tok *devidp.Token) { tok.Key = other })
	f.tx.RemoveKey(other.Kid)
	good := f.set(t, SessionRevoked, "jti-1", nil)
	for _, c := range []struct {
		name, body, contentType, err string
	}{
		{"wrong content type", good, "application/jwt", "invalid_request"},
		{"bad signature", forged, "application/secevent+jwt", "invalid_key"},
		{"wrong audience", f.set(t, SessionRevoked, "jti-2", func(tok *devidp.Token) { tok.Audience = "https://someone.else/" }), "application/secevent+jwt", "invalid_audience"},
		{"unknown event type", f.set(t, "https://schemas.openid.net/secevent/caep/event-type/token-claims-change", "jti-3", nil), "application/secevent+jwt", "invalid_request"},
		{"an access token, not a SET", f.set(t, SessionRevoked, "jti-4", func(tok *devidp.Token) { tok.Headers = nil; delete(tok.Claims, "events") }), "application/secevent+jwt", "invalid_request"},
		{"subject of an untrusted issuer", f.set(t, SessionRevoked, "jti-5", func(tok *devidp.Token) {
			tok.Claims["sub_id"] = map[string]any{"format": "iss_sub", "iss": "https://evil.example/", "sub": "alice"}
		}), "application/secevent+jwt", "invalid_request"},
		{"not a JWT", "hello", "application/secevent+jwt", "invalid_request"},
		{"older than the replay window", f.set(t, SessionRevoked, "jti-6", func(tok *devidp.Token) { tok.IssuedAt = t0.Add(-8 * 24 * time.Hour) }), "application/secevent+jwt", "invalid_request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := f.push(t, c.body, c.contentType)
			if status != 400 || body["err"] != c.err || body["description"] == "" {
				t.Errorf("push = %d %v; want 400 with err %s and a description", status, body, c.err)
			}
			if a, _ := f.live(t); a != 2 {
				t.Errorf("alice has %d live sessions; want 2 (no change)", a)
			}
		})
	}
	// Accepted once; the replay is refused and changes nothing more.
	if status, _ := f.push(t, good, "application/secevent+jwt"); status != 202 {
		t.Fatalf("first delivery = %d; want 202", status)
	}
	if status, body := f.push(t, good, "application/secevent+jwt"); status != 400 || body["err"] != "invalid_request" || !strings.Contains(body["description"], "jti") {
		t.Errorf("replay = %d %v; want 400 invalid_request naming the jti", status, body)
	}
}

// The event file goes through the Lambda runtime and the API Gateway
// proxy adapter, as functions/signals wires it.
func TestEventFile(t *testing.T) {
	f := newFixture(t)
	ev, err := events.Load("signals/push.json", map[string]string{"__SET__": f.set(t, SessionRevoked, "jti-ev", nil)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(httpadapter.NewV2(f.rc).ProxyWithContext).Invoke(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ StatusCode int }
	if json.Unmarshal(out, &resp); resp.StatusCode != 202 {
		t.Errorf("response %s; want 202", out)
	}
	if a, _ := f.live(t); a != 0 {
		t.Errorf("alice has %d live sessions; want 0", a)
	}
}

// Whatever is pushed, the receiver answers 202 or the RFC's 400 with an
// err code (or 503), and never panics.
func FuzzSETBody(f *testing.F) {
	fx := newFixture(f)
	f.Add(fx.set(f, SessionRevoked, "seed-1", nil), "application/secevent+jwt")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "application/secevent+jwt")
	f.Add("", "application/secevent+jwt; charset=utf-8")
	f.Add("x.y.z", "text/plain")
	codes := []string{"invalid_request", "invalid_key", "invalid_issuer", "invalid_audience", "authentication_failed", "access_denied"}
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest("POST", "/signals", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		fx.rc.ServeHTTP(rec, req)
		switch rec.Code {
		case 202, 503:
		case 400:
			var out map[string]string
			if json.Unmarshal(rec.Body.Bytes(), &out) != nil || !slices.Contains(codes, out["err"]) || out["description"] == "" {
				t.Fatalf("400 body %q is not RFC 8935's", rec.Body)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
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

// A SET whose revocation fails is not lost: the receiver answers 503 and
// forgets its jti, so the transmitter's retransmission is applied (202),
// and a replay after that is refused as before.
func TestFailedRevocationIsRetried(t *testing.T) {
	f := newFixture(t)
	f.rc.cfg.Store = &failingRevokes{Store: f.store, n: 1}
	raw := f.set(t, SessionRevoked, "jti-retry", nil)
	if status, body := f.push(t, raw, "application/secevent+jwt"); status != 503 {
		t.Fatalf("push while revocations fail = %d %v; want 503", status, body)
	}
	if status, body := f.push(t, raw, "application/secevent+jwt"); status != 202 {
		t.Fatalf("retransmission = %d %v; want 202 (applied, not a replay)", status, body)
	}
	if a, b := f.live(t); a != 0 || b != 2 {
		t.Errorf("live sessions after the retransmission: alice %d, bob %d; want 0 and 2", a, b)
	}
	if status, _ := f.push(t, raw, "application/secevent+jwt"); status != 400 {
		t.Errorf("replay after it was applied = %d; want 400", status)
	}
}

// scoped is a receiver with three transmitters and two user issuers: the
// first transmitter may revoke users of the first issuer, the second of
// the second, the third of both; alice has a session at each issuer.
type scoped struct {
	tx         [3]*devidp.Issuer
	users      [2]string
	store      *memstore.Store
	rc         *Receiver
	recordings *recordings
}

func newScoped(t *testing.T) *scoped {
	t.Helper()
	ck := devidp.NewClock(t0)
	f := &scoped{users: [2]string{"https://login.example/", "https://partner-idp.example/"}, recordings: &recordings{}}
	var trusted []token.Issuer
	for i := range f.tx {
		tx, stop, err := devidp.NewServer(ck.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		f.tx[i] = tx
		trusted = append(trusted, token.Issuer{Issuer: tx.URL(), Audiences: []string{receiverID}})
	}
	v, err := token.NewVerifier(token.Config{Issuers: trusted, Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.store = memstore.New(ck.Now)
	f.rc = New(Config{Verifier: v, Store: f.store, Environments: []string{"prod"}, Verifications: f.recordings, Now: ck.Now,
		SubjectIssuers: map[string][]string{f.tx[0].URL(): {f.users[0]}, f.tx[1].URL(): {f.users[1]}, f.tx[2].URL(): f.users[:]}})
	for _, iss := range f.users {
		id, _ := session.NewID()
		s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: iss, Subject: "alice"}, CreatedAt: t0, Settings: policy.Defaults()}
		if _, err := f.store.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// live counts alice's live sessions at each user issuer.
func (f *scoped) live(t *testing.T) [2]int {
	t.Helper()
	var out [2]int
	for i, iss := range f.users {
		ss, _, err := f.store.UserSessions(context.Background(), "prod", session.UserKey{Issuer: iss, Subject: "alice"}, session.Page{})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = len(ss)
	}
	return out
}

func (f *scoped) process(t *testing.T, tx int, jti string, claims map[string]any) Outcome {
	t.Helper()
	tok := devidp.Token{Audience: receiverID, Headers: map[string]any{"typ": "secevent+jwt"}, Claims: map[string]any{"jti": jti}}
	for k, v := range claims {
		tok.Claims[k] = v
	}
	raw, err := f.tx[tx].Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return f.rc.Process(context.Background(), raw)
}

func issSub(iss, sub string) map[string]any {
	return map[string]any{"format": "iss_sub", "iss": iss, "sub": sub}
}

func revoked(sub map[string]any) map[string]any {
	return map[string]any{"sub_id": sub, "events": map[string]any{SessionRevoked: map[string]any{}}}
}

// A transmitter revokes only users of its own subject issuers: a SET
// about another trusted issuer's user is refused (400) and revokes
// nothing; an opaque subject is taken only from a transmitter with
// exactly one subject issuer.
func TestTransmitterRevokesOnlyItsSubjectIssuers(t *testing.T) {
	for _, c := range []struct {
		name   string
		tx     int
		sub    map[string]any
		status int
		live   [2]int
	}{
		{"first transmitter, its own issuer's user", 0, issSub("https://login.example/", "alice"), 202, [2]int{0, 1}},
		{"first transmitter, the other trusted issuer's user", 0, issSub("https://partner-idp.example/", "alice"), 400, [2]int{1, 1}},
		{"second transmitter, the first issuer's user", 1, issSub("https://login.example/", "alice"), 400, [2]int{1, 1}},
		{"second transmitter, its own issuer's user", 1, issSub("https://partner-idp.example/", "alice"), 202, [2]int{1, 0}},
		{"third transmitter, either issuer's user", 2, issSub("https://partner-idp.example/", "alice"), 202, [2]int{1, 0}},
		{"first transmitter, opaque: its one issuer's user", 0, map[string]any{"format": "opaque", "id": "alice"}, 202, [2]int{0, 1}},
		{"second transmitter, opaque: its one issuer's user", 1, map[string]any{"format": "opaque", "id": "alice"}, 202, [2]int{1, 0}},
		{"third transmitter, opaque: which issuer is unknown", 2, map[string]any{"format": "opaque", "id": "alice"}, 400, [2]int{1, 1}},
		{"a transmitter's own users are not its subject issuer's", 0, issSub("TRANSMITTER", "alice"), 400, [2]int{1, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own transmitters and store
			f := newScoped(t)
			if c.sub["iss"] == "TRANSMITTER" {
				c.sub["iss"] = f.tx[c.tx].URL()
			}
			o := f.process(t, c.tx, "jti-1", revoked(c.sub))
			if o.Status != c.status || (c.status == 400 && (o.Err != "invalid_request" || o.Description == "")) {
				t.Fatalf("Process = %+v; want %d", o, c.status)
			}
			if got := f.live(t); got != c.live {
				t.Errorf("alice's live sessions at each issuer = %v; want %v", got, c.live)
			}
		})
	}
}

// Without sub_id, a SET of several events takes its subject only when
// every event names the same one; events naming different subjects, or
// some naming none, make it ambiguous, and it is refused, whatever the
// order of its members. An event's subject that contradicts sub_id is
// refused too.
func TestSubjectOfSeveralEventsIsNeverAGuess(t *testing.T) {
	alice, bob := issSub("https://login.example/", "alice"), issSub("https://login.example/", "bob")
	ev := func(sub map[string]any) map[string]any {
		if sub == nil {
			return map[string]any{"event_timestamp": t0.Unix()}
		}
		return map[string]any{"subject": sub}
	}
	for _, c := range []struct {
		name   string
		claims map[string]any
		status int
		live   [2]int // alice's and bob's sessions
	}{
		{"two events, the same subject", map[string]any{"events": map[string]any{SessionRevoked: ev(alice), CredentialChange: ev(alice)}}, 202, [2]int{0, 2}},
		{"two events, different subjects", map[string]any{"events": map[string]any{SessionRevoked: ev(alice), CredentialChange: ev(bob)}}, 400, [2]int{2, 2}},
		{"two events, different subjects, the other way", map[string]any{"events": map[string]any{SessionRevoked: ev(bob), CredentialChange: ev(alice)}}, 400, [2]int{2, 2}},
		{"two events, one without a subject", map[string]any{"events": map[string]any{SessionRevoked: ev(alice), AccountDisabled: ev(nil)}}, 400, [2]int{2, 2}},
		{"sub_id and an event naming another subject", map[string]any{"sub_id": alice, "events": map[string]any{SessionRevoked: ev(bob)}}, 400, [2]int{2, 2}},
		{"sub_id, and events without subjects", map[string]any{"sub_id": alice, "events": map[string]any{SessionRevoked: ev(nil), CredentialChange: ev(nil)}}, 202, [2]int{0, 2}},
		{"one event with its subject", map[string]any{"events": map[string]any{SessionRevoked: ev(bob)}}, 202, [2]int{2, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own transmitter and store
			// Go's map order differs between runs: try each SET many times
			// (revoking again changes nothing).
			f := newFixture(t)
			for i := range 20 {
				tok := devidp.Token{Audience: receiverID, Headers: map[string]any{"typ": "secevent+jwt"}, Claims: map[string]any{"jti": fmt.Sprint("jti-", i)}}
				for k, v := range c.claims {
					tok.Claims[k] = v
				}
				raw, err := f.tx.Mint(tok)
				if err != nil {
					t.Fatal(err)
				}
				if o := f.rc.Process(context.Background(), raw); o.Status != c.status {
					t.Fatalf("attempt %d: Process = %+v; want %d", i, o, c.status)
				}
				if a, b := f.live(t); [2]int{a, b} != c.live {
					t.Fatalf("attempt %d: live sessions of alice, bob = %d, %d; want %v", i, a, b, c.live)
				}
			}
		})
	}
}

// recordings is a Verifications that can fail.
type recordings struct {
	states []string
	fail   int
}

func (r *recordings) RecordVerification(_ context.Context, transmitter, state string, _ time.Time) error {
	if r.fail > 0 {
		r.fail--
		return errors.New("dynamodb: throttled")
	}
	r.states = append(r.states, transmitter+" "+state)
	return nil
}

// A verification event goes through the jti check like every other SET: a
// replay of it is refused, and one whose recording failed (503) is
// recorded when delivered again.
func TestVerificationEventsAreReplayChecked(t *testing.T) {
	f := newScoped(t)
	verify := func(jti string) Outcome {
		return f.process(t, 0, jti, map[string]any{"events": map[string]any{Verification: map[string]any{"state": "s-" + jti}}})
	}
	if o := verify("v-1"); o.Status != 202 {
		t.Fatalf("verification event = %+v; want 202", o)
	}
	if o := verify("v-1"); o.Status != 400 || !strings.Contains(o.Description, "jti") {
		t.Errorf("its replay = %+v; want 400 naming the jti", o)
	}
	f.recordings.fail = 1
	if o := verify("v-2"); o.Status != 503 {
		t.Fatalf("verification event while recording fails = %+v; want 503", o)
	}
	if o := verify("v-2"); o.Status != 202 {
		t.Fatalf("its retransmission = %+v; want 202", o)
	}
	want := []string{f.tx[0].URL() + " s-v-1", f.tx[0].URL() + " s-v-2"}
	if !slices.Equal(f.recordings.states, want) {
		t.Errorf("recorded verifications = %q; want %q", f.recordings.states, want)
	}
}

// A SET's jti is kept until the SET would be refused as too old anyway,
// judged from its iat: one whose iat lies ahead of the receiver's clock
// (within the skew) cannot be replayed in the gap after Replay.
func TestReplayWindowFollowsTheSETsIat(t *testing.T) {
	f := newFixture(t)
	f.rc.cfg.Replay = 10 * time.Minute
	raw := f.set(t, SessionRevoked, "jti-ahead", func(tok *devidp.Token) {
		tok.IssuedAt, tok.TTL = f.clock.Now().Add(50*time.Second), time.Hour
	})
	if status, body := f.push(t, raw, "application/secevent+jwt"); status != 202 {
		t.Fatalf("push = %d %v; want 202", status, body)
	}
	f.clock.Add(f.rc.cfg.Replay + 30*time.Second) // past the first push plus Replay; not past iat plus Replay
	if status, body := f.push(t, raw, "application/secevent+jwt"); status != 400 || !strings.Contains(body["description"], "duplicate") {
		t.Errorf("replay inside iat+Replay = %d %v; want 400, duplicate", status, body)
	}
}

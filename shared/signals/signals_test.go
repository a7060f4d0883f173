package signals

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/events"

	"github.com/sessionguard/sessionguard/infra/local/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

const receiverID = "https://sessionguard.example/signals"

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

type fixture struct {
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
	f := &fixture{tx: tx, users: users, store: store, alice: session.UserKey{Issuer: users, Subject: "alice"},
		rc: New(Config{Verifier: v, Store: store, Environments: []string{"prod", "staging"}, UserIssuers: []string{users}, Now: ck.Now})}
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

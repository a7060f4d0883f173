package backchannel

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

type fixture struct {
	clock *devidp.Clock
	idp   *devidp.Issuer
	mem   *memstore.Store
	rc    *Receiver
	logs  *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ck := devidp.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Now: ck.Now, Issuers: []token.Issuer{{Issuer: idp.URL(),
		Audiences: []string{devidp.DefaultAudience}, ClientIDs: []string{devidp.DefaultClientID}}}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{clock: ck, idp: idp, mem: memstore.New(ck.Now), logs: &bytes.Buffer{}}
	f.rc = New(Config{Verifier: v, Store: f.mem, Environments: []string{"prod", "staging"}, Now: ck.Now, Log: obs.NewLogger(f.logs)})
	return f
}

// session creates a live session of user in prod, of the IdP session sid.
func (f *fixture) session(t *testing.T, user, sid string) session.Session {
	t.Helper()
	id, _ := session.NewID()
	s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: f.idp.URL(), Subject: user},
		IdPSession: sid, CreatedAt: f.clock.Now(), Settings: policy.Defaults()}
	if _, err := f.mem.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return s
}

// logout mints a logout token with claims and posts it; it returns the
// status and the JSON body.
func (f *fixture) logout(t *testing.T, user string, claims map[string]any) (int, map[string]string) {
	t.Helper()
	c := map[string]any{"events": map[string]any{token.BackchannelLogoutEvent: map[string]any{}}}
	for k, v := range claims {
		c[k] = v
	}
	raw, err := f.idp.Mint(devidp.Token{User: user, Audience: devidp.DefaultClientID, Headers: map[string]any{"typ": "logout+jwt"}, Claims: c})
	if err != nil {
		t.Fatal(err)
	}
	return f.post(raw)
}

func (f *fixture) post(raw string) (int, map[string]string) {
	req := httptest.NewRequest("POST", Path, strings.NewReader(url.Values{"logout_token": {raw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.rc.ServeHTTP(rec, req)
	var body map[string]string
	json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

func (f *fixture) revoked(t *testing.T, s session.Session) bool {
	t.Helper()
	got, err := f.mem.Session(context.Background(), s.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return got.Revoked()
}

// A logout token that names both sid and sub ends only the sessions of
// that IdP session that belong to that user; another user's session that
// claims the same sid is left as it is.
func TestLogoutWithSidAndSubEndsOnlyThatUsersSessions(t *testing.T) {
	f := newFixture(t)
	alice := f.session(t, "alice", "op-1")
	mallory := f.session(t, "mallory", "op-1")
	other := f.session(t, "alice", "op-2")
	if status, body := f.logout(t, "alice", map[string]any{"jti": "bcl-1", "sid": "op-1"}); status != 200 {
		t.Fatalf("logout = %d %v; want 200", status, body)
	}
	if !f.revoked(t, alice) {
		t.Error("alice's session of op-1 is still live")
	}
	if f.revoked(t, mallory) {
		t.Error("another user's session of the same sid was revoked")
	}
	if f.revoked(t, other) {
		t.Error("alice's session of another IdP session was revoked")
	}
}

// A logout by sid records the IdP session as ended in every environment,
// so that its tokens cannot start another session there.
func TestLogoutRecordsTheEndedIdPSession(t *testing.T) {
	f := newFixture(t)
	if status, body := f.logout(t, "alice", map[string]any{"jti": "bcl-1", "sid": "op-9"}); status != 200 {
		t.Fatalf("logout = %d %v; want 200", status, body)
	}
	for _, env := range []string{"prod", "staging"} {
		if _, ended, err := f.mem.IdPSessionEnded(context.Background(), env, f.idp.URL(), "op-9"); err != nil || !ended {
			t.Errorf("IdPSessionEnded(%s, op-9) = %v, %v; want true", env, ended, err)
		}
	}
}

// The jti of a logout token is remembered as long as the verifier would
// accept the token, not a fixed time: a replay just inside the acceptance
// window is refused, and the record is gone once the token would be
// refused as too old anyway.
func TestLogoutReplayWindowFollowsTheVerifier(t *testing.T) {
	f := newFixture(t)
	c := map[string]any{"jti": "bcl-w", "sid": "op-1", "events": map[string]any{token.BackchannelLogoutEvent: map[string]any{}}}
	raw, err := f.idp.Mint(devidp.Token{User: "alice", Audience: devidp.DefaultClientID, Headers: map[string]any{"typ": "logout+jwt"}, Claims: c})
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := f.post(raw); status != 200 {
		t.Fatalf("first post = %d; want 200", status)
	}
	skew := 60 * time.Second // the verifier's default clock skew
	f.clock.Add(token.LogoutMaxAge + skew - time.Second)
	if status, body := f.post(raw); status != 400 || !strings.Contains(body["error_description"], "replayed") {
		t.Errorf("replay one second before the token's acceptance ends = %d %v; want 400, replayed", status, body)
	}
	fresh, err := f.mem.RecordJTI(context.Background(), f.idp.URL(), jtiPrefix+"bcl-w", f.clock.Now().Add(time.Hour))
	if err != nil || fresh {
		t.Errorf("the jti inside the window: RecordJTI = %v, %v; want already seen", fresh, err)
	}
	f.clock.Add(time.Second) // the last instant the verifier accepts it
	if status, body := f.post(raw); status != 400 || !strings.Contains(body["error_description"], "replayed") {
		t.Errorf("replay at the last instant the token is accepted = %d %v; want 400, replayed", status, body)
	}
	f.clock.Add(time.Second)
	if fresh, err := f.mem.RecordJTI(context.Background(), f.idp.URL(), jtiPrefix+"bcl-w", f.clock.Now().Add(time.Hour)); err != nil || !fresh {
		t.Errorf("the jti after the token's acceptance ended: RecordJTI = %v, %v; want forgotten (its record expired)", fresh, err)
	}
}

// The reason a logout token failed verification is logged, never told to
// the caller, who is not authenticated.
func TestLogoutVerifierErrorsAreNotEchoed(t *testing.T) {
	f := newFixture(t)
	raw, err := f.idp.Mint(devidp.Token{User: "alice", Audience: "someone-else", Headers: map[string]any{"typ": "logout+jwt"},
		Claims: map[string]any{"jti": "bcl-a", "sid": "op-1", "events": map[string]any{token.BackchannelLogoutEvent: map[string]any{}}}})
	if err != nil {
		t.Fatal(err)
	}
	status, body := f.post(raw)
	if status != 400 || body["error"] != "invalid_request" || body["error_description"] != "the logout token is not valid" {
		t.Errorf("post of a token for another audience = %d %v; want 400 invalid_request with a fixed description", status, body)
	}
	if !strings.Contains(f.logs.String(), "aud") {
		t.Errorf("the log does not say why: %s", f.logs.String())
	}
}

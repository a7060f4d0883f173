package sessionapi

import (
	"context"
	"net/http"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// boundSignIn signs alice in under d's mode with a token bound to d.key
// and its proof, and returns the token, the session id and its listed id.
func (d *dpopFixture) boundSignIn(t *testing.T) (tok, sid, listed string) {
	t.Helper()
	tok = d.token(t, d.key)
	resp := d.send(t, "sessions/sign-in.json", "DPoP", tok, "", proof(d.key, "POST", "/sessions", tok), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in with a bound token and its proof: %d %s", resp.StatusCode, resp.Body)
	}
	sid = body(t, resp)["sessionId"].(string)
	id, err := session.ParseID(sid)
	if err != nil {
		t.Fatal(err)
	}
	return tok, sid, id.Hash().Prefix()
}

// to sends an event to method path?query instead of its own.
func to(method, path, query string) func(*awsevents.APIGatewayV2HTTPRequest) {
	return func(e *awsevents.APIGatewayV2HTTPRequest) {
		e.RawPath, e.RequestContext.HTTP.Path, e.RequestContext.HTTP.Method, e.RawQueryString = path, path, method, query
	}
}

// TestOwnSessionsNeedTheProof: the user's own sessions (GET /sessions,
// DELETE /sessions/{id}, DELETE /sessions?others=true) judge a session
// bound to a key as GET /sessions/current does: no proof is
// dpop_required, another key's proof dpop_invalid (cnf.jkt), the session
// id with a token of the same user bound to another key and that key's
// proof dpop_invalid (session); each refusal ends nothing. With a valid
// proof the list answers, the others end, and DELETE of the current
// session's own listed id signs out (204): its proof is checked once (the
// authorizer's check of the request), not a second time as a sign-out
// would, which would refuse it as a replay.
func TestOwnSessionsNeedTheProof(t *testing.T) {
	d := newDPoPFixture(t, policy.DPoPRequired)
	tok, sid, listed := d.boundSignIn(t)
	_, otherSid, otherListed := d.boundSignIn(t) // alice's second session, on the same key
	stolen := d.token(t, d.other)
	routes := []struct {
		name, method, path, query string
	}{
		{"GET /sessions", "GET", "/sessions", ""},
		{"DELETE /sessions/{id} (another session)", "DELETE", "/sessions/" + otherListed, ""},
		{"DELETE /sessions/{id} (the current session)", "DELETE", "/sessions/" + listed, ""},
		{"DELETE /sessions?others=true", "DELETE", "/sessions", "others=true"},
	}
	for _, r := range routes {
		at := to(r.method, r.path, r.query)
		d.refused(t, r.name+" without a proof", d.send(t, "sessions/list.json", "DPoP", tok, sid, "", at), "dpop_required", dpop.CheckMissing)
		d.refused(t, r.name+" with another key's proof", d.send(t, "sessions/list.json", "DPoP", tok, sid, proof(d.other, r.method, r.path, tok), at), "dpop_invalid", dpop.CheckJKT)
		d.refused(t, r.name+": the session id with another key's token and proof", d.send(t, "sessions/list.json", "DPoP", stolen, sid, proof(d.other, r.method, r.path, stolen), at), "dpop_invalid", dpop.CheckSession)
	}
	for _, h := range []string{sid, otherSid} {
		id, _ := session.ParseID(h)
		if s, err := d.store.Session(context.Background(), id.Hash()); err != nil || s.Revoked() {
			t.Fatalf("after the refusals session %s: revoked %v, %v; want live", id.Hash().Prefix(), s.Revoked(), err)
		}
	}

	resp := d.send(t, "sessions/list.json", "DPoP", tok, sid, proof(d.key, "GET", "/sessions", tok), nil)
	if resp.StatusCode != http.StatusOK || len(body(t, resp)["sessions"].([]any)) != 2 {
		t.Fatalf("GET /sessions with a proof: %d %s; want both sessions", resp.StatusCode, resp.Body)
	}
	resp = d.send(t, "sessions/list.json", "DPoP", tok, sid, proof(d.key, "DELETE", "/sessions", tok), to("DELETE", "/sessions", "others=true"))
	if resp.StatusCode != http.StatusOK || body(t, resp)["ended"] != 1.0 {
		t.Fatalf("DELETE /sessions?others=true with a proof: %d %s; want 1 ended", resp.StatusCode, resp.Body)
	}
	path := "/sessions/" + listed
	resp = d.send(t, "sessions/list.json", "DPoP", tok, sid, proof(d.key, "DELETE", path, tok), to("DELETE", path, ""))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE %s (the current session) with a proof: %d %s; want 204", path, resp.StatusCode, resp.Body)
	}
	id, _ := session.ParseID(sid)
	if s, err := d.store.Session(context.Background(), id.Hash()); err != nil || !s.Revoked() || s.RevokeReason != session.CauseSignOut {
		t.Fatalf("the current session after DELETE of its own id: revoked %v (cause %q), %v; want signed out", s.Revoked(), s.RevokeReason, err)
	}
	resp = d.send(t, "sessions/current.json", "DPoP", tok, sid, proof(d.key, "GET", "/sessions/current", tok), nil)
	if resp.StatusCode != http.StatusUnauthorized || body(t, resp)["reason"] != "session_revoked" {
		t.Fatalf("current after ending it by its id: %d %s; want 401 session_revoked", resp.StatusCode, resp.Body)
	}
}

package sessionapi

import (
	"context"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// refreshed mints what most IdPs hand out on a refresh: a token of the
// IdP session sid (none when empty), issued now, with no auth_time.
func (f *fixture) refreshed(t *testing.T, user, sid string) string {
	t.Helper()
	c := map[string]any{"auth_time": nil}
	if sid != "" {
		c["sid"] = sid
	}
	tok, err := f.idp.Mint(devidp.Token{User: user, Claims: c})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) signInStatus(t *testing.T, tok string) (int, string) {
	t.Helper()
	resp := f.call(t, "sessions/sign-in.json", tok, "", nil)
	if resp.StatusCode == 201 {
		return resp.StatusCode, ""
	}
	r, _ := body(t, resp)["reason"].(string)
	return resp.StatusCode, r
}

func (f *fixture) strict(t *testing.T, on bool) {
	t.Helper()
	s := policy.Defaults()
	s.StrictReauthentication = on
	if err := f.store.PutSettings(context.Background(), policy.SettingsChange{Environment: "demo", Version: 1, New: s}); err != nil {
		t.Fatal(err)
	}
}

// A sign-out ends the IdP session it was made from: a token of that IdP
// session refreshed after the sign-out (a new iat, no auth_time) cannot
// start a session, whatever the setting; a token of another IdP session
// can.
func TestRefreshedTokenDoesNotUndoSignOut(t *testing.T) {
	f := newFixture(t)
	sid := f.signIn(t, f.refreshed(t, "alice", "op-1"))
	f.clock.Add(time.Minute)
	if resp := f.call(t, "sessions/sign-out.json", "", sid, nil); resp.StatusCode != 204 {
		t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	f.clock.Add(time.Minute)
	if status, why := f.signInStatus(t, f.refreshed(t, "alice", "op-1")); status != 401 || why != "session_revoked" {
		t.Errorf("sign-in with a token of the signed-out IdP session, refreshed after the sign-out = %d %s; want 401 session_revoked", status, why)
	}
	if status, why := f.signInStatus(t, f.refreshed(t, "alice", "op-2")); status != 201 {
		t.Errorf("sign-in with a token of another IdP session = %d %s; want 201", status, why)
	}
}

// strictReauthentication: after a sign-out, a token with neither auth_time
// nor sid is refused (off: it passes on its iat, as before); one with a
// later auth_time or another IdP session's sid passes.
func TestStrictReauthentication(t *testing.T) {
	for _, on := range []bool{false, true} {
		f := newFixture(t)
		f.strict(t, on)
		sid := f.signIn(t, f.refreshed(t, "alice", ""))
		f.clock.Add(time.Minute)
		if resp := f.call(t, "sessions/sign-out.json", "", sid, nil); resp.StatusCode != 204 {
			t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Body)
		}
		f.clock.Add(time.Minute)
		status, why := f.signInStatus(t, f.refreshed(t, "alice", ""))
		switch {
		case on && (status != 401 || why != "session_revoked"):
			t.Errorf("strict: a token with neither auth_time nor sid after a sign-out = %d %s; want 401 session_revoked", status, why)
		case !on && status != 201:
			t.Errorf("not strict: a token issued after the sign-out = %d %s; want 201", status, why)
		}
		if status, why := f.signInStatus(t, f.token(t, "alice", f.clock.Now())); status != 201 {
			t.Errorf("strict=%v: a later auth_time = %d %s; want 201", on, status, why)
		}
		if status, why := f.signInStatus(t, f.refreshed(t, "alice", "op-3")); status != 201 {
			t.Errorf("strict=%v: another IdP session's token = %d %s; want 201", on, status, why)
		}
		// Before any sign-out, strictness asks nothing more.
		if status, why := f.signInStatus(t, f.refreshed(t, "bob", "")); status != 201 {
			t.Errorf("strict=%v: bob, who never signed out = %d %s; want 201", on, status, why)
		}
	}
}

// An issuer's other spelling (Google's bare issuer here) is the same
// issuer: a sign-out made under one spelling refuses the other's tokens
// too, whether they predate it or refresh its ended IdP session.
func TestSignOutHoldsForEverySpellingOfTheIssuer(t *testing.T) {
	const client = "123-abc.apps.googleusercontent.com"
	f := newFixtureWith(t, func(idp *devidp.Issuer) []token.Issuer {
		return []token.Issuer{{Issuer: "https://accounts.google.com", Profile: "google", JWKSURL: idp.URL() + "/jwks.json", ClientIDs: []string{client}}}
	})
	mint := func(iss string, claims map[string]any) string {
		tok, err := f.idp.Mint(devidp.Token{User: "alice", Issuer: iss, Audience: client, ClientID: client, Claims: claims})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	early := mint("accounts.google.com", map[string]any{"sid": "op-1"})
	sid := f.signIn(t, mint("https://accounts.google.com", map[string]any{"sid": "op-1"}))
	f.clock.Add(time.Minute)
	if resp := f.call(t, "sessions/sign-out.json", "", sid, nil); resp.StatusCode != 204 {
		t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	f.clock.Add(time.Minute)
	if status, why := f.signInStatus(t, early); status != 401 || why != "session_revoked" {
		t.Errorf("a token from before the sign-out, in the other spelling = %d %s; want 401 session_revoked", status, why)
	}
	if status, why := f.signInStatus(t, mint("accounts.google.com", map[string]any{"sid": "op-1", "auth_time": nil})); status != 401 || why != "session_revoked" {
		t.Errorf("a refreshed token of the ended IdP session, in the other spelling = %d %s; want 401 session_revoked", status, why)
	}
	if status, why := f.signInStatus(t, mint("accounts.google.com", map[string]any{"sid": "op-2"})); status != 201 {
		t.Errorf("a new sign-in, in the other spelling = %d %s; want 201", status, why)
	}
}

// Signing out of a session that something else already ended still
// records the sign-out and ends its IdP session: a refreshed token of it
// cannot start another session.
func TestSignOutOfAnAlreadyEndedSession(t *testing.T) {
	f := newFixture(t)
	sid := f.signIn(t, f.refreshed(t, "alice", "op-1"))
	id, _ := session.ParseID(sid)
	if _, _, err := f.store.Revoke(context.Background(), id.Hash(), f.clock.Now(), session.CauseAdmin); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	if resp := f.call(t, "sessions/sign-out.json", "", sid, nil); resp.StatusCode != 204 {
		t.Fatalf("sign-out: %d %s", resp.StatusCode, resp.Body)
	}
	f.clock.Add(time.Minute)
	if status, why := f.signInStatus(t, f.refreshed(t, "alice", "op-1")); status != 401 || why != "session_revoked" {
		t.Errorf("a refreshed token of the signed-out IdP session = %d %s; want 401 session_revoked", status, why)
	}
}

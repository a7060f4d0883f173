package sessionapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// TestSignInAfterOthersPerClaims holds docs/sessions.md "What signing out
// everywhere else guarantees": after DELETE /sessions?others=true, a
// sign-in with a token refreshed after it (new iat) on a device that held
// one of the ended sessions, per the claims the token carries.
func TestSignInAfterOthersPerClaims(t *testing.T) {
	for _, tt := range []struct {
		name     string
		thiefSid string // the sid the other device's tokens carry
		authTime bool   // the refreshed token carries the original auth_time
		strict   bool
		want     int
	}{
		{name: "auth_time", thiefSid: "", authTime: true, want: 401},
		{name: "another sid", thiefSid: "thief-device", want: 401},
		{name: "another sid, strict", thiefSid: "thief-device", strict: true, want: 401},
		{name: "neither claim", thiefSid: "", want: 201},
		{name: "neither claim, strict", thiefSid: "", strict: true, want: 401},
		{name: "the caller's own sid (a stolen refresh token)", thiefSid: "victims-browser", want: 401},
		{name: "the caller's own sid, strict", thiefSid: "victims-browser", strict: true, want: 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.strict(t, tt.strict)
			authAt := f.clock.Now().Add(-time.Minute)
			mint := func() string {
				if tt.authTime {
					return f.token(t, "alice", authAt)
				}
				return f.refreshed(t, "alice", tt.thiefSid)
			}
			thiefTok := mint()
			thief, _ := f.signInFrom(t, thiefTok, firefoxLinux)
			f.clock.Add(time.Minute)
			victimTok := f.refreshed(t, "alice", "victims-browser")
			victim, _ := f.signInFrom(t, victimTok, safariIPhone)
			f.clock.Add(time.Minute)
			resp := f.call(t, "sessions/current.json", victimTok, victim, at("DELETE", "/sessions", "others=true"))
			if resp.StatusCode != 200 || f.authorized(t, thiefTok, thief) {
				t.Fatalf("others=true = %d %s; want 200 and the other session refused", resp.StatusCode, resp.Body)
			}
			f.clock.Add(time.Minute)
			if status, why := f.signInStatus(t, mint()); status != tt.want {
				t.Errorf("sign-in with the other device's refreshed token = %d %s; want %d", status, why, tt.want)
			}
		})
	}
}

// TestSignInAfterLimitEndedSession: a session that ended by its own idle
// limit before "sign out everywhere else" is not marked ended by it, and
// its IdP session is not recorded; a refreshed token of that IdP session
// (sid, no auth_time) still cannot start a session: the session started
// before the user's revocation point.
func TestSignInAfterLimitEndedSession(t *testing.T) {
	f := newFixture(t)
	f.putIdleSettings(t)
	thiefTok := f.refreshed(t, "alice", "thief-device")
	f.signInFrom(t, thiefTok, firefoxLinux)
	f.clock.Add(45 * time.Minute) // past the idle limit
	victimTok := f.refreshed(t, "alice", "victims-browser")
	victim, _ := f.signInFrom(t, victimTok, safariIPhone)
	f.clock.Add(time.Minute)
	if resp := f.call(t, "sessions/current.json", victimTok, victim, at("DELETE", "/sessions", "others=true")); resp.StatusCode != 200 || resp.Body != `{"ended":0,"truncated":false}`+"\n" {
		t.Fatalf("others=true = %d %q; want 200, none ended", resp.StatusCode, resp.Body)
	}
	f.clock.Add(time.Minute)
	if status, why := f.signInStatus(t, f.refreshed(t, "alice", "thief-device")); status != 401 {
		t.Errorf("sign-in with a refreshed token of the idle-ended session's IdP session = %d %s; want 401", status, why)
	}
	// A new IdP session (a new authentication) signs in.
	if status, why := f.signInStatus(t, f.refreshed(t, "alice", "new-idp-session")); status != 201 {
		t.Errorf("sign-in with a token of a new IdP session = %d %s; want 201", status, why)
	}
}

// failingStore fails the first call of the armed method.
type failingStore struct {
	Store
	listFail, endIdPFail, revokeFail bool
}

func (s *failingStore) UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error) {
	if s.listFail {
		s.listFail = false
		return nil, "", errors.New("test: list fails")
	}
	return s.Store.UserSessions(ctx, env, user, p)
}

func (s *failingStore) EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error {
	if s.endIdPFail {
		s.endIdPFail = false
		return errors.New("test: end IdP session fails")
	}
	return s.Store.EndIdPSession(ctx, env, issuer, sid, at)
}

func (s *failingStore) Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error) {
	if s.revokeFail {
		s.revokeFail = false
		return session.Session{}, false, errors.New("test: revoke fails")
	}
	return s.Store.Revoke(ctx, h, at, why)
}

func newFailingFixture(t *testing.T) (*fixture, *failingStore) {
	fs := &failingStore{}
	f := newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
		return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
	}, func(c *Config) { fs.Store, c.Store = c.Store, fs })
	return f, fs
}

// TestOthersFailureKeepsIdPSessionsEnded: "sign out everywhere else" cut
// by a failing write answers 503; after the repeat, a refreshed token (sid,
// no auth_time) of an ended session, older or newer than the current one,
// cannot start a session.
func TestOthersFailureKeepsIdPSessionsEnded(t *testing.T) {
	for _, which := range []string{"list", "endIdP", "revoke"} {
		for _, newer := range []bool{false, true} {
			t.Run(which+map[bool]string{false: "/older", true: "/newer"}[newer], func(t *testing.T) {
				f, fs := newFailingFixture(t)
				var laptopTok, laptop, tok, cur string
				if !newer {
					laptopTok = f.refreshed(t, "alice", "idp-laptop")
					laptop, _ = f.signInFrom(t, laptopTok, firefoxLinux)
					f.clock.Add(time.Minute)
				}
				tok = f.refreshed(t, "alice", "idp-phone")
				cur, _ = f.signInFrom(t, tok, safariIPhone)
				if newer {
					// A session created after the current one (a clock
					// step back, or a race): ended one by one.
					f.clock.Add(time.Minute)
					laptopTok = f.refreshed(t, "alice", "idp-laptop")
					laptop, _ = f.signInFrom(t, laptopTok, firefoxLinux)
				}
				f.clock.Add(time.Minute)
				fs.listFail, fs.endIdPFail, fs.revokeFail = which == "list", which == "endIdP", which == "revoke"
				r1 := f.call(t, "sessions/current.json", tok, cur, at("DELETE", "/sessions", "others=true"))
				r2 := f.call(t, "sessions/current.json", tok, cur, at("DELETE", "/sessions", "others=true"))
				if r2.StatusCode != 200 || f.authorized(t, laptopTok, laptop) {
					t.Fatalf("others=true = %d, repeat %d %s; want the repeat 200 and the laptop refused", r1.StatusCode, r2.StatusCode, r2.Body)
				}
				f.clock.Add(time.Minute)
				if status, why := f.signInStatus(t, f.refreshed(t, "alice", "idp-laptop")); status != 401 {
					t.Errorf("laptop's refreshed token after the repeat (first %d) = %d %s; want 401", r1.StatusCode, status, why)
				}
			})
		}
	}
}

// TestEndOwnFailureKeepsIdPSessionEnded: DELETE /sessions/{id} whose
// revocation or record of the IdP session fails answers 503; whatever the
// repeat answers, a refreshed token (sid, no auth_time) of the named
// session's IdP session cannot start a session once the session is ended.
func TestEndOwnFailureKeepsIdPSessionEnded(t *testing.T) {
	for _, which := range []string{"endIdP", "revoke"} {
		t.Run(which, func(t *testing.T) {
			f, fs := newFailingFixture(t)
			laptopTok := f.refreshed(t, "alice", "idp-laptop")
			laptop, laptopID := f.signInFrom(t, laptopTok, firefoxLinux)
			tok := f.refreshed(t, "alice", "idp-phone")
			cur, _ := f.signInFrom(t, tok, safariIPhone)
			fs.endIdPFail, fs.revokeFail = which == "endIdP", which == "revoke"
			if r1 := f.end(t, tok, cur, laptopID); r1.StatusCode != 503 {
				t.Fatalf("DELETE /sessions/{id} with a failing write = %d; want 503", r1.StatusCode)
			}
			if r2 := f.end(t, tok, cur, laptopID); r2.StatusCode != 204 && r2.StatusCode != 404 || f.authorized(t, laptopTok, laptop) {
				t.Fatalf("repeat = %d; want the session ended", r2.StatusCode)
			}
			f.clock.Add(time.Minute)
			if status, why := f.signInStatus(t, f.refreshed(t, "alice", "idp-laptop")); status != 401 {
				t.Errorf("laptop's refreshed token after DELETE /sessions/{id} = %d %s; want 401", status, why)
			}
		})
	}
}

package sessionapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

const (
	firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safariIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

// at sends the event as method on path with the raw query.
func at(method, path, query string) func(*awsevents.APIGatewayV2HTTPRequest) {
	return func(ev *awsevents.APIGatewayV2HTTPRequest) {
		ev.RouteKey, ev.RawPath, ev.RawQueryString = method+" "+path, path, query
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, path
		ev.Body = ""
	}
}

// userAgent sets the request's User-Agent.
func userAgent(ua string) func(*awsevents.APIGatewayV2HTTPRequest) {
	return func(ev *awsevents.APIGatewayV2HTTPRequest) {
		ev.Headers["user-agent"], ev.RequestContext.HTTP.UserAgent = ua, ua
	}
}

// signInFrom signs tok in from the browser ua and returns the session id
// and its listed id.
func (f *fixture) signInFrom(t *testing.T, tok, ua string) (sid, id string) {
	t.Helper()
	resp := f.call(t, "sessions/sign-in.json", tok, "", userAgent(ua))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Body)
	}
	b := body(t, resp)
	return b["sessionId"].(string), b["sessionHashPrefix"].(string)
}

// sidToken mints user's token of the IdP session sid.
func (f *fixture) sidToken(t *testing.T, user, sid string) string {
	t.Helper()
	tok, err := f.idp.Mint(devidp.Token{User: user, Claims: map[string]any{"sid": sid}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type ownAnswer struct {
	Sessions  []OwnView `json:"sessions"`
	Truncated bool      `json:"truncated"`
	Now       time.Time `json:"now"`
}

// list is GET /sessions with tok and sid.
func (f *fixture) list(t *testing.T, tok, sid string) ownAnswer {
	t.Helper()
	resp := f.call(t, "sessions/list.json", tok, sid, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sessions: %d %s", resp.StatusCode, resp.Body)
	}
	var a ownAnswer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// end is DELETE /sessions/{id} with tok and sid.
func (f *fixture) end(t *testing.T, tok, sid, id string, edits ...func(*awsevents.APIGatewayV2HTTPRequest)) awsevents.APIGatewayV2HTTPResponse {
	t.Helper()
	return f.call(t, "sessions/current.json", tok, sid, func(ev *awsevents.APIGatewayV2HTTPRequest) {
		at("DELETE", "/sessions/"+id, "")(ev)
		for _, e := range edits {
			e(ev)
		}
	})
}

// authorized is the authorizer's decision on a request of the app's
// routes with tok and sid: the event API Gateway sends it, through its
// handler.
func (f *fixture) authorized(t *testing.T, tok, sid string) bool {
	t.Helper()
	raw, err := events.Load("authorizer/http-api-v2.json", map[string]string{events.AccessToken: tok, events.SessionID: sid})
	if err != nil {
		t.Fatal(err)
	}
	out, err := authorizer.NewHandler(f.auth, authorizer.HandlerOptions{SimpleResponses: true, Log: slog.New(slog.DiscardHandler)}).Invoke(context.Background(), raw)
	if err != nil && err.Error() == "Unauthorized" { // API Gateway's 401: the session (or token) is refused
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		IsAuthorized bool `json:"isAuthorized"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("authorizer answer %s: %v", out, err)
	}
	return r.IsAuthorized
}

// The list: the caller's live sessions in the environment, the current
// one first and marked, each with its listed id (the hash prefix, never
// the session id), device, creation and last activity; not another
// user's, not an ended or expired one, and a session from before devices
// were recorded without a device.
func TestListOwnSessions(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	idle := f.putIdleSettings(t)
	tok := f.token(t, "alice", time.Time{})
	t0 := f.clock.Now()
	laptop, laptopID := f.signInFrom(t, tok, firefoxLinux)
	f.clock.Add(time.Minute)
	phone, phoneID := f.signInFrom(t, tok, safariIPhone)
	f.clock.Add(time.Minute)
	script, _ := f.signInFrom(t, tok, "curl/8.11.0")
	if resp := f.call(t, "sessions/sign-out.json", tok, script, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	bob, bobID := f.signInFrom(t, f.token(t, "bob", time.Time{}), firefoxLinux)
	// A session stored before sessions recorded their device.
	oldID, err := session.NewID()
	if err != nil {
		t.Fatal(err)
	}
	alice := session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}
	if _, err := f.store.Create(ctx, session.Session{Hash: oldID.Hash(), Environment: "demo", User: alice, ClientID: devidp.DefaultClientID,
		CreatedAt: t0.Add(-time.Minute), SettingsVersion: 1, Settings: idle}, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(5 * time.Minute)
	keep := f.call(t, "sessions/current.json", tok, laptop, at("POST", "/sessions/current/activity", ""))
	if keep.StatusCode != http.StatusOK {
		t.Fatalf("keep working: %d %s", keep.StatusCode, keep.Body)
	}
	laptopActive := f.clock.Now()

	resp := f.call(t, "sessions/list.json", tok, phone, nil)
	got := f.list(t, tok, phone)
	want := []struct {
		id, device string
		current    bool
		created    time.Time
		active     time.Time
	}{
		{phoneID, "Safari on iPhone", true, t0.Add(time.Minute), t0.Add(time.Minute)},
		{laptopID, "Firefox on Linux", false, t0, laptopActive},
		{oldID.Hash().Prefix(), "", false, t0.Add(-time.Minute), t0.Add(-time.Minute)},
	}
	if len(got.Sessions) != len(want) {
		t.Fatalf("GET /sessions lists %d sessions: %+v; want %d (not bob's, not the signed-out one)", len(got.Sessions), got.Sessions, len(want))
	}
	for i, w := range want {
		g := got.Sessions[i]
		if g.ID != w.id || g.Device != w.device || g.Current != w.current || !g.CreatedAt.Equal(w.created) || !g.LastActiveAt.Equal(w.active) ||
			g.IdleExpiresAt == nil || !g.IdleExpiresAt.Equal(w.active.Add(30*time.Minute)) || g.ExpiresAt != nil || g.ClientID != devidp.DefaultClientID {
			t.Errorf("session %d = %+v; want id %s, device %q, current %v, created %v, last active %v, idle end 30 min after", i, g, w.id, w.device, w.current, w.created, w.active)
		}
	}
	if !got.Now.Equal(f.clock.Now()) || got.Truncated {
		t.Errorf("now %v, truncated %v; want the server's now %v, not truncated", got.Now, got.Truncated, f.clock.Now())
	}
	// No session id, no full hash, no device absent turned into a word.
	for _, secret := range []string{laptop, phone, bob, oldID.Reveal(), oldID.Hash().String(), bobID} {
		if strings.Contains(resp.Body, secret) {
			t.Errorf("GET /sessions shows %q (a session id, a full hash, or another user's id): %s", secret, resp.Body)
		}
	}
	if strings.Count(resp.Body, `"device"`) != 2 {
		t.Errorf("GET /sessions: %s; want a device on the two sessions that recorded one, none on the old one", resp.Body)
	}
	// The listed id is the one GET /sessions/current gives.
	if cur := body(t, f.call(t, "sessions/current.json", tok, phone, nil)); cur["sessionHashPrefix"] != phoneID {
		t.Errorf("GET /sessions/current sessionHashPrefix = %v; want the listed id %s", cur["sessionHashPrefix"], phoneID)
	}
	// Bob sees only his own.
	if got := f.list(t, f.token(t, "bob", time.Time{}), bob); len(got.Sessions) != 1 || got.Sessions[0].ID != bobID {
		t.Errorf("bob's GET /sessions = %+v; want his own alone", got.Sessions)
	}
	// Past their idle end (30 minutes without activity), the phone's and
	// the old session are no longer listed; the laptop's activity kept it.
	f.clock.Add(26 * time.Minute)
	if got := f.list(t, tok, laptop); len(got.Sessions) != 1 || got.Sessions[0].ID != laptopID || !got.Sessions[0].Current {
		t.Errorf("after the others' idle end, GET /sessions = %+v; want the laptop's alone", got.Sessions)
	}
}

// The routes judge the caller as GET /sessions/current does: no token, no
// session, or another user's session is refused with its reason.
func TestOwnSessionsNeedTheCallersTokenAndSession(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "alice", time.Time{})
	sid, id := f.signInFrom(t, tok, firefoxLinux)
	bobTok := f.token(t, "bob", time.Time{})
	f.signIn(t, bobTok)
	noToken := func(ev *awsevents.APIGatewayV2HTTPRequest) { delete(ev.Headers, "authorization") }
	for _, tt := range []struct {
		name, tok, sid string
		status         int
		reason         string
		edit           func(*awsevents.APIGatewayV2HTTPRequest)
	}{
		{"no token", "", sid, 401, "token_missing", noToken},
		{"no session", tok, "", 401, "session_missing", nil},
		{"another user's token on the session", bobTok, sid, 403, "binding_user", nil},
		{"a made-up session", tok, strings.Repeat("A", 43), 401, "session_unknown", nil},
	} {
		for _, call := range []struct {
			name string
			edit func(*awsevents.APIGatewayV2HTTPRequest)
		}{
			{"GET /sessions", at("GET", "/sessions", "")},
			{"DELETE /sessions/{id}", at("DELETE", "/sessions/"+id, "")},
			{"DELETE /sessions?others=true", at("DELETE", "/sessions", "others=true")},
		} {
			resp := f.call(t, "sessions/current.json", tt.tok, tt.sid, func(ev *awsevents.APIGatewayV2HTTPRequest) {
				call.edit(ev)
				if tt.edit != nil {
					tt.edit(ev)
				}
			})
			if resp.StatusCode != tt.status || body(t, resp)["reason"] != tt.reason {
				t.Errorf("%s, %s = %d %s; want %d %s", call.name, tt.name, resp.StatusCode, resp.Body, tt.status, tt.reason)
			}
		}
	}
	if !f.authorized(t, tok, sid) {
		t.Fatal("alice's session was ended by a refused request")
	}
}

// DELETE /sessions/{id} ends one of the caller's sessions for good: the
// authorizer refuses it from then on, as for an admin's revocation, and
// its IdP session cannot start another; the caller's own session goes on.
// Another user's listed id, an unknown one and one already ended are the
// same 404; a malformed one is 400.
func TestEndOwnSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	laptopTok, phoneTok := f.sidToken(t, "alice", "idp-laptop"), f.sidToken(t, "alice", "idp-phone")
	laptop, laptopID := f.signInFrom(t, laptopTok, firefoxLinux)
	phone, phoneID := f.signInFrom(t, phoneTok, safariIPhone)
	tabletTok := f.sidToken(t, "alice", "idp-tablet")
	tablet, tabletID := f.signInFrom(t, tabletTok, safariIPhone)
	bobTok := f.token(t, "bob", time.Time{})
	bob, bobID := f.signInFrom(t, bobTok, firefoxLinux)

	// Alice, on her phone, ends the laptop's session.
	f.clock.Add(time.Minute)
	if resp := f.end(t, phoneTok, phone, laptopID); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /sessions/%s = %d %s; want 204", laptopID, resp.StatusCode, resp.Body)
	}
	if f.authorized(t, laptopTok, laptop) {
		t.Error("the authorizer still allows the ended session")
	}
	if !f.authorized(t, phoneTok, phone) {
		t.Error("the authorizer refuses the caller's own session after it ended another")
	}
	if resp := f.call(t, "sessions/current.json", laptopTok, laptop, nil); resp.StatusCode != 401 || body(t, resp)["reason"] != "session_revoked" {
		t.Errorf("the ended session's GET /sessions/current = %d %s; want 401 session_revoked", resp.StatusCode, resp.Body)
	}
	h, _ := session.ParseID(laptop)
	if s, err := f.store.Session(ctx, h.Hash()); err != nil || s.RevokeReason != session.CauseEndedByUser || !s.RevokedAt.Equal(f.clock.Now()) {
		t.Errorf("the ended session as stored = %+v, %v; want revoked now, cause %s", s, err, session.CauseEndedByUser)
	}
	// The laptop cannot start another session with its IdP session's
	// tokens, refreshed or not; the phone can sign in again.
	f.clock.Add(time.Minute)
	if resp := f.call(t, "sessions/sign-in.json", f.sidToken(t, "alice", "idp-laptop"), "", nil); resp.StatusCode != 401 || body(t, resp)["reason"] != "session_revoked" {
		t.Errorf("sign-in with a refreshed token of the ended session's IdP session = %d %s; want 401 session_revoked", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/sign-in.json", f.sidToken(t, "alice", "idp-phone"), "", nil); resp.StatusCode != http.StatusCreated {
		t.Errorf("sign-in with the caller's own IdP session = %d %s; want 201", resp.StatusCode, resp.Body)
	}

	// 404 alike for another user's id, an unknown id and an ended one.
	notFound := ""
	for _, tt := range []struct{ name, id string }{
		{"bob's session", bobID},
		{"an unknown id", "0123456789abcdef"},
		{"the session just ended", laptopID},
	} {
		resp := f.end(t, phoneTok, phone, tt.id)
		if resp.StatusCode != http.StatusNotFound || body(t, resp)["reason"] != "session_unknown" || !strings.Contains(resp.Body, `"field":"id"`) {
			t.Errorf("DELETE /sessions/{%s} = %d %s; want 404 session_unknown naming id", tt.name, resp.StatusCode, resp.Body)
		}
		if notFound == "" {
			notFound = resp.Body
		} else if resp.Body != notFound {
			t.Errorf("DELETE /sessions/{%s} answers %s; %s answered %s: the answers must not tell them apart", tt.name, resp.Body, "bob's session", notFound)
		}
	}
	if !f.authorized(t, bobTok, bob) {
		t.Error("bob's session ended by alice's request")
	}
	// A malformed id: 400 naming id, nothing ended.
	for _, id := range []string{"xyz", phoneID + "0", phoneID[:15] + "g", h.Hash().String(), laptop} {
		resp := f.end(t, phoneTok, phone, id)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `"field":"id"`) {
			t.Errorf("DELETE /sessions/%s = %d %s; want 400 naming id", id, resp.StatusCode, resp.Body)
		}
	}
	if !f.authorized(t, phoneTok, phone) || !f.authorized(t, tabletTok, tablet) {
		t.Fatal("a session ended by a refused request")
	}
	// The listed id is taken in either letter case.
	if resp := f.end(t, phoneTok, phone, strings.ToUpper(tabletID)); resp.StatusCode != http.StatusNoContent || f.authorized(t, tabletTok, tablet) {
		t.Errorf("DELETE /sessions/{the tablet's id in upper case} = %d %s; want 204 and the tablet's session ended", resp.StatusCode, resp.Body)
	}
	// The caller's own id signs out, as DELETE /sessions/current does.
	resp := f.end(t, phoneTok, phone, phoneID)
	cookie := strings.Join(resp.Cookies, ";") + resp.Headers["Set-Cookie"] + strings.Join(resp.MultiValueHeaders["Set-Cookie"], ";")
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(cookie, "Max-Age=0") {
		t.Errorf("DELETE /sessions/{the current id} = %d, cookie %q; want 204 clearing the cookie", resp.StatusCode, cookie)
	}
	ph, _ := session.ParseID(phone)
	if s, _ := f.store.Session(ctx, ph.Hash()); s.RevokeReason != session.CauseSignOut || f.authorized(t, phoneTok, phone) {
		t.Errorf("the current session after DELETE of its own id = %+v; want signed out and refused", s)
	}
	if u, _ := f.store.User(ctx, "demo", session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}); !u.SignedOutAt.Equal(f.clock.Now()) {
		t.Errorf("alice's sign-out time = %v; want now: it is a sign-out", u.SignedOutAt)
	}
	for _, s := range []string{laptop, phone, bob, tablet} {
		if strings.Contains(f.logs.String(), s) {
			t.Fatal("the logs hold a session id")
		}
	}
}

// DELETE /sessions?others=true ends every live session of the caller in
// the environment but the current one, which goes on; other users' and
// other environments' sessions are untouched. A second call ends nothing.
func TestEndOtherSessions(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	first, _ := f.signInFrom(t, tok, firefoxLinux)
	second, _ := f.signInFrom(t, tok, safariIPhone)
	staging := body(t, f.call(t, "sessions/sign-in.json", tok, "", withQuery("environment=staging")))["sessionId"].(string)
	current, currentID := f.signInFrom(t, tok, firefoxLinux)
	bobTok := f.token(t, "bob", time.Time{})
	bob := f.signIn(t, bobTok)

	resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
	if resp.StatusCode != http.StatusOK || body(t, resp)["ended"] != 2.0 || body(t, resp)["truncated"] != false {
		t.Fatalf("DELETE /sessions?others=true = %d %s; want 200, ended 2", resp.StatusCode, resp.Body)
	}
	for name, sid := range map[string]string{"the first": first, "the second": second} {
		if f.authorized(t, tok, sid) {
			t.Errorf("the authorizer still allows %s session", name)
		}
	}
	if !f.authorized(t, tok, current) {
		t.Error("the current session was ended by others=true")
	}
	if !f.authorized(t, bobTok, bob) {
		t.Error("bob's session was ended by alice's others=true")
	}
	if resp := f.call(t, "sessions/current.json", tok, staging, withQuery("environment=staging")); resp.StatusCode != http.StatusOK {
		t.Errorf("alice's staging session after others=true in demo = %d %s; want 200: another environment", resp.StatusCode, resp.Body)
	}
	if got := f.list(t, tok, current); len(got.Sessions) != 1 || got.Sessions[0].ID != currentID || !got.Sessions[0].Current {
		t.Errorf("GET /sessions after others=true = %+v; want the current one alone", got.Sessions)
	}
	if resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true")); resp.StatusCode != http.StatusOK || body(t, resp)["ended"] != 0.0 {
		t.Errorf("others=true again = %d %s; want 200, ended 0", resp.StatusCode, resp.Body)
	}
	// Without others=true, nothing is ended: 400 naming others.
	for _, q := range []string{"", "others=false", "others=1", "others=true&others=true", "others=%zz"} {
		resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", q))
		if resp.StatusCode != http.StatusBadRequest || !(strings.Contains(resp.Body, `"field":"others"`) || strings.Contains(resp.Body, `"field":"(query)"`)) {
			t.Errorf("DELETE /sessions?%s = %d %s; want 400 naming others", q, resp.StatusCode, resp.Body)
		}
	}
	if !f.authorized(t, tok, current) {
		t.Error("the current session ended by a refused request")
	}
}

// idleSettings are the defaults with a 30-minute idle timeout.
func idleSettings() policy.Settings {
	s := policy.Defaults()
	s.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 30}
	return s
}

// putIdleSettings makes idleSettings demo's settings, version 1, and
// returns them.
func (f *fixture) putIdleSettings(t *testing.T) policy.Settings {
	t.Helper()
	s := idleSettings()
	if err := f.store.PutSettings(context.Background(), policy.SettingsChange{Environment: "demo", Version: 1, New: s}); err != nil {
		t.Fatal(err)
	}
	return s
}

// addSessions stores n sessions of alice in demo created at `created`
// with settings set (and the IdP session sid when not ""), as sign-ins
// from elsewhere left them, and returns them.
func (f *fixture) addSessions(t *testing.T, n int, created time.Time, set policy.Settings, sid string) []session.ID {
	t.Helper()
	alice := session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}
	var out []session.ID
	for i := 0; i < n; i++ {
		id, err := session.NewID()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Create(context.Background(), session.Session{Hash: id.Hash(), Environment: "demo", User: alice, ClientID: devidp.DefaultClientID,
			IdPSession: sid, CreatedAt: created, SettingsVersion: 1, Settings: set}, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

// A user with more live sessions than one request lists: the list says
// it is truncated and still shows the current session (the newest, past
// those reached). others=true ends them all at once, whatever one request
// reaches: the authorizer refuses every session older than the current
// one from then on.
func TestOwnSessionsBeyondOneRequest(t *testing.T) {
	f := newFixture(t)
	var live []session.ID
	for i := range ownMaxListed + 20 {
		live = append(live, f.addSessions(t, 1, f.clock.Now().Add(-time.Hour+time.Duration(i)*time.Millisecond), policy.Defaults(), "")...)
	}
	tok := f.token(t, "alice", time.Time{})
	current, currentID := f.signInFrom(t, tok, firefoxLinux)
	got := f.list(t, tok, current)
	if !got.Truncated || len(got.Sessions) != ownMaxListed+1 || got.Sessions[0].ID != currentID || !got.Sessions[0].Current {
		t.Fatalf("GET /sessions: %d listed, truncated %v, first %+v; want %d, truncated, the current first", len(got.Sessions), got.Truncated, got.Sessions[0], ownMaxListed+1)
	}
	// The store reads oldest first: the 100 oldest are listed, the 20
	// newest not (docs/sessions.md).
	listed := map[string]bool{}
	for _, s := range got.Sessions {
		listed[s.ID] = true
	}
	if !listed[live[0].Hash().Prefix()] || listed[live[len(live)-1].Hash().Prefix()] {
		t.Errorf("GET /sessions truncated lists the oldest %v, the newest %v; want the oldest reached first", listed[live[0].Hash().Prefix()], listed[live[len(live)-1].Hash().Prefix()])
	}
	resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
	if b := body(t, resp); resp.StatusCode != 200 || b["ended"] != float64(ownMaxListed+20) || b["truncated"] != false {
		t.Fatalf("others=true = %d %s; want all %d ended at once, not truncated", resp.StatusCode, resp.Body, ownMaxListed+20)
	}
	for _, id := range []session.ID{live[0], live[len(live)-1]} {
		if f.authorized(t, tok, id.Reveal()) {
			t.Error("the authorizer still allows a session others=true ended")
		}
	}
	if got := f.list(t, tok, current); len(got.Sessions) != 1 || got.Truncated || !f.authorized(t, tok, current) {
		t.Errorf("GET /sessions at last = %d sessions, truncated %v; want the current one alone, still allowed", len(got.Sessions), got.Truncated)
	}
}

// Sessions that have ended but are still stored for a week, more than
// ten pages of them (1,001 ended idle by their own settings, 1,050
// revoked one by one), do not hide the live ones created after them: GET
// /sessions lists the live ones, DELETE /sessions/{id} ends one of them,
// and others=true the rest.
func TestOwnSessionsPastEndedOnes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.addSessions(t, ownMaxPages*ownPageSize+1, f.clock.Now().Add(-3*time.Hour), idleSettings(), "")
	for _, id := range f.addSessions(t, ownMaxPages*ownPageSize+50, f.clock.Now().Add(-2*time.Hour), policy.Defaults(), "") {
		if _, _, err := f.store.Revoke(ctx, id.Hash(), f.clock.Now().Add(-90*time.Minute), session.CauseEndedByUser); err != nil {
			t.Fatal(err)
		}
	}
	live := f.addSessions(t, 5, f.clock.Now().Add(-time.Hour), policy.Defaults(), "")
	tok := f.token(t, "alice", time.Time{})
	current, _ := f.signInFrom(t, tok, firefoxLinux)
	got := f.list(t, tok, current)
	if len(got.Sessions) != 6 || got.Truncated {
		t.Fatalf("GET /sessions behind 2,051 ended sessions = %d listed, truncated %v; want the current one and the 5 live ones", len(got.Sessions), got.Truncated)
	}
	if resp := f.end(t, tok, current, live[0].Hash().Prefix()); resp.StatusCode != http.StatusNoContent || f.authorized(t, tok, live[0].Reveal()) {
		t.Errorf("DELETE /sessions/{a live one behind them} = %d %s; want 204, and the session refused", resp.StatusCode, resp.Body)
	}
	resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
	if b := body(t, resp); resp.StatusCode != 200 || b["ended"] != 4.0 || b["truncated"] != false {
		t.Errorf("others=true = %d %s; want the 4 live ones left ended (the ended ones not counted)", resp.StatusCode, resp.Body)
	}
	if got := f.list(t, tok, current); len(got.Sessions) != 1 || !f.authorized(t, tok, current) {
		t.Errorf("GET /sessions at last = %d sessions; want the current one alone, still allowed", len(got.Sessions))
	}
}

// "Sign out everywhere else" also stops a thief who holds a copy of the
// caller's own token (the same IdP session, or a token without one): the
// thief's session is refused, and the copy cannot start another. The
// caller's session goes on; a new sign-in needs a new authentication at
// the IdP, as after a sign-out.
func TestSignOutEverywhereElseStopsCopiesOfTheToken(t *testing.T) {
	for _, tt := range []struct {
		name string
		tok  func(f *fixture) string
	}{
		{"a token of an IdP session", func(f *fixture) string { return f.sidToken(t, "alice", "victims-browser") }},
		{"a token without sid", func(f *fixture) string { return f.token(t, "alice", time.Time{}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok := tt.tok(f)
			f.clock.Add(time.Minute)
			thief, _ := f.signInFrom(t, tok, firefoxLinux)
			f.clock.Add(time.Minute)
			victim, _ := f.signInFrom(t, tok, safariIPhone)
			f.clock.Add(time.Minute)
			resp := f.call(t, "sessions/current.json", tok, victim, at("DELETE", "/sessions", "others=true"))
			if b := body(t, resp); resp.StatusCode != 200 || b["ended"] != 1.0 {
				t.Fatalf("others=true = %d %s; want the thief's session ended", resp.StatusCode, resp.Body)
			}
			if f.authorized(t, tok, thief) || !f.authorized(t, tok, victim) {
				t.Fatal("after others=true the thief's session is allowed, or the caller's is not")
			}
			if resp := f.call(t, "sessions/sign-in.json", tok, "", userAgent(firefoxLinux)); resp.StatusCode != 401 || body(t, resp)["reason"] != "session_revoked" {
				t.Errorf("sign-in with a copy of the caller's token = %d %s; want 401 session_revoked", resp.StatusCode, resp.Body)
			}
			if resp := f.call(t, "sessions/sign-in.json", f.token(t, "alice", f.clock.Now().Add(time.Second)), "", nil); resp.StatusCode != http.StatusCreated {
				t.Errorf("sign-in with a new authentication = %d %s; want 201", resp.StatusCode, resp.Body)
			}
		})
	}
}

// DELETE /sessions/{id} ends the caller's other sessions of the same IdP
// session in the environment too (another tab in header mode), never the
// current one, and records that IdP session as ended. When it is the
// caller's own IdP session (a copy of the caller's token), it is not
// recorded as ended: the copy can start another session, which
// others=true then stops.
func TestEndOwnSessionEndsItsIdPSession(t *testing.T) {
	f := newFixture(t)
	laptopTok, phoneTok := f.sidToken(t, "alice", "idp-laptop"), f.sidToken(t, "alice", "idp-phone")
	tab1, tab1ID := f.signInFrom(t, laptopTok, firefoxLinux)
	tab2, _ := f.signInFrom(t, laptopTok, firefoxLinux)
	phone, _ := f.signInFrom(t, phoneTok, safariIPhone)
	copyOfPhone, copyID := f.signInFrom(t, phoneTok, firefoxLinux)
	f.clock.Add(time.Minute)
	if resp := f.end(t, phoneTok, phone, tab1ID); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /sessions/{one tab's id} = %d %s", resp.StatusCode, resp.Body)
	}
	if f.authorized(t, laptopTok, tab1) || f.authorized(t, laptopTok, tab2) {
		t.Error("a session of the ended session's IdP session is still allowed")
	}
	if resp := f.call(t, "sessions/sign-in.json", laptopTok, "", nil); resp.StatusCode != 401 {
		t.Errorf("sign-in with the ended IdP session's token = %d; want 401", resp.StatusCode)
	}
	// The caller's own IdP session: the other session of it ends, the
	// current one goes on, and the token can sign in again.
	if resp := f.end(t, phoneTok, phone, copyID); resp.StatusCode != http.StatusNoContent || f.authorized(t, phoneTok, copyOfPhone) || !f.authorized(t, phoneTok, phone) {
		t.Fatalf("DELETE /sessions/{a session of the caller's own IdP session} = %d %s; want it ended and the caller's going on", resp.StatusCode, resp.Body)
	}
	again := f.call(t, "sessions/sign-in.json", phoneTok, "", userAgent(firefoxLinux))
	if again.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in with a copy of the caller's token after ending one session = %d %s; want 201 (the limit docs/sessions.md states)", again.StatusCode, again.Body)
	}
	f.clock.Add(time.Minute)
	if resp := f.call(t, "sessions/current.json", phoneTok, phone, at("DELETE", "/sessions", "others=true")); resp.StatusCode != 200 || f.authorized(t, phoneTok, body(t, again)["sessionId"].(string)) {
		t.Errorf("others=true = %d %s; want the copy's new session ended", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/sign-in.json", phoneTok, "", userAgent(firefoxLinux)); resp.StatusCode != 401 {
		t.Errorf("sign-in with the copy after others=true = %d; want 401", resp.StatusCode)
	}
}

// An admin's settings change applied to running sessions judges them in
// the list and when ending them, as the authorizer judges them: a session
// its own snapshot ended (idle) but the change keeps alive is listed,
// ended by DELETE /sessions/{id}, and by others=true.
func TestOwnSessionsUnderAnAppliedChange(t *testing.T) {
	for _, how := range []string{"DELETE /sessions/{id}", "others=true"} {
		t.Run(how, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.putIdleSettings(t)
			otherTok := f.sidToken(t, "alice", "elsewhere")
			other, otherID := f.signInFrom(t, otherTok, firefoxLinux)
			if err := f.store.PutSettings(ctx, policy.SettingsChange{Environment: "demo", Version: 2, New: policy.Defaults(), ApplyToRunning: true}); err != nil {
				t.Fatal(err)
			}
			f.clock.Add(45 * time.Minute) // past the snapshot's idle end
			// The authorizer's judgement, without recording activity.
			if res := f.auth.Check(ctx, authorizer.Identity{Authorization: "Bearer " + otherTok, SessionID: other, Environment: "demo"}); !res.Allowed() {
				t.Fatalf("the authorizer refuses the session the applied change keeps alive: %s", res.Reason)
			}
			tok := f.sidToken(t, "alice", "here")
			current, _ := f.signInFrom(t, tok, safariIPhone)
			got := f.list(t, tok, current)
			if len(got.Sessions) != 2 || got.Sessions[1].ID != otherID || got.Sessions[1].IdleExpiresAt != nil {
				t.Fatalf("GET /sessions = %+v; want the current one and the other, without an idle end (the applied change has none)", got.Sessions)
			}
			if how == "others=true" {
				resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
				if resp.StatusCode != 200 || body(t, resp)["ended"] != 1.0 {
					t.Fatalf("others=true = %d %s; want 1 ended", resp.StatusCode, resp.Body)
				}
			} else if resp := f.end(t, tok, current, otherID); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE /sessions/{its id} = %d %s; want 204", resp.StatusCode, resp.Body)
			}
			if f.authorized(t, otherTok, other) {
				t.Error("the authorizer still allows the session after it was ended")
			}
		})
	}
}

// A session of the caller's in another environment is not one of their
// sessions here: its listed id is 404 from this environment's session, and
// it goes on.
func TestEndOwnSessionOfAnotherEnvironment(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	stg := body(t, f.call(t, "sessions/sign-in.json", tok, "", withQuery("environment=staging")))
	demo, _ := f.signInFrom(t, tok, firefoxLinux)
	resp := f.end(t, tok, demo, stg["sessionHashPrefix"].(string))
	if resp.StatusCode != http.StatusNotFound || body(t, resp)["reason"] != "session_unknown" {
		t.Errorf("DELETE /sessions/{a staging session's id} from a demo session = %d %s; want 404 session_unknown", resp.StatusCode, resp.Body)
	}
	if resp := f.end(t, tok, demo, stg["sessionHashPrefix"].(string), withQuery("environment=staging")); resp.StatusCode != http.StatusForbidden || body(t, resp)["reason"] != "binding_environment" {
		t.Errorf("the same with ?environment=staging = %d %s; want 403 binding_environment (the demo session is judged in staging)", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/current.json", tok, stg["sessionId"].(string), withQuery("environment=staging")); resp.StatusCode != http.StatusOK {
		t.Errorf("the staging session afterwards = %d %s; want 200", resp.StatusCode, resp.Body)
	}
}

// Two of a user's sessions whose listed ids are the same (64 bits of
// their hashes; not expected in a deployment's life) are never guessed
// between: 409, nothing ended.
func TestAmbiguousOwnSessionID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}
	var twins [2]session.Hash
	for i := range twins {
		twins[i] = session.Hash{0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, byte(i + 1)}
		if _, err := f.store.Create(ctx, session.Session{Hash: twins[i], Environment: "demo", User: alice, CreatedAt: f.clock.Now(),
			SettingsVersion: 1, Settings: policy.Defaults()}, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	tok := f.token(t, "alice", time.Time{})
	current := f.signIn(t, tok)
	resp := f.end(t, tok, current, twins[0].Prefix())
	if b := body(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, `"field":"id"`) || b["type"] != ProblemAmbiguousID || b["reason"] != nil {
		t.Fatalf("DELETE /sessions/%s naming two sessions = %d %s; want 409 of type %s naming id, no reason code (not a refusal)", twins[0].Prefix(), resp.StatusCode, resp.Body, ProblemAmbiguousID)
	}
	for _, h := range twins {
		if s, _ := f.store.Session(ctx, h); s.Revoked() {
			t.Errorf("session %s ended by an ambiguous id", h)
		}
	}
}

// A page of an origin that is neither listed nor the API's own cannot end
// sessions, even without a preflight; the listed origin's preflight allows
// DELETE on a listed id, and its request ends the session.
func TestEndingFromForeignOriginsRefused(t *testing.T) {
	f := twoEnvironments(t)
	tok := f.token(t, "alice", time.Time{})
	other, otherID := f.signInFrom(t, tok, firefoxLinux)
	current, _ := f.signInFrom(t, tok, safariIPhone)
	evil := func(ev *awsevents.APIGatewayV2HTTPRequest) { ev.Headers["origin"] = "https://evil.example" }
	if resp := f.end(t, tok, current, otherID, evil); resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, `"field":"Origin"`) {
		t.Errorf("DELETE /sessions/{id} from another origin = %d %s; want 403 naming Origin", resp.StatusCode, resp.Body)
	}
	if resp := f.call(t, "sessions/current.json", tok, current, func(ev *awsevents.APIGatewayV2HTTPRequest) {
		at("DELETE", "/sessions", "others=true")(ev)
		evil(ev)
	}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE /sessions?others=true from another origin = %d %s; want 403", resp.StatusCode, resp.Body)
	}
	if !f.authorized(t, tok, other) {
		t.Fatal("a foreign origin's request ended a session")
	}
	pre := f.call(t, "sessions/current.json", tok, "", preflight("/sessions/"+otherID, "https://app.example.com", "DELETE"))
	if pre.StatusCode != http.StatusNoContent || pre.Headers["Access-Control-Allow-Methods"] != "DELETE" || pre.Headers["Access-Control-Allow-Origin"] != "https://app.example.com" {
		t.Errorf("preflight of DELETE /sessions/{id} from the listed origin = %d %v; want 204 allowing DELETE", pre.StatusCode, pre.Headers)
	}
	if pre := f.call(t, "sessions/current.json", tok, "", preflight("/sessions/"+otherID, "https://evil.example", "DELETE")); pre.StatusCode != http.StatusForbidden {
		t.Errorf("preflight of DELETE /sessions/{id} from another origin = %d; want 403", pre.StatusCode)
	}
	listed := func(ev *awsevents.APIGatewayV2HTTPRequest) { ev.Headers["origin"] = "https://app.example.com" }
	if resp := f.end(t, tok, current, otherID, listed); resp.StatusCode != http.StatusNoContent || resp.Headers["Access-Control-Allow-Origin"] != "https://app.example.com" {
		t.Errorf("DELETE /sessions/{id} from the listed origin = %d %v; want 204, readable by it", resp.StatusCode, resp.Headers)
	}
	if f.authorized(t, tok, other) {
		t.Error("the session the listed origin ended is still allowed")
	}
}

// cutShort is a store whose first RevokeUser is cut short: after it has
// moved the user's revocation point and marked the sessions ended, it
// reports one of them and an error, as a request whose time budget ran out
// would leave it; with early, it fails before it changes anything.
type cutShort struct {
	Store
	early bool
	calls int
}

func (c *cutShort) RevokeUser(ctx context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	c.calls++
	if c.calls > 1 {
		return c.Store.RevokeUser(ctx, env, user, from, at, why)
	}
	if c.early {
		return nil, errors.New("the store cannot be reached")
	}
	ended, err := c.Store.RevokeUser(ctx, env, user, from, at, why)
	if err != nil || len(ended) == 0 {
		return ended, err
	}
	return ended[:1], context.DeadlineExceeded
}

// "Sign out everywhere else" cut short once the user's revocation point has
// moved answers 200 with truncated (every older session is refused
// already, and a repeat marks the rest); cut short before it moved, it is
// 503 and nothing is ended.
func TestEndAllButCurrentCutShort(t *testing.T) {
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprintf("early=%v", early), func(t *testing.T) {
			cs := &cutShort{early: early}
			f := newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
				return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
			}, func(c *Config) { cs.Store, c.Store = c.Store, cs })
			others := f.addSessions(t, 3, f.clock.Now().Add(-time.Hour), policy.Defaults(), "")
			tok := f.token(t, "alice", time.Time{})
			current, _ := f.signInFrom(t, tok, firefoxLinux)
			resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
			allowed := 0
			for _, id := range others {
				if f.authorized(t, tok, id.Reveal()) {
					allowed++
				}
			}
			switch {
			case early && (resp.StatusCode != http.StatusServiceUnavailable || allowed != 3):
				t.Errorf("others=true failing before the revocation point moved = %d %s, %d of 3 still allowed; want 503 and all 3 allowed", resp.StatusCode, resp.Body, allowed)
			case !early && (resp.StatusCode != http.StatusOK || body(t, resp)["truncated"] != true || body(t, resp)["ended"] != 1.0 || allowed != 0):
				t.Errorf("others=true cut short after the revocation point moved = %d %s, %d of 3 still allowed; want 200, ended 1, truncated, none allowed", resp.StatusCode, resp.Body, allowed)
			}
			if !f.authorized(t, tok, current) {
				t.Fatal("the current session was ended")
			}
			want := map[bool]float64{false: 0, true: 3}[early]
			if resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true")); resp.StatusCode != http.StatusOK ||
				body(t, resp)["truncated"] != false || body(t, resp)["ended"] != want {
				t.Errorf("others=true again = %d %s; want 200, ended %v, not truncated", resp.StatusCode, resp.Body, want)
			}
		})
	}
}

// ticking is a store on which every call takes step of the API's clock,
// as a slow store would take of the real one; it counts the writes
// issued once the clock has reached deadline.
type ticking struct {
	Store
	clock    *devidp.Clock
	step     time.Duration
	deadline time.Time
	late     int
}

func (s *ticking) tick(write bool) {
	if write && !s.clock.Now().Before(s.deadline) {
		s.late++
	}
	s.clock.Add(s.step)
}

func (s *ticking) User(ctx context.Context, env string, u session.UserKey) (session.User, error) {
	s.tick(false)
	return s.Store.User(ctx, env, u)
}

func (s *ticking) Override(ctx context.Context, env string) (session.Override, error) {
	s.tick(false)
	return s.Store.Override(ctx, env)
}

func (s *ticking) UserSessions(ctx context.Context, env string, u session.UserKey, p session.Page) ([]session.Session, string, error) {
	s.tick(false)
	return s.Store.UserSessions(ctx, env, u, p)
}

func (s *ticking) RecordSignOut(ctx context.Context, env string, u session.UserKey, at time.Time) error {
	s.tick(true)
	return s.Store.RecordSignOut(ctx, env, u, at)
}

func (s *ticking) RevokeUser(ctx context.Context, env string, u session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	s.tick(true)
	return s.Store.RevokeUser(ctx, env, u, from, at, why)
}

func (s *ticking) Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error) {
	s.tick(true)
	return s.Store.Revoke(ctx, h, at, why)
}

func (s *ticking) EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error {
	s.tick(true)
	return s.Store.EndIdPSession(ctx, env, issuer, sid, at)
}

// "Sign out everywhere else" runs within one deadline, the default
// budget from the request's start: on a store whose every call takes
// 10 ms of the API's clock, 300 older sessions of distinct IdP sessions
// and 100 newer ones take past it. The request issues no write once the
// deadline has passed, and answers 200 with truncated: every older
// session is refused (the revocation point moved first), some newer ones
// are left, and a repeat ends them. Cut before the revocation point moved
// (a store call taking the whole budget), it is 503 with Retry-After, no
// write is issued and every session stays allowed.
func TestEndAllButCurrentDeadline(t *testing.T) {
	ts := &ticking{step: 10 * time.Millisecond}
	f := newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
		return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
	}, func(c *Config) { ts.Store, c.Store = c.Store, ts })
	ts.clock = f.clock
	var older []session.ID
	for i := range 300 {
		older = append(older, f.addSessions(t, 1, f.clock.Now().Add(-time.Hour+time.Duration(i)*time.Millisecond), policy.Defaults(), fmt.Sprintf("device-%d", i))...)
	}
	tok := f.token(t, "alice", time.Time{})
	current, _ := f.signInFrom(t, tok, firefoxLinux)
	newer := f.addSessions(t, 100, f.clock.Now().Add(time.Second), policy.Defaults(), "")
	f.clock.Add(time.Minute)

	ts.deadline = f.clock.Now().Add(ownEndBudget)
	resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
	b := body(t, resp)
	if resp.StatusCode != http.StatusOK || b["truncated"] != true {
		t.Fatalf("others=true past the deadline = %d %s; want 200, truncated", resp.StatusCode, resp.Body)
	}
	if ts.late != 0 {
		t.Errorf("others=true issued %d writes after its deadline; want none", ts.late)
	}
	for _, id := range []session.ID{older[0], older[299]} {
		if f.authorized(t, tok, id.Reveal()) {
			t.Error("an older session is still allowed after others=true was cut short")
		}
	}
	left := 0
	for _, id := range newer {
		if f.authorized(t, tok, id.Reveal()) {
			left++
		}
	}
	if left == 0 || left == len(newer) || b["ended"] != float64(300+len(newer)-left) {
		t.Errorf("others=true cut short ended %v, left %d of %d newer sessions allowed; want some of them ended and counted", b["ended"], left, len(newer))
	}
	ts.deadline = f.clock.Now().Add(ownEndBudget)
	resp = f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
	if b := body(t, resp); resp.StatusCode != http.StatusOK || b["truncated"] != false || b["ended"] != float64(left) {
		t.Errorf("others=true again = %d %s; want the %d left ended, not truncated", resp.StatusCode, resp.Body, left)
	}
	if !f.authorized(t, tok, current) {
		t.Error("the current session was ended")
	}

	t.Run("before the revocation point moved", func(t *testing.T) {
		ts := &ticking{step: ownEndBudget}
		f := newFixtureEdit(t, func(idp *devidp.Issuer) []token.Issuer {
			return []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}
		}, func(c *Config) { ts.Store, c.Store = c.Store, ts })
		ts.clock = f.clock
		others := f.addSessions(t, 3, f.clock.Now().Add(-time.Hour), policy.Defaults(), "")
		tok := f.token(t, "alice", time.Time{})
		current, _ := f.signInFrom(t, tok, firefoxLinux)
		ts.deadline = f.clock.Now().Add(ownEndBudget)
		resp := f.call(t, "sessions/current.json", tok, current, at("DELETE", "/sessions", "others=true"))
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["Retry-After"] == "" || ts.late != 0 {
			t.Errorf("others=true past its deadline at once = %d, Retry-After %q, %d late writes; want 503 with Retry-After, none", resp.StatusCode, resp.Headers["Retry-After"], ts.late)
		}
		for _, id := range others {
			if !f.authorized(t, tok, id.Reveal()) {
				t.Error("others=true cut before the revocation point moved ended a session")
			}
		}
	})
}

// An id DELETE /sessions/{id} does not find is 404 session_unknown
// whether or not the search read all of the caller's sessions; when it
// could not (more than one request reads), the detail says the id may
// name one beyond them.
func TestEndOwnSessionBeyondOneRequest(t *testing.T) {
	for _, many := range []bool{false, true} {
		t.Run(fmt.Sprintf("beyond=%v", many), func(t *testing.T) {
			f := newFixture(t)
			n := 3
			if many {
				n = ownMaxPages*ownPageSize + 1
			}
			f.addSessions(t, n, f.clock.Now().Add(-time.Hour), policy.Defaults(), "")
			tok := f.token(t, "alice", time.Time{})
			current, _ := f.signInFrom(t, tok, firefoxLinux)
			resp := f.end(t, tok, current, "0123456789abcdef")
			b := body(t, resp)
			beyond := strings.Contains(fmt.Sprint(b["detail"]), "beyond")
			if resp.StatusCode != http.StatusNotFound || b["reason"] != "session_unknown" || beyond != many {
				t.Errorf("DELETE /sessions/{unknown} with %d others = %d %s; want 404 session_unknown, the detail saying beyond: %v", n, resp.StatusCode, resp.Body, many)
			}
		})
	}
}

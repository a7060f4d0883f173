package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
)

// What the user's own sessions (shared/sessionapi, own.go) need of a
// store.

// listPastUnlisted: a page of a user's sessions holds as many sessions as
// it asks for when that many remain, however many revoked (still stored),
// expired and, with Unended, ended-by-their-limits ones were created
// before them; Unended lists a session its own limits have ended when the
// change given judges it instead; with After, the listing starts past
// that point, to the nanosecond.
func listPastUnlisted(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	short := policy.Defaults()
	short.SessionExpiration.Enabled, short.SessionExpiration.MaxSessionMinutes = true, 60
	for i := range 3 { // ended by their settings over a week ago: expired
		create(t, st, NewSession(t, "prod", alice, T0.Add(-9*24*time.Hour+time.Duration(i)*time.Millisecond), short), session.Limit{})
	}
	for i := range 12 { // revoked: still stored for a week
		s := NewSession(t, "prod", alice, T0.Add(time.Second+time.Duration(i)*time.Millisecond), policy.Defaults())
		create(t, st, s, session.Limit{})
		if _, _, err := st.Revoke(ctx, s.Hash, T0.Add(time.Hour), session.CauseEndedByUser); err != nil {
			t.Fatal(err)
		}
	}
	idle := policy.Defaults()
	idle.InactivityTimeout.Enabled, idle.InactivityTimeout.Minutes = true, 30
	for i := range 3 { // ended idle, by their own settings, still stored
		create(t, st, NewSession(t, "prod", alice, T0.Add(2*time.Second+time.Duration(i)*time.Millisecond), idle), session.Limit{})
	}
	var live []session.Session
	for i := range 3 {
		s := NewSession(t, "prod", alice, T0.Add(time.Hour+time.Duration(i)*time.Nanosecond), policy.Defaults())
		create(t, st, s, session.Limit{})
		live = append(live, s)
	}
	clock.Set(T0.Add(2 * time.Hour))
	unended := &session.Override{}
	hashes := func(list []session.Session) []session.Hash {
		var out []session.Hash
		for _, s := range list {
			out = append(out, s.Hash)
		}
		return out
	}
	first, next, err := st.UserSessions(ctx, "prod", alice, session.Page{Limit: 2, Unended: unended})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hashes(first), hashes(live[:2])) || next == "" {
		t.Fatalf("first page of 2 behind 18 unlisted sessions = %d sessions, cursor %q; want the 2 oldest live ones and a cursor", len(first), next)
	}
	got := first
	for pages := 1; next != "" && pages < 5; pages++ {
		var page []session.Session
		if page, next, err = st.UserSessions(ctx, "prod", alice, session.Page{Limit: 2, Cursor: next, Unended: unended}); err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
	}
	if !slices.Equal(hashes(got), hashes(live)) {
		t.Errorf("listing in pages of 2 = %d sessions; want the 3 live ones, oldest first", len(got))
	}
	for _, tt := range []struct {
		name string
		p    session.Page
		want int
	}{
		{"without Unended (the ended-idle ones too)", session.Page{Limit: 100}, 6},
		{"with revoked ones", session.Page{Limit: 100, Revoked: true}, 18},
		{"with Unended at a newer version than theirs (the ended-idle ones, for the caller to judge)", session.Page{Limit: 100, Unended: &session.Override{Version: 1}}, 6},
	} {
		if list, _, err := st.UserSessions(ctx, "prod", alice, tt.p); err != nil || len(list) != tt.want {
			t.Errorf("listing %s = %d sessions, %v; want %d (never the expired ones)", tt.name, len(list), err, tt.want)
		}
	}
	for _, tt := range []struct {
		after time.Time
		want  []session.Session
	}{
		{revoke.Before(live[0].CreatedAt), live},
		{live[0].CreatedAt, live[1:]},
		{live[2].CreatedAt, nil},
	} {
		list, _, err := st.UserSessions(ctx, "prod", alice, session.Page{Limit: 100, After: tt.after, Unended: unended})
		if err != nil || !slices.Equal(hashes(list), hashes(tt.want)) {
			t.Errorf("listing after %v = %d sessions, %v; want the %d created after it", tt.after, len(list), err, len(tt.want))
		}
	}
}

// revokeAllButOne: RevokeUser from revoke.Before(s.CreatedAt) ends the
// user's sessions created before s, and not s, nor one created in the same
// nanosecond or after: Lookup gives s as the authorizer judges it, allowed.
// A session that had ended by its own limits is left as it ended (refused
// all the same).
func revokeAllButOne(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	idle := policy.Defaults()
	idle.InactivityTimeout.Enabled, idle.InactivityTimeout.Minutes = true, 30
	idleEnded := NewSession(t, "prod", alice, T0.Add(-2*time.Hour), idle)
	older := NewSession(t, "prod", alice, T0.Add(-time.Nanosecond), policy.Defaults())
	cur := NewSession(t, "prod", alice, T0, policy.Defaults())
	twin := NewSession(t, "prod", alice, T0, policy.Defaults())
	newer := NewSession(t, "prod", alice, T0.Add(time.Nanosecond), policy.Defaults())
	for _, s := range []session.Session{idleEnded, older, cur, twin, newer} {
		create(t, st, s, session.Limit{})
	}
	at := T0.Add(time.Hour)
	clock.Set(at)
	from := revoke.Before(cur.CreatedAt)
	ended, err := st.RevokeUser(ctx, "prod", alice, from, at, session.CauseEndedByUser)
	if err != nil || len(ended) != 1 || ended[0].Hash != older.Hash {
		t.Fatalf("RevokeUser(from just before a session) = %d sessions, %v; want only the one created a nanosecond before it", len(ended), err)
	}
	u, err := st.User(ctx, "prod", alice)
	if err != nil || !u.SessionsValidFrom.Equal(from) {
		t.Fatalf("SessionsValidFrom = %v, %v; want %v exactly", u.SessionsValidFrom, err, from)
	}
	judged := func(h session.Hash) policy.Decision {
		s, u, err := st.Lookup(ctx, h, "prod", alice)
		if err != nil {
			t.Fatal(err)
		}
		return s.Settings.Evaluate(s.PolicyView(u).Presenting(s.ClientID), at, policy.Enforcement{})
	}
	for name, s := range map[string]session.Session{"the session kept": cur, "one created in the same nanosecond": twin, "one created after": newer} {
		if d := judged(s.Hash); !d.Allowed() {
			t.Errorf("%s, judged as the authorizer does = %s; want allowed", name, d.Reason)
		}
	}
	if d := judged(older.Hash); d.Reason != "session_revoked" {
		t.Errorf("the older session, judged as the authorizer does = %s; want session_revoked", d.Reason)
	}
	if s, err := st.Session(ctx, idleEnded.Hash); err != nil || s.Revoked() || judged(idleEnded.Hash).Allowed() {
		t.Errorf("the session ended idle before = %+v, %v; want it left as it ended (not revoked), and refused", s, err)
	}
}

// overrideAtSignIn: Override gives the latest change applied to running
// sessions, and Create judges the user's sessions under it, as Lookup
// returns them: a session its own snapshot has ended but the change keeps
// alive counts towards the limit.
func overrideAtSignIn(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	idle := policy.Defaults()
	idle.InactivityTimeout.Enabled, idle.InactivityTimeout.Minutes = true, 30
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 1, At: T0, Actor: "admin", Old: policy.Defaults(), New: idle}); err != nil {
		t.Fatal(err)
	}
	if o, err := st.Override(ctx, "prod"); err != nil || o.Version != 0 {
		t.Fatalf("Override before any change applied to running sessions = %+v, %v; want none", o, err)
	}
	running := NewSession(t, "prod", alice, T0, idle)
	running.SettingsVersion = 1
	create(t, st, running, session.Limit{})
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 2, At: T0, Actor: "admin", Old: idle, New: policy.Defaults(), ApplyToRunning: true}); err != nil {
		t.Fatal(err)
	}
	o, err := st.Override(ctx, "prod")
	if err != nil || o.Version != 2 || o.Settings.InactivityTimeout.Enabled {
		t.Fatalf("Override = %+v, %v; want version 2 without the idle timeout", o, err)
	}
	if o, err := st.Override(ctx, "staging"); err != nil || o.Version != 0 {
		t.Errorf("another environment's Override = %+v, %v; want none", o, err)
	}
	clock.Set(T0.Add(45 * time.Minute)) // idle past its snapshot's 30 minutes
	live := func(s session.Session) bool {
		return !s.Revoked() && s.Settings.Evaluate(s.PolicyView(session.User{}).AsSignedIn(), clock.Now(), policy.Enforcement{}).Allowed()
	}
	next := NewSession(t, "prod", alice, clock.Now(), policy.Defaults())
	if _, err := st.Create(ctx, next, session.Limit{Max: 1, OnLimit: policy.DenyNew}, live); !errors.Is(err, session.ErrLimitReached) {
		t.Errorf("sign-in at a limit of 1 beside a session the applied change keeps alive: error = %v; want ErrLimitReached", err)
	}
	ended, err := st.Create(ctx, next, session.Limit{Max: 1, OnLimit: policy.EndOldest}, live)
	if err != nil || len(ended) != 1 || ended[0].Hash != running.Hash {
		t.Errorf("end_oldest at a limit of 1 = %d ended, %v; want the running session ended", len(ended), err)
	}
}

// appliedChangeNeverRevives: a change applied to running sessions judges
// only the sessions still running when it was applied (the store keeps
// when that was); one its snapshot had already ended stays ended, however
// much the change loosens the limits, and a running one takes it.
func appliedChangeNeverRevives(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	idle := policy.Defaults()
	idle.InactivityTimeout.Enabled, idle.InactivityTimeout.Minutes = true, 30
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 1, At: T0, Actor: "admin", Old: policy.Defaults(), New: idle}); err != nil {
		t.Fatal(err)
	}
	ended := NewSession(t, "prod", alice, T0, idle) // idle from T0+30m
	ended.SettingsVersion = 1
	create(t, st, ended, session.Limit{})
	running := NewSession(t, "prod", alice, T0.Add(20*time.Minute), idle) // idle from T0+50m
	running.SettingsVersion = 1
	create(t, st, running, session.Limit{})
	applied := T0.Add(45 * time.Minute)
	clock.Set(applied)
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 2, At: applied, Actor: "admin", Old: idle, New: policy.Defaults(), ApplyToRunning: true}); err != nil {
		t.Fatal(err)
	}
	if o, err := st.Override(ctx, "prod"); err != nil || !o.AppliedAt.Equal(applied) {
		t.Fatalf("Override = %+v, %v; want it applied at %v", o, err, applied)
	}
	clock.Set(T0.Add(2 * time.Hour)) // both past their snapshot's idle timeout by now
	allowed := func(h session.Hash) bool {
		s, u, err := st.Lookup(ctx, h, "prod", alice)
		if err != nil {
			t.Fatal(err)
		}
		return s.Settings.Evaluate(s.PolicyView(u).AsSignedIn(), clock.Now(), policy.Enforcement{}).Allowed()
	}
	if allowed(ended.Hash) {
		t.Error("a session ended idle before the change was applied is allowed again under it")
	}
	if !allowed(running.Hash) {
		t.Error("a session running when the change was applied is not judged by it")
	}
}

package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// endedIdPSessions: an ended IdP session is remembered per environment and
// issuer, from its first end, until its retention passes.
func endedIdPSessions(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	if _, ended, err := st.IdPSessionEnded(ctx, "prod", alice.Issuer, "sid-1"); err != nil || ended {
		t.Fatalf("IdPSessionEnded before any end = %v, %v; want false", ended, err)
	}
	if err := st.EndIdPSession(ctx, "prod", alice.Issuer, "sid-1", T0); err != nil {
		t.Fatal(err)
	}
	if err := st.EndIdPSession(ctx, "prod", alice.Issuer, "sid-1", T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if at, ended, err := st.IdPSessionEnded(ctx, "prod", alice.Issuer, "sid-1"); err != nil || !ended || !at.Equal(T0) {
		t.Errorf("IdPSessionEnded(prod, sid-1) = %v, %v, %v; want the first end, %v", at, ended, err, T0)
	}
	for _, c := range []struct{ env, iss, sid string }{{"staging", alice.Issuer, "sid-1"}, {"prod", "https://other.example/", "sid-1"}, {"prod", alice.Issuer, "sid-2"}} {
		if _, ended, err := st.IdPSessionEnded(ctx, c.env, c.iss, c.sid); err != nil || ended {
			t.Errorf("IdPSessionEnded(%+v) = %v, %v; want false", c, ended, err)
		}
	}
	// The IdP session's links still list only sessions.
	if hs, err := st.IdPSessionHashes(ctx, alice.Issuer, "sid-1"); err != nil || len(hs) != 0 {
		t.Errorf("IdPSessionHashes of an ended IdP session with no sessions = %v, %v; want none", hs, err)
	}
	clock.Set(T0.Add(session.EndedIdPSessionRetention))
	if _, ended, err := st.IdPSessionEnded(ctx, "prod", alice.Issuer, "sid-1"); err != nil || ended {
		t.Errorf("IdPSessionEnded after the retention = %v, %v; want false", ended, err)
	}
}

// idpSessionHashes: IdPSessionHashes lists the sessions of one IdP session,
// in every environment, and only those of its issuer.
func idpSessionHashes(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	var in []session.Hash
	for i, sid := range []string{"op-1", "op-1", "op-2", ""} {
		env := []string{"prod", "test", "prod", "prod"}[i]
		s := NewSession(t, env, alice, T0, policy.Defaults())
		s.IdPSession = sid
		create(t, st, s, session.Limit{})
		if sid == "op-1" {
			in = append(in, s.Hash)
		}
	}
	got, err := st.IdPSessionHashes(ctx, alice.Issuer, "op-1")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b session.Hash) int { return strings.Compare(a.String(), b.String()) })
	slices.SortFunc(in, func(a, b session.Hash) int { return strings.Compare(a.String(), b.String()) })
	if !slices.Equal(got, in) {
		t.Fatalf("IdPSessionHashes(op-1) = %v; want the two sessions of op-1, in both environments", got)
	}
	if got, err := st.IdPSessionHashes(ctx, "https://other.example", "op-1"); err != nil || len(got) != 0 {
		t.Fatalf("another issuer's op-1 = %v, %v; want none", got, err)
	}
}

// sessionOfIdPSessionBy: SessionOfIdPSessionBy finds a session of the
// user in the environment from the IdP session created at or before the
// time asked, ended or not; an idle-only session's link is kept however
// long its activity keeps it going, an absolute one's until Retention
// after its absolute end.
func sessionOfIdPSessionBy(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	bob := session.UserKey{Issuer: alice.Issuer, Subject: "bob"}
	idle := policy.Defaults()
	idle.InactivityTimeout.Enabled, idle.InactivityTimeout.Minutes = true, 30
	capped := policy.Defaults()
	capped.SessionExpiration.Enabled, capped.SessionExpiration.MaxSessionMinutes = true, 60
	s1 := NewSession(t, "prod", alice, T0, idle)
	s1.IdPSession = "op-1"
	create(t, st, s1, session.Limit{})
	s2 := NewSession(t, "prod", alice, T0.Add(time.Hour), capped)
	s2.IdPSession = "op-2"
	create(t, st, s2, session.Limit{})
	if _, _, err := st.Revoke(ctx, s2.Hash, T0.Add(90*time.Minute), session.CauseAdmin); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  string
		user session.UserKey
		sid  string
		by   time.Time
		want bool
	}{
		{"prod", alice, "op-1", T0, true},
		{"prod", alice, "op-1", T0.Add(time.Hour), true},
		{"prod", alice, "op-1", T0.Add(-time.Nanosecond), false},
		{"staging", alice, "op-1", T0.Add(time.Hour), false},
		{"prod", bob, "op-1", T0.Add(time.Hour), false},
		{"prod", alice, "op-3", T0.Add(time.Hour), false},
		{"prod", alice, "op-2", T0.Add(30 * time.Minute), false},
		{"prod", alice, "op-2", T0.Add(time.Hour), true}, // revoked: still found
	} {
		if got, err := st.SessionOfIdPSessionBy(ctx, c.env, c.user, c.sid, c.by); err != nil || got != c.want {
			t.Errorf("SessionOfIdPSessionBy(%s, %s, %s, T0%+v) = %v, %v; want %v", c.env, c.user.Subject, c.sid, c.by.Sub(T0), got, err, c.want)
		}
	}
	// An idle-only session can go on for as long as it is used (each
	// request moves its own expiry): its link has none.
	clock.Set(T0.Add(30 * 24 * time.Hour))
	if got, err := st.SessionOfIdPSessionBy(ctx, "prod", alice, "op-1", T0); err != nil || !got {
		t.Errorf("SessionOfIdPSessionBy(op-1) 30 days on = %v, %v; want true (its link has no expiry)", got, err)
	}
	if hs, err := st.IdPSessionHashes(ctx, alice.Issuer, "op-1"); err != nil || len(hs) != 1 {
		t.Errorf("IdPSessionHashes(op-1) 30 days on = %v, %v; want its session", hs, err)
	}
	// The capped session's link is forgotten Retention after its absolute end.
	clock.Set(T0.Add(2*time.Hour + session.Retention - time.Nanosecond))
	if got, err := st.SessionOfIdPSessionBy(ctx, "prod", alice, "op-2", T0.Add(time.Hour)); err != nil || !got {
		t.Errorf("SessionOfIdPSessionBy(op-2) just before its link's expiry = %v, %v; want true", got, err)
	}
	clock.Set(T0.Add(2*time.Hour + session.Retention))
	if got, err := st.SessionOfIdPSessionBy(ctx, "prod", alice, "op-2", T0.Add(time.Hour)); err != nil || got {
		t.Errorf("SessionOfIdPSessionBy(op-2) at its link's expiry = %v, %v; want false", got, err)
	}
}

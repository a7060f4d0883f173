package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// revokeUser: RevokeUser revokes every session of the user in the
// environment, and only those, and records the point the user's sessions are
// valid from.
func revokeUser(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	a1 := NewSession(t, "prod", alice, T0, policy.Defaults())
	a2 := NewSession(t, "prod", alice, T0.Add(time.Second), policy.Defaults())
	b := NewSession(t, "prod", bob, T0, policy.Defaults())
	for _, s := range []session.Session{a1, a2, b} {
		create(t, st, s, session.Limit{})
	}
	at := T0.Add(time.Hour)
	ended, err := st.RevokeUser(ctx, "prod", alice, at, at, "admin")
	if err != nil || len(ended) != 2 {
		t.Fatalf("RevokeUser = %d sessions, %v; want 2", len(ended), err)
	}
	for _, h := range []session.Hash{a1.Hash, a2.Hash} {
		if s, _ := st.Session(ctx, h); !s.Revoked() || s.RevokeReason != "admin" {
			t.Errorf("alice's session after RevokeUser = %+v; want revoked", s)
		}
	}
	if s, _ := st.Session(ctx, b.Hash); s.Revoked() {
		t.Errorf("bob's session was revoked")
	}
	if u, _ := st.User(ctx, "prod", alice); !u.SessionsValidFrom.Equal(at) {
		t.Errorf("SessionsValidFrom = %v; want %v", u.SessionsValidFrom, at)
	}
	if again, err := st.RevokeUser(ctx, "prod", alice, at.Add(time.Minute), at.Add(time.Minute), "admin"); err != nil || len(again) != 0 {
		t.Errorf("second RevokeUser = %d, %v; want nothing more to revoke", len(again), err)
	}
}

// userState: sign-outs, disables and policy checks are recorded on the user,
// and DueUsers lists, in pages, the users whose check is due.
func userState(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	for i, u := range []session.UserKey{alice, bob, {Issuer: "https://idp.example/#tenant", Subject: "carol"}} {
		create(t, st, NewSession(t, "prod", u, T0.Add(time.Duration(i)*time.Second), policy.Defaults()), session.Limit{})
	}
	create(t, st, NewSession(t, "staging", alice, T0, policy.Defaults()), session.Limit{})
	if err := st.RecordSignOut(ctx, "prod", alice, T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordSignOut(ctx, "prod", alice, T0.Add(time.Minute)); err != nil { // older: ignored
		t.Fatal(err)
	}
	checked := session.Check{StartedAt: T0.Add(time.Minute), Answered: true, CheckedAt: T0.Add(time.Minute), Enable: true, NextCheckAt: T0.Add(61 * time.Minute)}
	if err := st.RecordCheck(ctx, "prod", bob, checked); err != nil {
		t.Fatal(err)
	}
	due, _, err := st.DueUsers(ctx, "prod", T0.Add(30*time.Minute), session.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range due {
		names = append(names, u.Key.Subject)
	}
	if want := []string{"alice#1%", "carol"}; !reflect.DeepEqual(names, want) {
		t.Errorf("DueUsers(prod, +30m) = %v; want %v (first sign-in makes a user due; bob was just checked)", names, want)
	}
	first, next, err := st.DueUsers(ctx, "prod", T0.Add(2*time.Hour), session.Page{Limit: 2})
	if err != nil || len(first) != 2 || next == "" {
		t.Fatalf("DueUsers page 1 = %d users, next %q, %v; want 2 and a cursor", len(first), next, err)
	}
	rest, next, err := st.DueUsers(ctx, "prod", T0.Add(2*time.Hour), session.Page{Limit: 2, Cursor: next})
	if err != nil || len(rest) != 1 || rest[0].Key != bob || next != "" {
		t.Errorf("DueUsers page 2 = %+v, next %q, %v; want bob, last page", rest, next, err)
	}
	u, err := st.User(ctx, "prod", alice)
	if err != nil || !u.SignedOutAt.Equal(T0.Add(time.Hour)) {
		t.Errorf("alice's SignedOutAt = %v, %v; want the later sign-out", u.SignedOutAt, err)
	}
	if err := st.DisableUser(ctx, "prod", alice, T0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.RecordCheck(ctx, "prod", alice, session.Check{StartedAt: T0.Add(3 * time.Hour), NextCheckAt: T0.Add(200 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordCheck(ctx, "prod", alice, session.Check{StartedAt: T0.Add(3 * time.Hour), Answered: true, NextCheckAt: T0.Add(200 * time.Hour)}); err != nil {
		t.Fatal(err) // a held revocation: answered, no new last check
	}
	u, _ = st.User(ctx, "prod", alice)
	if !u.Disabled || !u.DisabledAt.Equal(T0.Add(2*time.Hour)) || !u.SignedOutAt.Equal(T0.Add(time.Hour)) || !u.LastCheckAt.IsZero() || u.CheckFailures != 0 {
		t.Errorf("after a disable, two failed checks and a held one alice = %+v; want disabled at +2h, never checked, no failures, sign-out kept", u)
	}
	if err := st.RecordCheck(ctx, "prod", alice, session.Check{StartedAt: T0.Add(3 * time.Hour), NextCheckAt: T0.Add(200 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if u, _ = st.User(ctx, "prod", alice); u.CheckFailures != 1 {
		t.Errorf("after a failed check alice's CheckFailures = %d; want 1", u.CheckFailures)
	}
	if due, _, _ := st.DueUsers(ctx, "prod", T0.Add(100*time.Hour), session.Page{}); len(due) != 2 {
		t.Errorf("DueUsers at +100h = %d users; want 2 (alice is due at +200h)", len(due))
	}
	if err := st.ScheduleCheck(ctx, "prod", alice, T0.Add(50*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if due, _, _ := st.DueUsers(ctx, "prod", T0.Add(100*time.Hour), session.Page{}); len(due) != 3 {
		t.Errorf("DueUsers at +100h after ScheduleCheck(alice, +50h) = %d users; want 3", len(due))
	}
	if u, _ := st.User(ctx, "prod", alice); !u.Disabled || !u.NextCheckAt.Equal(T0.Add(50*time.Hour)) {
		t.Errorf("after ScheduleCheck alice = %+v; want still disabled, due at +50h", u)
	}
	dave := session.UserKey{Issuer: alice.Issuer, Subject: "dave"}
	if err := st.ScheduleCheck(ctx, "prod", dave, T0); err != nil {
		t.Fatal(err)
	}
	if users, _, err := st.Users(ctx, "prod", session.Page{}); err != nil || len(users) != 3 {
		t.Errorf("Users(prod) = %d, %v; want alice, bob and carol (scheduling a user who never signed in adds nobody)", len(users), err)
	}
}

// userStateTowardsLessTrust: a user's state only moves towards less trust
// under concurrency: a check that started before a disable or a revocation
// point cannot undo it.
func userStateTowardsLessTrust(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	// Each case: a policy check reads the user and asks the directory
	// (started), another writer ends the user's sessions meanwhile,
	// then the check writes its (stale) answer.
	old := NewSession(t, "prod", alice, T0, policy.Defaults())
	create(t, st, old, session.Limit{})
	started := T0.Add(time.Minute)
	if _, err := st.User(ctx, "prod", alice); err != nil {
		t.Fatal(err)
	}
	revokedAt := started.Add(time.Second)
	if err := st.DisableUser(ctx, "prod", alice, revokedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeUser(ctx, "prod", alice, revokedAt, revokedAt, session.CauseSignalDisabled); err != nil {
		t.Fatal(err)
	}
	stale := session.Check{StartedAt: started, Answered: true, CheckedAt: started.Add(2 * time.Second), Enable: true, NextCheckAt: started.Add(time.Hour)}
	if err := st.RecordCheck(ctx, "prod", alice, stale); err != nil {
		t.Fatal(err)
	}
	u, _ := st.User(ctx, "prod", alice)
	if !u.Disabled || !u.SessionsValidFrom.Equal(revokedAt) {
		t.Fatalf("after a check that started before a disable wrote 'active': user = %+v; want disabled, sessions valid from %v", u, revokedAt)
	}
	if !u.LastCheckAt.Equal(stale.CheckedAt) || !u.NextCheckAt.Equal(stale.NextCheckAt) {
		t.Errorf("the stale check's schedule was not kept: %+v", u)
	}
	// An older revocation point, or an older disable, changes nothing.
	if _, err := st.RevokeUser(ctx, "prod", alice, T0, T0.Add(5*time.Second), session.CauseRevokedAtIdP); err != nil {
		t.Fatal(err)
	}
	if err := st.DisableUser(ctx, "prod", alice, T0); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "prod", alice); !u.SessionsValidFrom.Equal(revokedAt) || !u.DisabledAt.Equal(revokedAt) {
		t.Errorf("after an older revocation point and disable: user = %+v; want both still %v", u, revokedAt)
	}
	// A check that started after the disable clears it.
	later := session.Check{StartedAt: revokedAt.Add(time.Nanosecond), Answered: true, CheckedAt: revokedAt.Add(time.Minute), Enable: true, NextCheckAt: revokedAt.Add(time.Hour)}
	if err := st.RecordCheck(ctx, "prod", alice, later); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "prod", alice); u.Disabled || !u.SessionsValidFrom.Equal(revokedAt) {
		t.Errorf("after a check that started after the disable: user = %+v; want enabled, sessions still valid from %v", u, revokedAt)
	}
	// A disable stamped before the latest one (another function's
	// clock) still disables, after a check cleared the latest one; the
	// later time stays.
	if err := st.DisableUser(ctx, "prod", alice, revokedAt.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "prod", alice); !u.Disabled || !u.DisabledAt.Equal(revokedAt) {
		t.Errorf("after an older-stamped disable of an enabled user: %+v; want disabled, disabled at %v", u, revokedAt)
	}
	// A check that started at the very instant of a disable does not.
	if err := st.DisableUser(ctx, "prod", alice, revokedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tie := session.Check{StartedAt: revokedAt.Add(time.Hour), Answered: true, Enable: true, NextCheckAt: revokedAt.Add(2 * time.Hour)}
	if err := st.RecordCheck(ctx, "prod", alice, tie); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "prod", alice); !u.Disabled {
		t.Errorf("a check started at the instant of the disable cleared it")
	}
	// An "inactive" answer never clears anything either.
	if err := st.RecordCheck(ctx, "prod", alice, session.Check{StartedAt: revokedAt.Add(3 * time.Hour), Answered: true, NextCheckAt: revokedAt.Add(4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "prod", alice); !u.Disabled {
		t.Errorf("an answer that the account is not active cleared the disable")
	}
}

// revokeFromPoint: RevokeUser with a revocation point revokes only the
// sessions created before it.
func revokeFromPoint(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	before := NewSession(t, "prod", alice, T0, policy.Defaults())
	after := NewSession(t, "prod", alice, T0.Add(time.Hour), policy.Defaults())
	for _, s := range []session.Session{before, after} {
		create(t, st, s, session.Limit{})
	}
	at := T0.Add(2 * time.Hour)
	ended, err := st.RevokeUser(ctx, "prod", alice, T0.Add(time.Minute), at, session.CauseRevokedAtIdP)
	if err != nil || len(ended) != 1 || ended[0].Hash != before.Hash {
		t.Fatalf("RevokeUser(from +1m) = %d sessions, %v; want the session from before the point", len(ended), err)
	}
	if s, _ := st.Session(ctx, after.Hash); s.Revoked() {
		t.Errorf("the session created after the revocation point was revoked")
	}
	if s, _ := st.Session(ctx, before.Hash); !s.RevokedAt.Equal(at) || s.RevokeReason != session.CauseRevokedAtIdP {
		t.Errorf("the session from before the point = %+v; want revoked at %v", s, at)
	}
}

package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// createAndLookUp: a created session reads back, from Lookup, Session and
// UserSessions, with every field kept (its device too); one created
// without a device reads back without one; an unknown one is ErrNotFound.
func createAndLookUp(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	set := policy.Defaults()
	set.SessionExpiration.Enabled, set.SessionExpiration.MaxSessionMinutes = true, 480
	set.ExemptClients = []string{"mobile"}
	s := NewSession(t, "prod", alice, T0, set)
	s.StaySignedIn, s.SettingsVersion, s.ClientID, s.IdPSession = true, 3, "web-app", "idp-session-1"
	s.Device = "Firefox on Linux"
	s.DPoPKey = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	create(t, st, s, session.Limit{})
	got, u, err := st.Lookup(ctx, s.Hash, "prod", alice)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("Lookup session = %+v\nwant %+v", got, s)
	}
	if u.Environment != "prod" || u.Key != alice || u.Disabled || !u.SignedOutAt.IsZero() {
		t.Errorf("Lookup user = %+v; want alice in prod, in good standing", u)
	}
	if got, err := st.Session(ctx, s.Hash); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("Session = %+v, %v; want the created session", got, err)
	}
	plain := NewSession(t, "prod", alice, T0.Add(time.Second), set)
	create(t, st, plain, session.Limit{})
	if list, _, err := st.UserSessions(ctx, "prod", alice, session.Page{}); err != nil || !reflect.DeepEqual(list, []session.Session{s, plain}) {
		t.Errorf("UserSessions = %+v, %v; want the two created, the first with its device, the second without", list, err)
	}
	other := NewSession(t, "prod", alice, T0, set)
	if _, _, err := st.Lookup(ctx, other.Hash, "prod", alice); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Lookup(unknown) error = %v; want ErrNotFound", err)
	}
}

// activityRateLimited: Touch writes a session's last activity at most once
// per interval, and never for a revoked or unknown session.
func activityRateLimited(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	s := NewSession(t, "prod", alice, T0, policy.Defaults())
	create(t, st, s, session.Limit{})
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{{30 * time.Second, false}, {61 * time.Second, true}, {90 * time.Second, false}, {122 * time.Second, true}} {
		wrote, err := st.Touch(ctx, s, T0.Add(c.at), time.Minute)
		if err != nil || wrote != c.want {
			t.Errorf("Touch at +%v = %v, %v; want %v", c.at, wrote, err, c.want)
		}
	}
	got, _ := st.Session(ctx, s.Hash)
	if want := T0.Add(122 * time.Second); !got.LastActivityAt.Equal(want) {
		t.Errorf("LastActivityAt = %v; want %v", got.LastActivityAt, want)
	}
	if _, _, err := st.Revoke(ctx, s.Hash, T0.Add(3*time.Minute), "sign_out"); err != nil {
		t.Fatal(err)
	}
	if wrote, err := st.Touch(ctx, s, T0.Add(10*time.Minute), time.Minute); wrote || err != nil {
		t.Errorf("Touch(revoked) = %v, %v; want false, nil", wrote, err)
	}
	if _, err := st.Touch(ctx, NewSession(t, "prod", alice, T0, policy.Defaults()), T0, 0); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch(unknown) error = %v; want ErrNotFound", err)
	}
}

// revocationIdempotent: revoking a revoked session changes nothing: the first
// time and cause are kept.
func revocationIdempotent(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	s := NewSession(t, "prod", alice, T0, policy.Defaults())
	create(t, st, s, session.Limit{})
	first, changed, err := st.Revoke(ctx, s.Hash, T0.Add(time.Minute), "sign_out")
	if err != nil || !changed || !first.RevokedAt.Equal(T0.Add(time.Minute)) || first.RevokeReason != "sign_out" {
		t.Fatalf("Revoke = %+v, %v, %v; want revoked at +1m for sign_out", first, changed, err)
	}
	again, changed, err := st.Revoke(ctx, s.Hash, T0.Add(2*time.Minute), "admin")
	if err != nil || changed || !again.RevokedAt.Equal(first.RevokedAt) || again.RevokeReason != "sign_out" {
		t.Errorf("second Revoke = %+v, %v, %v; want unchanged, the first revocation kept", again, changed, err)
	}
	if _, _, err := st.Revoke(ctx, NewSession(t, "prod", alice, T0, policy.Defaults()).Hash, T0, "x"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Revoke(unknown) error = %v; want ErrNotFound", err)
	}
}

// expiredItemsAbsent: a session past its TTL (by the store's clock) reads as
// absent from every method, before the store deletes it; a session with no
// end never expires.
func expiredItemsAbsent(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	capped := policy.Defaults()
	capped.SessionExpiration.Enabled, capped.SessionExpiration.MaxSessionMinutes = true, 60
	timed := NewSession(t, "prod", alice, T0, capped)
	revoked := NewSession(t, "prod", alice, T0, policy.Defaults())
	open := NewSession(t, "prod", alice, T0, policy.Defaults())
	for _, s := range []session.Session{timed, revoked, open} {
		create(t, st, s, session.Limit{})
	}
	revokedAt := T0.Add(10 * time.Minute)
	if _, _, err := st.Revoke(ctx, revoked.Hash, revokedAt, "admin"); err != nil {
		t.Fatal(err)
	}
	clock.Set(revokedAt.Add(session.Retention - time.Second))
	if got, err := st.Session(ctx, revoked.Hash); err != nil || !got.Revoked() {
		t.Errorf("revoked session before its TTL = %+v, %v; want it, revoked", got, err)
	}
	clock.Set(revokedAt.Add(session.Retention))
	if _, err := st.Session(ctx, revoked.Hash); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("revoked session at its TTL: error = %v; want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, timed.Hash); err != nil {
		t.Errorf("timed session before its TTL: %v", err)
	}
	clock.Set(T0.Add(time.Hour + session.Retention))
	if _, _, err := st.Lookup(ctx, timed.Hash, "prod", alice); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Lookup(timed out session past TTL) error = %v; want ErrNotFound", err)
	}
	if _, err := st.Touch(ctx, timed, clock.Now(), time.Minute); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch(past TTL) error = %v; want ErrNotFound", err)
	}
	if _, _, err := st.Revoke(ctx, timed.Hash, clock.Now(), "admin"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Revoke(past TTL) error = %v; want ErrNotFound", err)
	}
	if _, err := st.Session(ctx, open.Hash); err != nil {
		t.Errorf("a session with no end must never expire: %v", err)
	}
	list, _, err := st.UserSessions(ctx, "prod", alice, session.Page{})
	if err != nil || len(list) != 1 || list[0].Hash != open.Hash {
		t.Errorf("UserSessions = %d sessions, %v; want only the open one", len(list), err)
	}
}

// sessionLimit: at the limit, deny_new refuses the new session and end_oldest
// revokes the oldest; only the user's live sessions in the environment count.
func sessionLimit(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	var made []session.Session
	for i := range 2 {
		s := NewSession(t, "prod", alice, T0.Add(time.Duration(i)*time.Minute), policy.Defaults())
		create(t, st, s, session.Limit{Max: 2, OnLimit: policy.DenyNew})
		made = append(made, s)
	}
	third := NewSession(t, "prod", alice, T0.Add(5*time.Minute), policy.Defaults())
	if _, err := st.Create(ctx, third, session.Limit{Max: 2, OnLimit: policy.DenyNew}, always); !errors.Is(err, session.ErrLimitReached) {
		t.Fatalf("third Create with deny_new error = %v; want ErrLimitReached", err)
	}
	if _, err := st.Session(ctx, third.Hash); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("a denied session was stored: %v", err)
	}
	// Bob's sessions and other environments do not count.
	create(t, st, NewSession(t, "prod", bob, T0, policy.Defaults()), session.Limit{Max: 2, OnLimit: policy.DenyNew})
	create(t, st, NewSession(t, "staging", alice, T0, policy.Defaults()), session.Limit{Max: 2, OnLimit: policy.DenyNew})
	ended := create(t, st, third, session.Limit{Max: 2, OnLimit: policy.EndOldest})
	if len(ended) != 1 || ended[0].Hash != made[0].Hash || ended[0].RevokeReason != "session_limit" {
		t.Fatalf("end_oldest ended %+v; want the oldest session, for session_limit", ended)
	}
	if got, _ := st.Session(ctx, made[0].Hash); !got.Revoked() {
		t.Errorf("the oldest session is not revoked")
	}
	// A session live() rejects does not count.
	fourth := NewSession(t, "prod", alice, T0.Add(6*time.Minute), policy.Defaults())
	notMade1 := func(s session.Session) bool { return s.Hash != made[1].Hash }
	if ended, err := st.Create(ctx, fourth, session.Limit{Max: 2, OnLimit: policy.DenyNew}, notMade1); err != nil || len(ended) != 0 {
		t.Errorf("Create with an ended session not counted = %v, %v; want room", ended, err)
	}
}

// listUserSessions: a user's sessions list oldest first, in pages, without
// the revoked ones unless asked; a cursor the store did not write is
// ErrBadCursor.
func listUserSessions(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	var want []session.Hash
	for i := range 7 {
		s := NewSession(t, "prod", alice, T0.Add(time.Duration(i)*time.Second), policy.Defaults())
		create(t, st, s, session.Limit{})
		if i == 3 {
			if _, _, err := st.Revoke(ctx, s.Hash, T0.Add(time.Minute), "admin"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, s.Hash)
	}
	create(t, st, NewSession(t, "prod", bob, T0, policy.Defaults()), session.Limit{})
	create(t, st, NewSession(t, "staging", alice, T0, policy.Defaults()), session.Limit{})
	var got []session.Hash
	cursor, pages := "", 0
	for {
		list, next, err := st.UserSessions(ctx, "prod", alice, session.Page{Limit: 4, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 4 {
			t.Fatalf("page of %d; want at most 4", len(list))
		}
		for _, s := range list {
			got = append(got, s.Hash)
		}
		pages++
		if next == "" || pages > 10 {
			break
		}
		cursor = next
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed %d sessions; want the %d live ones of alice in prod, oldest first", len(got), len(want))
	}
	if pages < 2 {
		t.Errorf("listing took %d page(s); want 2 or more with pages of 4", pages)
	}
	all, _, err := st.UserSessions(ctx, "prod", alice, session.Page{Limit: 100, Revoked: true})
	if err != nil || len(all) != 7 {
		t.Errorf("listing with revoked sessions = %d, %v; want all 7 of alice's", len(all), err)
	}
	if _, _, err := st.UserSessions(ctx, "prod", alice, session.Page{Cursor: "not-a-cursor"}); !errors.Is(err, session.ErrBadCursor) {
		t.Errorf("bad cursor error = %v; want ErrBadCursor", err)
	}
}

// concurrentSignIns: concurrent sign-ins never leave more live sessions than
// the limit allows.
func concurrentSignIns(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	const max, n = 3, 16
	for _, on := range []policy.OnLimit{policy.DenyNew, policy.EndOldest} {
		user := session.UserKey{Issuer: "https://idp.example/", Subject: "racer-" + string(on)}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := NewSession(t, "prod", user, T0.Add(time.Duration(i)*time.Millisecond), policy.Defaults())
				_, err := st.Create(ctx, s, session.Limit{Max: max, OnLimit: on}, always)
				if err != nil && !errors.Is(err, session.ErrLimitReached) {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s: concurrent Create: %v", on, err)
		}
		live, _, err := st.UserSessions(ctx, "prod", user, session.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(live) > max || len(live) == 0 {
			t.Errorf("%s: %d live sessions after %d concurrent sign-ins; want 1..%d", on, len(live), n, max)
		}
		if on == policy.EndOldest && len(live) != max {
			t.Errorf("end_oldest: %d live sessions; want exactly %d", len(live), max)
		}
	}
}

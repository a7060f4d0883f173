// Package storetest is the store contract: one suite of tests that every
// session store (memory, DynamoDB) must pass, so that the functions can be
// tested on the memory store and trusted on DynamoDB.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// Store is everything the functions ask of a store.
type Store interface {
	Lookup(ctx context.Context, h session.Hash, env string, user session.UserKey) (session.Session, session.User, error)
	Session(ctx context.Context, h session.Hash) (session.Session, error)
	User(ctx context.Context, env string, user session.UserKey) (session.User, error)
	Touch(ctx context.Context, s session.Session, at time.Time, minInterval time.Duration) (bool, error)
	Create(ctx context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error)
	Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error)
	RevokeUser(ctx context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error)
	DisableUser(ctx context.Context, env string, user session.UserKey, at time.Time) error
	RecordSignOut(ctx context.Context, env string, user session.UserKey, at time.Time) error
	RecordCheck(ctx context.Context, env string, user session.UserKey, c session.Check) error
	ScheduleCheck(ctx context.Context, env string, user session.UserKey, at time.Time) error
	EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error
	IdPSessionEnded(ctx context.Context, env, issuer, sid string) (time.Time, bool, error)
	UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error)
	DueUsers(ctx context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error)
	Users(ctx context.Context, env string, p session.Page) ([]session.User, string, error)
	Settings(ctx context.Context, env string) (policy.Settings, int, error)
	PutSettings(ctx context.Context, c session.SettingsChange) error
	History(ctx context.Context, env string, p session.Page) ([]session.SettingsChange, string, error)
	PutReport(ctx context.Context, r session.Report) error
	Reports(ctx context.Context, env string, p session.Page) ([]session.Report, string, error)
	RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error)
	ForgetJTI(ctx context.Context, issuer, jti string) error
	IdPSessionHashes(ctx context.Context, issuer, sid string) ([]session.Hash, error)
	PutStream(ctx context.Context, s session.Stream, was string) (bool, error)
	Stream(ctx context.Context, transmitter string) (session.Stream, bool, error)
	RecordVerification(ctx context.Context, transmitter, state string, at time.Time) error
	RecordUsername(ctx context.Context, issuer, subject, username string) error
	SubjectOf(ctx context.Context, issuer, username string) (string, error)
	UsernameOf(ctx context.Context, issuer, subject string) (string, error)
	DirectoryCursor(ctx context.Context, directory string) (string, error)
	PutDirectoryCursor(ctx context.Context, directory, cursor string) error
	CountRun(ctx context.Context, run string, checked, revoking int, keepUntil time.Time) (session.RunCount, error)
	TripRun(ctx context.Context, run string) error
}

// Clock is a settable clock; the store under test judges TTL expiry by it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Open returns a new, empty store judging time by now.
type Open func(t *testing.T, now func() time.Time) Store

// T0 is the suite's starting time; it has nanoseconds, which stores must
// keep.
var T0 = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)

var (
	alice = session.UserKey{Issuer: "https://idp.example/#tenant", Subject: "alice#1%"}
	bob   = session.UserKey{Issuer: "https://idp.example/#tenant", Subject: "bob"}
)

// NewSession returns a session of user in env created at `at`, with a
// random id.
func NewSession(t testing.TB, env string, user session.UserKey, at time.Time, s policy.Settings) session.Session {
	t.Helper()
	id, err := session.NewID()
	if err != nil {
		t.Fatal(err)
	}
	return session.Session{Hash: id.Hash(), Environment: env, User: user, ClientID: "app", CreatedAt: at,
		AuthTime: at.Add(-time.Minute), SettingsVersion: 0, Settings: s}
}

func always(session.Session) bool { return true }

// Run runs the contract against the stores open returns.
func Run(t *testing.T, open Open) {
	ctx := context.Background()
	fresh := func(t *testing.T) (Store, *Clock) {
		c := &Clock{t: T0}
		return open(t, c.Now), c
	}
	create := func(t *testing.T, st Store, s session.Session, l session.Limit) []session.Session {
		t.Helper()
		ended, err := st.Create(ctx, s, l, always)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		return ended
	}

	t.Run("create and look up, every field kept", func(t *testing.T) {
		st, _ := fresh(t)
		set := policy.Defaults()
		set.SessionExpiration.Enabled, set.SessionExpiration.MaxSessionMinutes = true, 480
		set.ExemptClients = []string{"mobile"}
		s := NewSession(t, "prod", alice, T0, set)
		s.StaySignedIn, s.SettingsVersion, s.ClientID, s.IdPSession = true, 3, "web-app", "idp-session-1"
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
		other := NewSession(t, "prod", alice, T0, set)
		if _, _, err := st.Lookup(ctx, other.Hash, "prod", alice); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Lookup(unknown) error = %v; want ErrNotFound", err)
		}
	})

	t.Run("activity is rate-limited", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("revocation is idempotent", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("items past their TTL read as absent", func(t *testing.T) {
		st, clock := fresh(t)
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
	})

	t.Run("session limit: deny_new and end_oldest", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("listing a user's sessions, in pages", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("revoking all of a user's sessions", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("user state: sign-out, policy checks, due users", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("user state only moves towards less trust under concurrency", func(t *testing.T) {
		// Each case: a policy check reads the user and asks the directory
		// (started), another writer ends the user's sessions meanwhile,
		// then the check writes its (stale) answer.
		st, _ := fresh(t)
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
	})

	t.Run("revoking sessions from an IdP's revocation point", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("ended IdP sessions are remembered per environment", func(t *testing.T) {
		st, clock := fresh(t)
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
	})

	t.Run("settings: versions, conflicts, history, applying to running sessions", func(t *testing.T) {
		st, _ := fresh(t)
		s, v, err := st.Settings(ctx, "prod")
		if err != nil || v != 0 || !reflect.DeepEqual(s, policy.Defaults()) {
			t.Fatalf("Settings of a new environment = %+v, %d, %v; want defaults at version 0", s, v, err)
		}
		old := NewSession(t, "prod", alice, T0, policy.Defaults())
		create(t, st, old, session.Limit{})
		versions := make([]policy.Settings, 5)
		versions[0] = policy.Defaults()
		for i := 1; i <= 4; i++ {
			n := policy.Defaults()
			n.InactivityTimeout.Enabled, n.InactivityTimeout.Minutes = true, 10*i
			versions[i] = n
			c := session.SettingsChange{Environment: "prod", Version: i, At: T0.Add(time.Duration(i) * time.Minute),
				Actor: fmt.Sprintf("admin-%d", i), Old: versions[i-1], New: n, ApplyToRunning: i == 3}
			if err := st.PutSettings(ctx, c); err != nil {
				t.Fatalf("PutSettings v%d: %v", i, err)
			}
			if i == 1 {
				if err := st.PutSettings(ctx, c); !errors.Is(err, session.ErrVersionConflict) {
					t.Errorf("writing version 1 twice: error = %v; want ErrVersionConflict", err)
				}
				c.Version = 3
				if err := st.PutSettings(ctx, c); !errors.Is(err, session.ErrVersionConflict) {
					t.Errorf("skipping a version: error = %v; want ErrVersionConflict", err)
				}
			}
		}
		s, v, _ = st.Settings(ctx, "prod")
		if v != 4 || !reflect.DeepEqual(s, versions[4]) {
			t.Errorf("Settings = v%d; want v4 with its values", v)
		}
		if _, v, _ := st.Settings(ctx, "staging"); v != 0 {
			t.Errorf("another environment's version = %d; want 0", v)
		}
		var hist []session.SettingsChange
		cursor := ""
		for range 5 {
			page, next, err := st.History(ctx, "prod", session.Page{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			hist = append(hist, page...)
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(hist) != 4 {
			t.Fatalf("history has %d changes; want 4", len(hist))
		}
		for i, c := range hist {
			ver := 4 - i
			if c.Version != ver || c.Actor != fmt.Sprintf("admin-%d", ver) || !c.At.Equal(T0.Add(time.Duration(ver)*time.Minute)) ||
				!reflect.DeepEqual(c.Old, versions[ver-1]) || !reflect.DeepEqual(c.New, versions[ver]) || c.ApplyToRunning != (ver == 3) {
				t.Errorf("history[%d] = %+v; want version %d with who, when, old and new", i, c, ver)
			}
		}
		// The session from before version 3 is judged by version 3, which
		// was applied to running sessions; sessions from after keep theirs.
		got, _, err := st.Lookup(ctx, old.Hash, "prod", alice)
		if err != nil || got.SettingsVersion != 3 || !reflect.DeepEqual(got.Settings, versions[3]) {
			t.Errorf("old session's settings = v%d %v; want v3, applied to running sessions", got.SettingsVersion, err)
		}
		newer := NewSession(t, "prod", alice, T0.Add(time.Hour), versions[4])
		newer.SettingsVersion = 4
		create(t, st, newer, session.Limit{})
		if got, _, _ := st.Lookup(ctx, newer.Hash, "prod", alice); got.SettingsVersion != 4 {
			t.Errorf("new session's settings version = %d; want its own 4", got.SettingsVersion)
		}
	})

	t.Run("audit reports", func(t *testing.T) {
		st, _ := fresh(t)
		for i := range 3 {
			r := session.Report{Environment: "prod", At: T0.Add(time.Duration(i) * time.Hour), Body: []byte(fmt.Sprintf(`{"n":%d}`, i))}
			if err := st.PutReport(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		first, next, err := st.Reports(ctx, "prod", session.Page{Limit: 2})
		if err != nil || len(first) != 2 || string(first[0].Body) != `{"n":2}` || !first[0].At.Equal(T0.Add(2*time.Hour)) || next == "" {
			t.Fatalf("Reports page 1 = %+v, %q, %v; want the newest two", first, next, err)
		}
		rest, next, err := st.Reports(ctx, "prod", session.Page{Limit: 2, Cursor: next})
		if err != nil || len(rest) != 1 || string(rest[0].Body) != `{"n":0}` || next != "" {
			t.Errorf("Reports page 2 = %+v, %q, %v; want the oldest", rest, next, err)
		}
	})

	t.Run("token ids are remembered until they may be forgotten", func(t *testing.T) {
		st, clock := fresh(t)
		until := T0.Add(time.Hour)
		for _, c := range []struct {
			iss, jti string
			want     bool
		}{{"https://tx.example/", "j1", true}, {"https://tx.example/", "j1", false}, {"https://other.example/", "j1", true}, {"https://tx.example/", "j2", true}} {
			if got, err := st.RecordJTI(ctx, c.iss, c.jti, until); err != nil || got != c.want {
				t.Errorf("RecordJTI(%s, %s) = %v, %v; want %v", c.iss, c.jti, got, err, c.want)
			}
		}
		clock.Set(until)
		if got, _ := st.RecordJTI(ctx, "https://tx.example/", "j1", until.Add(time.Hour)); !got {
			t.Errorf("RecordJTI after its record expired = false; want true")
		}
		// A forgotten jti (its token's effects could not be applied) is
		// received afresh; another issuer's same jti stays remembered.
		later := until.Add(time.Hour)
		for _, iss := range []string{"https://tx.example/", "https://other.example/"} {
			if got, err := st.RecordJTI(ctx, iss, "j4", later); err != nil || !got {
				t.Fatalf("RecordJTI(%s, j4) = %v, %v; want true", iss, got, err)
			}
		}
		if err := st.ForgetJTI(ctx, "https://tx.example/", "j4"); err != nil {
			t.Fatal(err)
		}
		if got, err := st.RecordJTI(ctx, "https://tx.example/", "j4", later); err != nil || !got {
			t.Errorf("RecordJTI after ForgetJTI = %v, %v; want true", got, err)
		}
		if got, _ := st.RecordJTI(ctx, "https://other.example/", "j4", later); got {
			t.Errorf("RecordJTI of another issuer's jti after forgetting = true; want false (still remembered)")
		}
	})

	t.Run("the sessions of one IdP session", func(t *testing.T) {
		st, _ := fresh(t)
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
	})

	t.Run("shared signals streams and their verification", func(t *testing.T) {
		st, _ := fresh(t)
		const tx = "https://transmitter.example"
		if _, ok, err := st.Stream(ctx, tx); ok || err != nil {
			t.Fatalf("Stream before any = %v, %v; want none", ok, err)
		}
		s := session.Stream{Transmitter: tx, StreamID: "st-1", Delivery: "poll", PollURL: tx + "/poll/st-1", VerifyState: "v1", UpdatedAt: T0}
		if ok, err := st.PutStream(ctx, s, ""); !ok || err != nil {
			t.Fatalf("PutStream = %v, %v; want stored", ok, err)
		}
		if err := st.RecordVerification(ctx, tx, "v1", T0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := st.Stream(ctx, tx)
		want := s
		want.VerifiedState, want.VerifiedAt = "v1", T0.Add(time.Second)
		if err != nil || !ok || !reflect.DeepEqual(got, want) || !got.Verified() {
			t.Fatalf("Stream = %+v, %v, %v; want %+v, verified", got, ok, err, want)
		}
		// A new verification request: not verified until its event arrives.
		s.VerifyState = "v2"
		if ok, err := st.PutStream(ctx, s, "st-1"); !ok || err != nil {
			t.Fatalf("PutStream = %v, %v; want stored", ok, err)
		}
		if got, _, _ := st.Stream(ctx, tx); got.Verified() || got.VerifiedState != "v1" {
			t.Fatalf("after a new request = %+v; want not verified, the old arrival kept", got)
		}
	})

	t.Run("a stream is stored only over the stream read", func(t *testing.T) { st, _ := fresh(t); streamStoredOverTheRead(t, st) })

	t.Run("usernames map to subjects and back", func(t *testing.T) {
		st, _ := fresh(t)
		const iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X"
		if err := st.RecordUsername(ctx, iss, "sub-1", "mary"); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordUsername(ctx, iss, "sub-1", "mary"); err != nil { // every sign-in records it again
			t.Fatal(err)
		}
		if got, err := st.SubjectOf(ctx, iss, "mary"); err != nil || got != "sub-1" {
			t.Fatalf("SubjectOf(mary) = %q, %v; want sub-1", got, err)
		}
		if got, err := st.UsernameOf(ctx, iss, "sub-1"); err != nil || got != "mary" {
			t.Fatalf("UsernameOf(sub-1) = %q, %v; want mary", got, err)
		}
		// A user deleted and created again under the same name is a new subject.
		if err := st.RecordUsername(ctx, iss, "sub-2", "mary"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.SubjectOf(ctx, iss, "mary"); got != "sub-2" {
			t.Fatalf("SubjectOf(mary) after re-creation = %q; want sub-2", got)
		}
		if got, _ := st.UsernameOf(ctx, iss, "sub-1"); got != "mary" {
			t.Fatalf("UsernameOf(sub-1) after re-creation = %q; want mary (the old user's name)", got)
		}
		for _, c := range []struct{ iss, name string }{{iss, "nobody"}, {"https://other", "mary"}} {
			if got, err := st.SubjectOf(ctx, c.iss, c.name); err != nil || got != "" {
				t.Fatalf("SubjectOf(%s, %s) = %q, %v; want none", c.iss, c.name, got, err)
			}
		}
	})

	t.Run("directory change cursors", func(t *testing.T) {
		st, _ := fresh(t)
		if got, err := st.DirectoryCursor(ctx, "graph:tenant-a"); err != nil || got != "" {
			t.Fatalf("cursor before any = %q, %v; want none", got, err)
		}
		for _, c := range []string{"https://graph.example/v1.0/users/delta?$deltatoken=1", "https://graph.example/v1.0/users/delta?$deltatoken=2"} {
			if err := st.PutDirectoryCursor(ctx, "graph:tenant-a", c); err != nil {
				t.Fatal(err)
			}
			if got, err := st.DirectoryCursor(ctx, "graph:tenant-a"); err != nil || got != c {
				t.Fatalf("cursor = %q, %v; want %q", got, err, c)
			}
		}
		if got, _ := st.DirectoryCursor(ctx, "graph:tenant-b"); got != "" {
			t.Fatalf("another directory's cursor = %q; want none", got)
		}
	})

	t.Run("shards of a run count together", func(t *testing.T) {
		st, _ := fresh(t)
		var wg sync.WaitGroup
		for range 8 { // shards at once: no count lost
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.CountRun(ctx, "run-1", 100, 3, T0.Add(time.Hour)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, err := st.CountRun(ctx, "run-1", 0, 0, T0.Add(time.Hour))
		if err != nil || got != (session.RunCount{Checked: 800, Revoking: 24}) {
			t.Fatalf("totals = %+v, %v; want 800 checked, 24 revoking, not tripped", got, err)
		}
		if err := st.TripRun(ctx, "run-1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.CountRun(ctx, "run-1", 10, 0, T0.Add(time.Hour)); !got.Tripped || got.Checked != 810 {
			t.Fatalf("after TripRun = %+v; want tripped, 810 checked", got)
		}
		if got, _ := st.CountRun(ctx, "run-2", 1, 1, T0.Add(time.Hour)); got != (session.RunCount{Checked: 1, Revoking: 1}) {
			t.Fatalf("another run = %+v; want its own totals", got)
		}
	})

	t.Run("concurrent sign-ins never exceed the limit", func(t *testing.T) {
		st, _ := fresh(t)
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
	})
}

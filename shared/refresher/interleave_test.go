package refresher

import (
	"context"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
)

// racingDirectory answers every user active, with no revocation point,
// but first runs during: a revocation that lands while the directory is
// being asked, after the refresher read the user.
type racingDirectory struct{ during func() }

func (d racingDirectory) BatchSize() int { return 1 }

func (d racingDirectory) Check(_ context.Context, subjects []string) []directory.Result {
	d.during()
	out := make([]directory.Result, len(subjects))
	for i := range out {
		out[i] = directory.Result{State: directory.Active}
	}
	return out
}

// A check that started before a revocation cannot undo it: the user
// disabled and revoked while the directory was being asked stays
// disabled, and the point from which sessions are invalid does not move
// back.
func TestACheckDoesNotUndoAConcurrentRevocation(t *testing.T) {
	var f *fixture
	var revokedAt time.Time
	f = newFixture(t, func(c *Config) {
		c.Directory = racingDirectory{during: func() {
			f.clock.Add(time.Second)
			revokedAt = f.clock.Now()
			endConcurrently(t, f, "alice", revokedAt)
			f.clock.Add(time.Second)
		}}
	})
	alice := f.signIn(t, "alice", false)
	f.clock.Add(time.Minute)
	f.run(t)
	u, err := f.store.User(context.Background(), "prod", session.UserKey{Issuer: f.idp.URL(), Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Disabled {
		t.Errorf("after a check that started before the disable: Disabled = false; want true")
	}
	if !u.SessionsValidFrom.Equal(revokedAt) {
		t.Errorf("after a check that started before the revocation: SessionsValidFrom = %v; want %v", u.SessionsValidFrom, revokedAt)
	}
	if got := f.decide(t, alice, "alice"); got != reason.SessionRevoked {
		t.Errorf("alice's session = %s; want session_revoked", got)
	}
	if got := f.decide(t, f.signIn(t, "alice", false), "alice"); got != reason.UserDisabled {
		t.Errorf("alice's new session = %s; want user_disabled", got)
	}
	// A check that starts after the disable may clear it: the directory
	// now says the account is active again.
	f.ref.cfg.Directory = racingDirectory{during: func() {}}
	f.clock.Add(2 * time.Hour)
	f.run(t)
	if u, _ := f.store.User(context.Background(), "prod", session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}); u.Disabled {
		t.Errorf("after a check that started after the disable and found the account active: Disabled = true; want false")
	}
}

// endConcurrently does what a SET receiver does for account-disabled.
func endConcurrently(t *testing.T, f *fixture, user string, at time.Time) {
	t.Helper()
	k := session.UserKey{Issuer: f.idp.URL(), Subject: user}
	if _, err := revoke.User(context.Background(), f.store, revoke.Request{
		Environments: []string{"prod"}, User: k, At: at, Cause: session.CauseSignalDisabled,
	}); err != nil {
		t.Fatal(err)
	}
}

// disableOnRead disables user the first time the refresher reads them,
// after the change feed has answered: a SET landing between the two.
type disableOnRead struct {
	*memstore.Store
	clock *devidp.Clock
	user  session.UserKey
	armed bool
}

func (s *disableOnRead) User(ctx context.Context, env string, k session.UserKey) (session.User, error) {
	if s.armed && k == s.user {
		s.armed = false
		s.clock.Add(time.Second)
		if _, err := revoke.User(ctx, s.Store, revoke.Request{Environments: []string{env}, User: k, At: s.clock.Now(), Cause: session.CauseSignalDisabled}); err != nil {
			return session.User{}, err
		}
		s.clock.Add(time.Second)
	}
	return s.Store.User(ctx, env, k)
}

// A change feed's answer is as old as the feed's reading: a disable that
// lands after the feed answered "active", but before the user is read,
// stands.
func TestAStaleFeedAnswerDoesNotClearALaterDisable(t *testing.T) {
	ctx := context.Background()
	feed := &fakeFeed{}
	var st *disableOnRead
	f := newDeltaFixture(t, 0, func(*directory.Graph) ChangeFeed { return feed })
	st = &disableOnRead{Store: f.store, clock: f.clock, user: keysOf("u001")[0]}
	f.ref.cfg.Store = st
	f.signIn(t, "u001")
	f.run(t)
	f.clock.Add(10 * time.Minute)
	feed.changes = []directory.Change{{ID: "u001", Complete: true, Result: directory.Result{State: directory.Active}}}
	st.armed = true
	f.run(t)
	if u, _ := f.store.User(ctx, "prod", keysOf("u001")[0]); !u.Disabled {
		t.Errorf("a disable that landed after the feed answered was cleared by that answer: %+v", u)
	}
}

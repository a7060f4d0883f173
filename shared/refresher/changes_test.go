package refresher

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

const deltaIssuer = "https://login.microsoftonline.com/tenant-1/v2.0"

// deltaFixture: users signed in to prod, a Graph directory (the dev
// directory's $batch and users/delta) and a refresher reading its changes.
type deltaFixture struct {
	clock *devidp.Clock
	dir   *devdir.Directory
	store *memstore.Store
	graph *directory.Graph
	ref   *Refresher
}

func keysOf(id string) []session.UserKey {
	return []session.UserKey{{Issuer: deltaIssuer, Subject: "tenant-1/" + id}}
}

func newDeltaFixture(t *testing.T, users int, feed func(*directory.Graph) ChangeFeed) *deltaFixture {
	t.Helper()
	f := &deltaFixture{clock: devidp.NewClock(t0), dir: devdir.New()}
	srv := httptest.NewServer(f.dir)
	t.Cleanup(srv.Close)
	f.store = memstore.New(f.clock.Now)
	f.graph = &directory.Graph{TokenURL: srv.URL + "/graph/token", GraphURL: srv.URL + "/graph/v1.0", ClientID: "app", ClientSecret: "s"}
	var fd ChangeFeed = f.graph
	if feed != nil {
		fd = feed(f.graph)
	}
	f.ref = New(Config{Store: f.store, Directory: f.graph, Environments: []string{"prod"}, Now: f.clock.Now,
		Changes: &Changes{Feed: fd, Cursors: f.store, Name: "graph tenant-1", Keys: keysOf}})
	for i := range users {
		f.signIn(t, fmt.Sprintf("u%03d", i))
	}
	return f
}

func (f *deltaFixture) signIn(t *testing.T, id string) session.Hash {
	t.Helper()
	f.dir.Put(id, devdir.User{Enabled: true})
	sid, _ := session.NewID()
	now := f.clock.Now()
	s := session.Session{Hash: sid.Hash(), Environment: "prod", User: keysOf(id)[0], ClientID: "app", CreatedAt: now, AuthTime: now, Settings: policy.Defaults()}
	if _, err := f.store.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return s.Hash
}

// run runs once and returns prod's report and the directory requests it made.
func (f *deltaFixture) run(t *testing.T) (Report, int64) {
	t.Helper()
	before := f.dir.Requests()
	reps, err := f.ref.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return reps["prod"], f.dir.Requests() - before
}

func TestChangesDriveChecks(t *testing.T) {
	ctx := context.Background()
	f := newDeltaFixture(t, 60, nil)
	// The first run has no cursor: it takes the current position (no read
	// of the whole tenant) and checks the 60 due users in batches of 20.
	rep, reqs := f.run(t)
	if rep.Checked != 60 || rep.FromChanges != 0 || reqs != 1+1+3 { // token, delta, 3 batches
		t.Fatalf("first run = %+v with %d requests; want 60 checked in 3 batches after one delta read and a token", rep, reqs)
	}
	if c, _ := f.store.DirectoryCursor(ctx, "graph tenant-1"); c == "" {
		t.Fatal("no cursor kept after the first run")
	}

	// Ten minutes on, nobody is due; five tracked users changed, one user
	// without sessions here changed too.
	f.clock.Add(10 * time.Minute)
	victim := f.signIn(t, "u900") // signed in now: due, and judged by the interval rule
	f.dir.Put("u001", devdir.User{Enabled: false})
	f.dir.Put("u002", devdir.User{Enabled: false})
	f.dir.Delete("u003")
	f.dir.Put("u004", devdir.User{Enabled: true, SessionsValidFrom: f.clock.Now()})
	f.dir.Put("u005", devdir.User{Enabled: true}) // changed something the check does not look at
	f.dir.Put("outsider", devdir.User{Enabled: false})
	rep, reqs = f.run(t)
	// u900 is new in the directory too, so the feed tells its state and it
	// is not due any more by the time the due set is read.
	if rep.FromChanges != 6 || rep.Disabled != 2 || rep.Deleted != 1 || rep.RevokedUsers != 4 || rep.RevokedSessions != 4 || rep.ChangesAsked != 0 {
		t.Fatalf("second run = %+v; want 6 users judged from the feed (u001-u005, u900), 4 users' sessions revoked", rep)
	}
	if reqs != 1 {
		t.Fatalf("second run made %d directory requests; want 1 (the delta page): no user asked one by one", reqs)
	}
	if s, _ := f.store.Session(ctx, victim); !s.RevokedAt.IsZero() {
		t.Fatal("u900's session revoked; it is enabled")
	}
	for _, u := range []string{"u001", "u003"} {
		if got, _ := f.store.User(ctx, "prod", keysOf(u)[0]); !got.Disabled {
			t.Fatalf("%s not recorded disabled", u)
		}
	}
	if got, _ := f.store.User(ctx, "prod", session.UserKey{Issuer: deltaIssuer, Subject: "tenant-1/outsider"}); !got.NextCheckAt.IsZero() || got.Disabled {
		t.Fatalf("the outsider (no sessions here) was recorded: %+v", got)
	}

	// Nothing changed: one delta request, nobody checked.
	if rep, reqs = f.run(t); rep.Checked != 0 || reqs != 1 {
		t.Fatalf("quiet run = %+v with %d requests; want nothing checked, 1 request", rep, reqs)
	}

	// The interval is still the guarantee: an hour on, every tracked user
	// is due and asked, changed or not.
	f.clock.Add(61 * time.Minute)
	rep, reqs = f.run(t)
	if rep.Checked != 61 || reqs != 1+4 {
		t.Fatalf("interval run = %+v with %d requests; want all 61 users asked in 4 batches after the delta page", rep, reqs)
	}
}

// fakeFeed reports what it is given, or fails.
type fakeFeed struct {
	changes []directory.Change
	err     error
	cursors []string // the cursors it was asked from
}

func (f *fakeFeed) Changes(_ context.Context, cursor string) ([]directory.Change, string, error) {
	f.cursors = append(f.cursors, cursor)
	if f.err != nil {
		return nil, "", f.err
	}
	return f.changes, fmt.Sprintf("cursor-%d", len(f.cursors)), nil
}

func TestIncompleteChangesAreAsked(t *testing.T) {
	feed := &fakeFeed{}
	f := newDeltaFixture(t, 30, func(*directory.Graph) ChangeFeed { return feed })
	f.run(t) // everyone checked once
	f.clock.Add(10 * time.Minute)
	f.dir.Put("u007", devdir.User{Enabled: false})
	active := directory.Change{ID: "u008", Complete: true, Result: directory.Result{State: directory.Active}}
	feed.changes = []directory.Change{active, {ID: "u007"}, active} // u008 listed twice: judged once
	rep, reqs := f.run(t)
	if rep.ChangesAsked != 1 || rep.FromChanges != 1 || rep.Disabled != 1 || rep.RevokedSessions != 1 || reqs != 1 {
		t.Fatalf("run = %+v with %d requests; want u007 asked (one batch) and found disabled, u008 judged from the feed", rep, reqs)
	}
}

func TestFailedFeedChangesNothing(t *testing.T) {
	ctx := context.Background()
	feed := &fakeFeed{err: errors.New("graph is down")}
	f := newDeltaFixture(t, 30, func(*directory.Graph) ChangeFeed { return feed })
	if err := f.store.PutDirectoryCursor(ctx, "graph tenant-1", "kept"); err != nil {
		t.Fatal(err)
	}
	rep, _ := f.run(t)
	if rep.Checked != 30 {
		t.Fatalf("run = %+v; want the 30 due users still checked", rep)
	}
	if c, _ := f.store.DirectoryCursor(ctx, "graph tenant-1"); c != "kept" || feed.cursors[0] != "kept" {
		t.Fatalf("cursor = %q (asked from %q); want the kept one, unchanged", c, feed.cursors)
	}
}

func TestExpiredCursorRestartsFromNow(t *testing.T) {
	ctx := context.Background()
	f := newDeltaFixture(t, 5, nil)
	expired := f.graph.GraphURL + "/users/delta?$deltatoken=999999"
	if err := f.store.PutDirectoryCursor(ctx, "graph tenant-1", expired); err != nil {
		t.Fatal(err)
	}
	rep, _ := f.run(t)
	if rep.Checked != 5 {
		t.Fatalf("run = %+v; want the due users checked", rep)
	}
	if c, _ := f.store.DirectoryCursor(ctx, "graph tenant-1"); c == expired || c == "" {
		t.Fatalf("cursor = %q; want a new one from now", c)
	}
	// Changes after the restart are seen.
	f.clock.Add(10 * time.Minute)
	f.dir.Put("u002", devdir.User{Enabled: false})
	if rep, _ = f.run(t); rep.FromChanges != 1 || rep.Disabled != 1 {
		t.Fatalf("run after the restart = %+v; want u002's change applied", rep)
	}
}

// SCIM: the meta.lastModified filter brings the changed users; the
// service provider's own clock sets the cursor.
func TestSCIMChangesDriveChecks(t *testing.T) {
	ctx := context.Background()
	clock := devidp.NewClock(t0)
	dir := devdir.New()
	dir.Now = clock.Now
	srv := httptest.NewServer(dir)
	t.Cleanup(srv.Close)
	store := memstore.New(clock.Now)
	scim := &directory.SCIM{BaseURL: srv.URL + "/scim/v2", Now: clock.Now}
	ref := New(Config{Store: store, Directory: scim, Environments: []string{"prod"}, Now: clock.Now,
		Changes: &Changes{Feed: scim, Cursors: store, Name: "scim", Keys: keysOf}})
	f := &deltaFixture{clock: clock, dir: dir, store: store, ref: ref}
	for i := range 30 {
		f.signIn(t, fmt.Sprintf("u%03d", i))
	}
	clock.Add(2 * time.Minute)                                    // tracking starts a minute before the first run: after these users were created
	if rep, reqs := f.run(t); rep.Checked != 30 || reqs != 1+30 { // ServiceProviderConfig, then each due user
		t.Fatalf("first run = %+v with %d requests; want 30 checked one by one after asking whether filtering is supported", rep, reqs)
	}
	clock.Add(10 * time.Minute)
	dir.Put("u001", devdir.User{Enabled: false})
	dir.Put("u002", devdir.User{Enabled: false})
	dir.Put("outsider", devdir.User{Enabled: false})
	rep, reqs := f.run(t)
	if rep.FromChanges != 2 || rep.Disabled != 2 || rep.RevokedSessions != 2 || reqs != 1 {
		t.Fatalf("second run = %+v with %d requests; want u001 and u002 judged from one filtered list", rep, reqs)
	}
	c, _ := store.DirectoryCursor(ctx, "scim")
	if want := clock.Now().Format(time.RFC3339Nano); c != want {
		t.Fatalf("cursor = %q; want the latest meta.lastModified, %q", c, want)
	}
	if rep, reqs = f.run(t); rep.Checked != 0 || reqs != 1 {
		t.Fatalf("quiet run = %+v with %d requests; want nothing", rep, reqs)
	}
}

// A service provider that does not advertise filtering: no change feed,
// the interval alone, and no error.
func TestSCIMWithoutFiltering(t *testing.T) {
	clock := devidp.NewClock(t0)
	dir := devdir.New()
	dir.NoFilter = true
	srv := httptest.NewServer(dir)
	t.Cleanup(srv.Close)
	scim := &directory.SCIM{BaseURL: srv.URL + "/scim/v2", Now: clock.Now}
	for _, cursor := range []string{"", "2026-11-23T08:00:00Z"} {
		changes, next, err := scim.Changes(context.Background(), cursor)
		if err != nil || len(changes) != 0 || next != cursor {
			t.Fatalf("Changes(%q) = %v, %q, %v; want nothing, the cursor unchanged", cursor, changes, next, err)
		}
	}
}

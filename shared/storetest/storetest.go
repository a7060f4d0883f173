// Package storetest is the store contract: one suite of tests that every
// session store (memory, DynamoDB) must pass, so that the functions can be
// tested on the memory store and trusted on DynamoDB.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/runcount"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/stream"
	"github.com/sessionguard/sessionguard/shared/token"
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
	Override(ctx context.Context, env string) (session.Override, error)
	DueUsers(ctx context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error)
	Users(ctx context.Context, env string, p session.Page) ([]session.User, string, error)
	Settings(ctx context.Context, env string) (policy.Settings, int, error)
	PutSettings(ctx context.Context, c policy.SettingsChange) error
	History(ctx context.Context, env string, p session.Page) ([]policy.SettingsChange, string, error)
	PutReport(ctx context.Context, r audit.Record) error
	Reports(ctx context.Context, env string, p session.Page) ([]audit.Record, string, error)
	RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error)
	ForgetJTI(ctx context.Context, issuer, jti string) error
	RecordProof(ctx context.Context, key [32]byte, keepUntil time.Time) (bool, error)
	IdPSessionHashes(ctx context.Context, issuer, sid string) ([]session.Hash, error)
	SessionOfIdPSessionBy(ctx context.Context, env string, user session.UserKey, sid string, by time.Time) (bool, error)
	PutStream(ctx context.Context, s stream.Stream, was string) (bool, error)
	Stream(ctx context.Context, transmitter string) (stream.Stream, bool, error)
	RecordVerification(ctx context.Context, transmitter, state string, at time.Time) error
	RecordUsername(ctx context.Context, issuer, subject, username string) error
	SubjectOf(ctx context.Context, issuer, username string) (string, error)
	UsernameOf(ctx context.Context, issuer, subject string) (string, error)
	DirectoryCursor(ctx context.Context, directory string) (string, error)
	PutDirectoryCursor(ctx context.Context, directory, cursor string) error
	CountRun(ctx context.Context, run string, checked, revoking int, keepUntil time.Time) (runcount.Count, error)
	TripRun(ctx context.Context, run string) error
	token.Snapshots
	UserSearch
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

// Run runs the contract against the stores open returns: each area's
// tests, one file each, every test on a new, empty store.
func Run(t *testing.T, open Open) {
	run := func(name string, test func(t *testing.T, st Store, clock *Clock)) {
		t.Run(name, func(t *testing.T) {
			clock := &Clock{t: T0}
			test(t, open(t, clock.Now), clock)
		})
	}
	run("create and look up, every field kept", createAndLookUp)
	run("activity is rate-limited", activityRateLimited)
	run("revocation is idempotent", revocationIdempotent)
	run("items past their TTL read as absent", expiredItemsAbsent)
	run("session limit: deny_new and end_oldest", sessionLimit)
	run("listing a user's sessions, in pages", listUserSessions)
	run("a page of a user's sessions is filled past revoked and expired ones", listPastUnlisted)
	run("ending all of a user's sessions but one", revokeAllButOne)
	run("a change applied to running sessions judges them at sign-in", overrideAtSignIn)
	run("a change applied to running sessions never brings an ended one back", appliedChangeNeverRevives)
	run("revoking all of a user's sessions", revokeUser)
	run("user state: sign-out, policy checks, due users", userState)
	run("user state only moves towards less trust under concurrency", userStateTowardsLessTrust)
	run("revoking sessions from an IdP's revocation point", revokeFromPoint)
	run("ended IdP sessions are remembered per environment", endedIdPSessions)
	run("settings: versions, conflicts, history, applying to running sessions", settingsVersions)
	run("audit reports", auditReports)
	run("token ids are remembered until they may be forgotten", jtiReplay)
	run("DPoP proofs are received once within their window", proofReplay)
	run("the sessions of one IdP session", idpSessionHashes)
	run("a session of an IdP session before a point", sessionOfIdPSessionBy)
	run("shared signals streams and their verification", streamVerification)
	run("a stream is stored only over the stream read", streamStoredOverTheRead)
	run("usernames map to subjects and back", usernames)
	run("directory change cursors", directoryCursors)
	run("shards of a run count together", runShards)
	run("concurrent sign-ins never exceed the limit", concurrentSignIns)
	run("key-set snapshots: one per issuer and URL, newer wins", keySetSnapshots)
	run("searching users by the beginning of their subject", searchUsers)
}

// create stores s, failing the test on an error, and returns the sessions
// its creation ended.
func create(t *testing.T, st Store, s session.Session, l session.Limit) []session.Session {
	t.Helper()
	ended, err := st.Create(context.Background(), s, l, always)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return ended
}

func always(session.Session) bool { return true }

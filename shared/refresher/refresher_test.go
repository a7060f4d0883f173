package refresher

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

const slack = 15 * time.Minute

type fixture struct {
	clock *devidp.Clock
	idp   *devidp.Issuer
	dir   *devdir.Directory
	store *memstore.Store
	auth  *authorizer.Authorizer
	ref   *Refresher
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	ck := devidp.NewClock(t0)
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	dir := devdir.New()
	srv := httptest.NewServer(dir)
	t.Cleanup(srv.Close)
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}, Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(ck.Now)
	envs := environment.Config{Source: "fixed", Name: "prod", Known: []string{"prod"}}
	logs := &bytes.Buffer{}
	cfg := Config{Store: store, Directory: &directory.HTTPJSON{BaseURL: srv.URL}, Environments: []string{"prod"}, Now: ck.Now, Log: obs.NewLogger(logs)}
	if edit != nil {
		edit(&cfg)
	}
	return &fixture{clock: ck, idp: idp, dir: dir, store: store, logs: logs, ref: New(cfg),
		auth: authorizer.New(v, store, envs, policy.Enforcement{PolicyChecks: true, CheckSlack: slack}, ck.Now)}
}

// signIn creates a session for user, who exists and is enabled in the
// directory unless already put there.
func (f *fixture) signIn(t *testing.T, user string, ssi bool) session.ID {
	t.Helper()
	id, _ := session.NewID()
	now := f.clock.Now()
	s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: f.idp.URL(), Subject: user},
		ClientID: devidp.DefaultClientID, CreatedAt: now, AuthTime: now, StaySignedIn: ssi, Settings: policy.Defaults()}
	if _, err := f.store.Create(context.Background(), s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) decide(t *testing.T, id session.ID, user string) reason.Code {
	t.Helper()
	tok, err := f.idp.Mint(devidp.Token{User: user})
	if err != nil {
		t.Fatal(err)
	}
	return f.auth.Check(context.Background(), authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()}).Reason
}

func (f *fixture) run(t *testing.T) Report {
	t.Helper()
	reps, err := f.ref.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return reps["prod"]
}

func TestDisabledDeletedAndRevokedAtTheIdP(t *testing.T) {
	f := newFixture(t, nil)
	f.dir.Put("alice", devdir.User{Enabled: true})
	f.dir.Put("bob", devdir.User{Enabled: true})
	f.dir.Put("carol", devdir.User{Enabled: true})
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"} { // enough users that 3 revocations are not a mass event
		f.dir.Put(u, devdir.User{Enabled: true})
		f.signIn(t, u, false)
	}
	alice, bob := f.signIn(t, "alice", false), f.signIn(t, "bob", false)
	carolOld := f.signIn(t, "carol", false)
	f.clock.Add(10 * time.Minute)
	carolNew := f.signIn(t, "carol", false)
	dave := f.signIn(t, "dave", false) // not in the directory: deleted

	f.dir.Put("bob", devdir.User{Enabled: false})
	f.dir.Put("carol", devdir.User{Enabled: true, SessionsValidFrom: t0.Add(5 * time.Minute)}) // between her sessions
	rep := f.run(t)
	if rep.Checked != 11 || rep.Disabled != 1 || rep.Deleted != 1 || rep.RevokedUsers != 3 || rep.GuardTripped {
		t.Fatalf("report = %+v; want 11 checked, bob disabled, dave deleted, 3 users revoked", rep)
	}
	for _, c := range []struct {
		name string
		id   session.ID
		user string
		want reason.Code
	}{
		{"alice, active", alice, "alice", reason.OK},
		{"bob, disabled", bob, "bob", reason.SessionRevoked},
		{"carol's session from before the IdP's revocation point", carolOld, "carol", reason.SessionRevoked},
		{"carol's session from after it", carolNew, "carol", reason.OK},
		{"dave, deleted", dave, "dave", reason.SessionRevoked},
	} {
		if got := f.decide(t, c.id, c.user); got != c.want {
			t.Errorf("%s: decision = %s; want %s", c.name, got, c.want)
		}
	}
	// bob cannot start over: a new session is refused while disabled.
	f.clock.Add(time.Second) // (a session at the very instant of the revocation point is revoked)
	if got := f.decide(t, f.signIn(t, "bob", false), "bob"); got != reason.UserDisabled {
		t.Errorf("bob's new session = %s; want user_disabled", got)
	}
	// Users just checked are not due again until their interval passes.
	if rep := f.run(t); rep.Checked != 0 {
		t.Errorf("a second run at once checked %d users; want 0", rep.Checked)
	}
	// An hour later everyone is checked again; users who stay disabled
	// revoke nothing new (and do not feed the mass-revocation guard).
	f.clock.Add(time.Hour)
	if rep := f.run(t); rep.Checked != 11 || rep.Disabled != 1 || rep.Deleted != 1 || rep.RevokedUsers != 0 {
		t.Errorf("next hour's report = %+v; want 11 checked, nobody newly revoked", rep)
	}
}

// The directory is down: nobody is revoked; a normal session lasts until
// its last check + interval + slack, a stay-signed-in one for the outage
// grace more; both recover when the directory answers again.
func TestOutageLocksNobodyOut(t *testing.T) {
	f := newFixture(t, nil)
	f.dir.Put("alice", devdir.User{Enabled: true})
	f.dir.Put("sam", devdir.User{Enabled: true})
	normal, ssi := f.signIn(t, "alice", false), f.signIn(t, "sam", true)
	f.dir.SetDown(true)
	for range 6 { // a run every 5 minutes for half an hour: every check fails
		if rep := f.run(t); rep.Errors == 0 || rep.RevokedSessions != 0 {
			t.Fatalf("directory down: report %+v; want errors and no revocation", rep)
		}
		f.clock.Add(5 * time.Minute)
	}
	interval := 60 * time.Minute
	at := func(d time.Duration) { f.clock.Add(t0.Add(d).Sub(f.clock.Now())) }
	at(interval + slack - time.Second)
	if got := f.decide(t, normal, "alice"); got != reason.OK {
		t.Errorf("normal session just inside interval+slack = %s; want ok", got)
	}
	at(interval + slack)
	if got := f.decide(t, normal, "alice"); got != reason.PolicyCheckStale {
		t.Errorf("normal session at interval+slack = %s; want policy_check_stale", got)
	}
	grace := time.Duration(policy.Defaults().OutageGraceMinutes) * time.Minute
	at(interval + slack + grace - time.Second)
	if got := f.decide(t, ssi, "sam"); got != reason.OK {
		t.Errorf("stay-signed-in session just inside the grace = %s; want ok", got)
	}
	at(interval + slack + grace)
	if got := f.decide(t, ssi, "sam"); got != reason.PolicyCheckStale {
		t.Errorf("stay-signed-in session at the end of the grace = %s; want policy_check_stale", got)
	}
	if u, _ := f.store.User(context.Background(), "prod", session.UserKey{Issuer: f.idp.URL(), Subject: "alice"}); u.CheckFailures < 6 {
		t.Errorf("alice's failed checks in a row = %d; want at least 6", u.CheckFailures)
	}
	f.dir.SetDown(false)
	if rep := f.run(t); rep.Checked != 2 || rep.Errors != 0 {
		t.Fatalf("directory back: report %+v; want both users checked", rep)
	}
	for _, c := range []struct {
		id   session.ID
		user string
	}{{normal, "alice"}, {ssi, "sam"}} {
		if got := f.decide(t, c.id, c.user); got != reason.OK {
			t.Errorf("%s after the directory returned = %s; want ok", c.user, got)
		}
	}
}

func TestMassRevocationGuard(t *testing.T) {
	f := newFixture(t, nil)
	var ids []session.ID
	for i := range 10 {
		u := fmt.Sprintf("user%d", i)
		f.dir.Put(u, devdir.User{Enabled: true})
		ids = append(ids, f.signIn(t, u, false))
	}
	for i := range 8 { // a misconfigured directory: most users disabled
		f.dir.Put(fmt.Sprintf("user%d", i), devdir.User{Enabled: false})
	}
	rep := f.run(t)
	if !rep.GuardTripped || rep.RevokedSessions != 0 || rep.Held != 8 {
		t.Fatalf("report = %+v; want the guard tripped, 8 revocations held, none made", rep)
	}
	for i, id := range ids {
		if got := f.decide(t, id, fmt.Sprintf("user%d", i)); got != reason.OK {
			t.Errorf("user%d after the guard = %s; want ok (nobody revoked)", i, got)
		}
	}
	if !strings.Contains(f.logs.String(), "mass revocation guard tripped") || !strings.Contains(f.logs.String(), `"massRevocationGuard":1`) {
		t.Errorf("no alarm in the logs:\n%s", f.logs.String())
	}
}

func TestThrottledDirectory(t *testing.T) {
	f := newFixture(t, nil)
	f.dir.Put("alice", devdir.User{Enabled: false})
	f.signIn(t, "alice", false)
	f.dir.Throttle(2, "0")
	if rep := f.run(t); rep.Disabled != 1 || rep.Errors != 0 {
		t.Errorf("throttled twice: report %+v; want alice checked (disabled) after Retry-After", rep)
	}
}

// A run cut by its deadline stops starting work; the next run carries on
// with the users left, and nobody is asked about twice.
func TestDeadlineResumesWithoutDoubleWork(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Concurrency = 1; c.Margin = 100 * time.Millisecond })
	for i := range 20 {
		u := fmt.Sprintf("user%02d", i)
		f.dir.Put(u, devdir.User{Enabled: true})
		f.signIn(t, u, false)
	}
	f.dir.SetDelay(40 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	first, err := f.ref.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !first["prod"].StoppedEarly || first["prod"].Checked >= 20 {
		t.Fatalf("first run = %+v; want it cut short by the deadline", first["prod"])
	}
	f.dir.SetDelay(0)
	second := f.run(t)
	if got := first["prod"].Checked + second.Checked; got != 20 || f.dir.Requests() != 20 {
		t.Errorf("checked %d + %d users in %d directory requests; want 20 in 20", first["prod"].Checked, second.Checked, f.dir.Requests())
	}
}

// The schedule's event file starts a run through the Lambda runtime's
// handler path, as functions/refresher wires it.
func TestScheduleEvent(t *testing.T) {
	f := newFixture(t, nil)
	f.dir.Put("alice", devdir.User{Enabled: false})
	f.signIn(t, "alice", false)
	ev, err := events.Load("refresher/schedule.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(func(ctx context.Context) (map[string]Report, error) { return f.ref.Run(ctx) })
	out, err := h.Invoke(context.Background(), ev)
	if err != nil || !strings.Contains(string(out), `"disabled":1`) {
		t.Errorf("scheduled run = %s, %v; want a report with alice disabled", out, err)
	}
}

// Two runs at once (a slow run overlapping the next schedule) do no harm:
// every revocation happens once, and every user ends up checked.
func TestConcurrentRuns(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 12 {
		u := fmt.Sprintf("user%02d", i)
		f.dir.Put(u, devdir.User{Enabled: i >= 3}) // three disabled: under the guard
		f.signIn(t, u, false)
	}
	f.dir.SetDelay(5 * time.Millisecond)
	reps := make(chan Report, 2)
	for range 2 {
		go func() {
			r, err := f.ref.Run(context.Background())
			if err != nil {
				t.Error(err)
			}
			reps <- r["prod"]
		}()
	}
	a, b := <-reps, <-reps
	if a.GuardTripped || b.GuardTripped {
		t.Fatalf("guard tripped: %+v %+v", a, b)
	}
	if got := a.RevokedSessions + b.RevokedSessions; got != 3 {
		t.Errorf("sessions revoked by both runs = %d; want 3, each once", got)
	}
	for i := range 12 {
		u, _ := f.store.User(context.Background(), "prod", session.UserKey{Issuer: f.idp.URL(), Subject: fmt.Sprintf("user%02d", i)})
		if !u.LastCheckAt.Equal(t0) || u.Disabled != (i < 3) {
			t.Errorf("user%02d = %+v; want checked, disabled %v", i, u, i < 3)
		}
	}
}

// shortDirectory answers for fewer users than it is asked about, as a
// faulty adapter might; the first user is reported disabled.
type shortDirectory struct{}

func (shortDirectory) BatchSize() int { return 20 }
func (shortDirectory) Check(_ context.Context, subjects []string) []directory.Result {
	return []directory.Result{{State: directory.Disabled}}
}

// A result an adapter left unfilled is an error for that user, not an
// "active" answer: the user is neither cleared nor revoked, and is retried.
func TestUnansweredUsersAreErrors(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Directory = shortDirectory{} })
	for _, u := range []string{"alice", "bob", "carol"} {
		f.signIn(t, u, false)
	}
	rep := f.run(t)
	if rep.Checked != 1 || rep.Active != 0 || rep.Errors != 2 {
		t.Fatalf("report = %+v; want 1 checked (disabled), 0 active, 2 errors", rep)
	}
	users, _, err := f.store.Users(context.Background(), "prod", session.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Key.Subject != "alice" && (!u.LastCheckAt.IsZero() || u.CheckFailures != 1 || u.Disabled) {
			t.Errorf("%s = %+v; want no successful check, 1 failure, not disabled", u.Key.Subject, u)
		}
	}
}

// Package refresher re-checks users at the identity provider's directory
// (SPEC section 4): it finds the users due for a check (from the store's
// index, never a scan), asks the directory once per user (batched where
// the directory allows), records the result, and revokes what must be
// revoked — unless the run would revoke an unusual share of users, which
// smells like a misconfigured directory: then it revokes nobody and raises
// the alarm. A directory it cannot reach changes nothing: users keep their
// last successful check, and the authorizer's outage rules apply.
package refresher

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
)

// Directory answers for a batch of users (subjects as the tokens carry
// them).
type Directory interface {
	Check(ctx context.Context, subjects []string) []directory.Result
	BatchSize() int
}

// Store is what the refresher needs of storage.
type Store interface {
	DueUsers(ctx context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error)
	User(ctx context.Context, env string, user session.UserKey) (session.User, error)
	RecordCheck(ctx context.Context, env string, user session.UserKey, c session.Check) error
	Settings(ctx context.Context, env string) (policy.Settings, int, error)
	revoke.Store
}

// Guard is the mass-revocation guard: a run that would revoke more than
// Share of the users it checked, and more than Min users, revokes nobody.
type Guard struct {
	Share float64 // default 0.2
	Min   int     // default 5
}

// Config configures a Refresher.
type Config struct {
	Store        Store
	Directory    Directory
	Environments []string
	// Changes, when set, makes runs change-driven: each run first reads
	// the directory's change feed (see changes.go).
	Changes *Changes
	// FanOut, when set, splits a due set larger than one invocation can
	// check into shards for workers (see fanout.go).
	FanOut *FanOut
	// Concurrency bounds the directory requests in flight. Default 8.
	Concurrency int
	// WriteConcurrency bounds the users whose results are written at once.
	// Default 16.
	WriteConcurrency int
	// RetryAfterFailure is when a user the directory could not answer for
	// (or whose revocation the guard held) is due again. Default 5m.
	RetryAfterFailure time.Duration
	Guard             Guard
	// Margin is the time kept before the Lambda's deadline: no new batch
	// starts within it. Default 10s.
	Margin time.Duration
	// PageSize is how many due users are read at a time. Default 200.
	PageSize int
	Now      func() time.Time
	Log      *slog.Logger
}

// Report is what one run did.
type Report struct {
	Checked         int  `json:"checked"` // users the directory answered for
	Active          int  `json:"active"`
	Disabled        int  `json:"disabled"`
	Deleted         int  `json:"deleted"`
	Errors          int  `json:"errors"`          // users it could not answer for
	RevokedUsers    int  `json:"revokedUsers"`    // users whose sessions were revoked
	RevokedSessions int  `json:"revokedSessions"` // sessions revoked
	GuardTripped    bool `json:"guardTripped"`
	Held            int  `json:"held"` // revocations the guard held back
	StoppedEarly    bool `json:"stoppedEarly"`
	FromChanges     int  `json:"fromChanges"`  // users judged from the change feed's entries
	ChangesAsked    int  `json:"changesAsked"` // changed users asked one by one (the feed could not tell)
	Shards          int  `json:"shards"`       // shards queued for workers
	Queued          int  `json:"queued"`       // users in them
	Skipped         int  `json:"skipped"`      // a shard's users no longer due
}

// Refresher runs policy checks.
type Refresher struct{ cfg Config }

// New returns a Refresher.
func New(cfg Config) *Refresher {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.WriteConcurrency <= 0 {
		cfg.WriteConcurrency = 16
	}
	if cfg.RetryAfterFailure <= 0 {
		cfg.RetryAfterFailure = 5 * time.Minute
	}
	if cfg.Guard.Share <= 0 {
		cfg.Guard.Share = 0.2
	}
	if cfg.Guard.Min <= 0 {
		cfg.Guard.Min = 5
	}
	if cfg.Margin <= 0 {
		cfg.Margin = 10 * time.Second
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 200
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if f := cfg.FanOut; f != nil {
		if f.Capacity <= 0 {
			f.Capacity = 50000
		}
		if f.Size <= 0 {
			f.Size = 1000
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Refresher{cfg: cfg}
}

var runMetrics = obs.NewEMF([][]string{{}, {"environment"}}, // {}: the deployment-wide alarm
	obs.Metric{Name: "usersChecked", Unit: "Count"}, obs.Metric{Name: "directoryErrors", Unit: "Count"},
	obs.Metric{Name: "revokedSessions", Unit: "Count"}, obs.Metric{Name: "massRevocationGuard", Unit: "Count"})

// Run checks the due users of every environment until none is left or the
// deadline draws near. Users it checks are not due again until their next
// interval, so a run cut short resumes where it stopped, and two runs at
// once only repeat idempotent writes.
func (r *Refresher) Run(ctx context.Context) (map[string]Report, error) {
	out := map[string]Report{}
	changes, next, ok := r.readChanges(ctx)
	applied := 0
	defer func() {
		if ok && applied == len(r.cfg.Environments) {
			if err := r.keepCursor(ctx, next); err != nil {
				r.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "change cursor not kept: the next run reads these changes again", slog.String("error", err.Error()))
			}
		}
	}()
	for _, env := range r.cfg.Environments {
		rep, changesDone, err := r.runEnv(ctx, env, changes)
		if changesDone {
			applied++
		}
		out[env] = rep
		r.logReport(ctx, env, rep)
		if err != nil {
			return out, err
		}
		if rep.StoppedEarly {
			break
		}
	}
	return out, nil
}

// Log is the refresher's logger.
func (r *Refresher) Log() *slog.Logger { return r.cfg.Log }

// logReport logs a run's (or a shard's) report with its metrics.
func (r *Refresher) logReport(ctx context.Context, env string, rep Report) {
	guard := 0
	if rep.GuardTripped {
		guard = 1
		r.cfg.Log.LogAttrs(ctx, slog.LevelError, "mass revocation guard tripped: no user revoked",
			slog.String("environment", env), slog.Int("checked", rep.Checked), slog.Int("held", rep.Held))
	}
	r.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "policy checks", slog.String("environment", env),
		slog.Int("usersChecked", rep.Checked), slog.Int("directoryErrors", rep.Errors), slog.Int("revokedSessions", rep.RevokedSessions),
		slog.Int("massRevocationGuard", guard), slog.Int("disabled", rep.Disabled), slog.Int("deleted", rep.Deleted),
		slog.Int("fromChanges", rep.FromChanges), slog.Int("shards", rep.Shards), slog.Int("skipped", rep.Skipped),
		slog.Bool("stoppedEarly", rep.StoppedEarly), runMetrics.Attr(r.cfg.Now()))
}

// nearDeadline reports whether no new batch should start.
func (r *Refresher) nearDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ctx.Err() != nil || (ok && time.Until(dl) < r.cfg.Margin)
}

// runEnv applies the changes, then checks the due users of env; done
// reports that the changes were applied.
func (r *Refresher) runEnv(ctx context.Context, env string, changes []directory.Change) (Report, bool, error) {
	var rep Report
	settings, _, err := r.cfg.Store.Settings(ctx, env)
	if err != nil {
		return rep, false, fmt.Errorf("refresher: settings of %s: %w", env, err)
	}
	interval := time.Duration(settings.PolicyCheckIntervalMinutes) * time.Minute
	g := &runGuard{g: r.cfg.Guard}
	if len(changes) > 0 {
		if err := r.applyChanges(ctx, env, changes, interval, g, &rep); err != nil {
			return rep, false, err
		}
	}
	if r.cfg.FanOut != nil {
		if sent, err := r.fanOut(ctx, env, &rep); err != nil || sent {
			return rep, true, err
		}
	}
	seen := map[session.UserKey]bool{}
	for {
		if r.nearDeadline(ctx) {
			rep.StoppedEarly = true
			return rep, true, nil
		}
		// Every user handled leaves the due set, so the first page is
		// always the next work; users seen before (a write that failed)
		// end the run rather than loop.
		due, _, err := r.cfg.Store.DueUsers(ctx, env, r.cfg.Now(), session.Page{Limit: r.cfg.PageSize})
		if err != nil {
			return rep, true, fmt.Errorf("refresher: users due in %s: %w", env, err)
		}
		var fresh []session.User
		for _, u := range due {
			if !seen[u.Key] {
				seen[u.Key] = true
				fresh = append(fresh, u)
			}
		}
		if len(fresh) == 0 {
			return rep, true, nil
		}
		results, asked := r.check(ctx, fresh)
		if asked < len(fresh) {
			rep.StoppedEarly = true
		}
		if err := r.record(ctx, env, fresh[:asked], results[:asked], interval, g, &rep); err != nil {
			return rep, true, err
		}
		if rep.StoppedEarly {
			return rep, true, nil
		}
	}
}

// record judges a set of answers with the guard (the whole run so far,
// this set included) and writes them.
func (r *Refresher) record(ctx context.Context, env string, users []session.User, results []directory.Result, interval time.Duration, g judge, rep *Report) error {
	checked, revoking := 0, 0
	for i, res := range results {
		if res.Err == nil {
			checked++
			if revokes(users[i], res) {
				revoking++
			}
		}
	}
	tripped, err := g.judge(ctx, checked, revoking)
	if err != nil {
		return fmt.Errorf("refresher: the mass-revocation guard in %s: %w", env, err)
	}
	rep.GuardTripped = rep.GuardTripped || tripped
	return r.applyAll(ctx, env, users, results, interval, tripped, rep)
}

// judge is the mass-revocation guard's memory: it adds a set of answers
// (users answered for, users they would revoke) to the run's totals and
// says whether the run has tripped. Once tripped, a run stays tripped.
type judge interface {
	judge(ctx context.Context, checked, revoking int) (bool, error)
}

// trips reports whether totals trip the guard.
func (g Guard) trips(checked, revoking int) bool {
	return revoking > g.Min && float64(revoking) > g.Share*float64(checked)
}

// runGuard is the guard of a run in one invocation.
type runGuard struct {
	g                 Guard
	checked, revoking int
	tripped           bool
}

func (l *runGuard) judge(_ context.Context, checked, revoking int) (bool, error) {
	l.checked += checked
	l.revoking += revoking
	l.tripped = l.tripped || l.g.trips(l.checked, l.revoking)
	return l.tripped, nil
}

// check asks the directory about users, in batches, with bounded
// concurrency; it starts no batch near the deadline and reports how many
// users (a prefix) it asked about.
func (r *Refresher) check(ctx context.Context, users []session.User) ([]directory.Result, int) {
	results := make([]directory.Result, len(users))
	size := max(1, r.cfg.Directory.BatchSize())
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	asked := 0
	for start := 0; start < len(users); start += size {
		if r.nearDeadline(ctx) {
			break
		}
		end := min(start+size, len(users))
		subjects := make([]string, 0, end-start)
		for _, u := range users[start:end] {
			subjects = append(subjects, u.Key.Subject)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(start int) {
			defer wg.Done()
			defer func() { <-sem }()
			asked := r.cfg.Now()
			copy(results[start:], r.cfg.Directory.Check(ctx, subjects))
			for i := start; i < start+len(subjects); i++ {
				results[i].AskedAt = asked
			}
		}(start)
		asked = end
	}
	wg.Wait()
	for i := range results[:asked] {
		if results[i].Err == nil && results[i].State == directory.Unknown {
			results[i].Err = directory.ErrNoAnswer // an adapter answered for fewer users than asked
		}
	}
	return results, asked
}

// revokes reports whether a directory answer would revoke sessions of u:
// a user newly disabled or deleted, or a revocation point that moved. A
// user who stays disabled revokes nothing new (and must not feed the
// guard run after run).
func revokes(u session.User, res directory.Result) bool {
	return (res.State != directory.Active && !u.Disabled) || res.SessionsValidFrom.After(u.SessionsValidFrom)
}

// apply records one user's answer. Every write is field-level: the
// check's own fields, and what revoke.User does; so a revocation or a
// disable that lands while the directory is being asked stands.
func (r *Refresher) apply(ctx context.Context, env string, u session.User, res directory.Result, interval time.Duration, held bool, rep *Report) error {
	now := r.cfg.Now()
	c := session.Check{StartedAt: res.AskedAt}
	if res.Err != nil {
		rep.Errors++
		r.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "policy check failed", slog.String("environment", env),
			slog.String("userId", u.Key.Subject), slog.String("error", res.Err.Error()))
		c.NextCheckAt = now.Add(r.cfg.RetryAfterFailure) // the last good check stands
		return r.recordCheck(ctx, env, u.Key, c)
	}
	rep.Checked++
	c.Answered = true
	switch res.State {
	case directory.Active:
		rep.Active++
	case directory.Disabled:
		rep.Disabled++
	case directory.Deleted:
		rep.Deleted++
	}
	if revokes(u, res) && held {
		rep.Held++
		c.NextCheckAt = now.Add(r.cfg.RetryAfterFailure) // Enable stays false: a held answer clears nothing
		return r.recordCheck(ctx, env, u.Key, c)
	}
	c.CheckedAt, c.NextCheckAt = now, now.Add(interval)
	active := res.State == directory.Active
	c.Enable = active && u.Disabled
	req := revoke.Request{Environments: []string{env}, User: u.Key, At: now}
	switch {
	case !active && !u.Disabled:
		req.Cause = session.CauseUserDisabled
		if res.State == directory.Deleted {
			req.Cause = session.CauseUserDeleted
		}
	case active && res.SessionsValidFrom.After(u.SessionsValidFrom):
		req.Cause, req.From = session.CauseRevokedAtIdP, res.SessionsValidFrom
	}
	// The revocation comes before the check is recorded: were it cut
	// short, the check stays due and the next run ends the sessions.
	if req.Cause != "" {
		ended, err := revoke.User(ctx, r.cfg.Store, req)
		if err != nil {
			return fmt.Errorf("refresher: %w", err)
		}
		rep.RevokedUsers++
		rep.RevokedSessions += len(ended)
	}
	return r.recordCheck(ctx, env, u.Key, c)
}

// applyAll records the answers with bounded concurrency (WriteConcurrency
// in flight), so a run is limited by the directory, not by one write after
// another; each user's report is added to rep once its writes are done.
func (r *Refresher) applyAll(ctx context.Context, env string, users []session.User, results []directory.Result, interval time.Duration, held bool, rep *Report) error {
	var mu sync.Mutex
	var first error
	parallel(len(results), r.cfg.WriteConcurrency, func(i int) {
		var one Report
		err := r.apply(ctx, env, users[i], results[i], interval, held, &one)
		mu.Lock()
		defer mu.Unlock()
		rep.add(one)
		if err != nil && first == nil {
			first = err
		}
	})
	return first
}

// add sums another report's counts into rep.
func (rep *Report) add(o Report) {
	rep.Checked += o.Checked
	rep.Active += o.Active
	rep.Disabled += o.Disabled
	rep.Deleted += o.Deleted
	rep.Errors += o.Errors
	rep.RevokedUsers += o.RevokedUsers
	rep.RevokedSessions += o.RevokedSessions
	rep.Held += o.Held
	rep.GuardTripped = rep.GuardTripped || o.GuardTripped
	rep.StoppedEarly = rep.StoppedEarly || o.StoppedEarly
	rep.FromChanges += o.FromChanges
	rep.ChangesAsked += o.ChangesAsked
	rep.Shards += o.Shards
	rep.Queued += o.Queued
	rep.Skipped += o.Skipped
}

func (r *Refresher) recordCheck(ctx context.Context, env string, user session.UserKey, c session.Check) error {
	if err := r.cfg.Store.RecordCheck(ctx, env, user, c); err != nil {
		return fmt.Errorf("refresher: record the check of %s in %s: %w", user.Subject, env, err)
	}
	return nil
}

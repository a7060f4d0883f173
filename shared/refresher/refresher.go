// Package refresher re-checks users at the identity provider's directory
// (docs/policy-checks.md): it finds the users due for a check (from the
// store's index, never a scan), asks the directory once per user (batched
// where the directory allows), records the result, and revokes what must be
// revoked — unless the run would revoke an unusual share of users, which
// smells like a misconfigured directory: then it revokes nobody and raises
// the alarm. A directory it cannot reach changes nothing: users keep their
// last successful check, and the authorizer's outage rules apply.
package refresher

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessionguard/sessionguard/shared/directory"
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

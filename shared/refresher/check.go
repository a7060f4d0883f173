package refresher

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
)

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

// recordCheck writes the check of one user.
func (r *Refresher) recordCheck(ctx context.Context, env string, user session.UserKey, c session.Check) error {
	if err := r.cfg.Store.RecordCheck(ctx, env, user, c); err != nil {
		return fmt.Errorf("refresher: record the check of %s in %s: %w", user.Subject, env, err)
	}
	return nil
}

// Fan-out: when an environment's due set is more than one invocation can
// check before its deadline, the scheduled run splits it into shards and
// queues them; workers (the queue's consumers) check one shard each. The
// mass-revocation guard counts across the shards of a run through the
// store, so a directory that goes wrong trips it as it would in one run.

package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/sessionguard/sessionguard/shared/runcount"
	"github.com/sessionguard/sessionguard/shared/session"
)

// Shard is one queued share of a run: users of one environment.
type Shard struct {
	Run   string            `json:"run"`
	Env   string            `json:"env"`
	Users []session.UserKey `json:"users"`
}

// Queue takes shards to the workers.
type Queue interface {
	Send(ctx context.Context, shards []Shard) error
}

// RunCounter keeps a sharded run's guard totals.
type RunCounter interface {
	CountRun(ctx context.Context, run string, checked, revoking int, keepUntil time.Time) (runcount.Count, error)
	TripRun(ctx context.Context, run string) error
}

// FanOut configures the split.
type FanOut struct {
	Queue    Queue
	Counter  RunCounter
	Capacity int // due users above which a run fans out. Default 50,000.
	Size     int // users per shard. Default 1,000.
}

// RunKeep is how long a run's guard totals are kept.
const RunKeep = 24 * time.Hour

// fanOut queues env's due users as shards when there are more than
// Capacity; sent is false (and nothing is queued) otherwise.
func (r *Refresher) fanOut(ctx context.Context, env string, rep *Report) (sent bool, err error) {
	f := r.cfg.FanOut
	now := r.cfg.Now()
	var due []session.UserKey
	cursor := ""
	for {
		page, next, err := r.cfg.Store.DueUsers(ctx, env, now, session.Page{Limit: r.cfg.PageSize, Cursor: cursor})
		if err != nil {
			return false, fmt.Errorf("refresher: users due in %s: %w", env, err)
		}
		for _, u := range page {
			due = append(due, u.Key)
		}
		if next == "" || r.nearDeadline(ctx) { // near the deadline: queue what was read, the rest next run
			break
		}
		cursor = next
	}
	if len(due) <= f.Capacity {
		return false, nil
	}
	run := env + "/" + strconv.FormatInt(now.UnixNano(), 36)
	var shards []Shard
	for start := 0; start < len(due); start += f.Size {
		shards = append(shards, Shard{Run: run, Env: env, Users: due[start:min(start+f.Size, len(due))]})
	}
	if err := f.Queue.Send(ctx, shards); err != nil {
		return false, fmt.Errorf("refresher: queue %d shards of %s: %w", len(shards), env, err)
	}
	rep.Shards, rep.Queued = len(shards), len(due)
	r.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "policy checks fanned out", slog.String("environment", env), slog.String("run", run),
		slog.Int("due", len(due)), slog.Int("shards", len(shards)))
	return true, nil
}

// sharedGuard is the guard of a run split into shards: totals in the store.
type sharedGuard struct {
	g       Guard
	counter RunCounter
	run     string
	keep    time.Time
}

func (s sharedGuard) judge(ctx context.Context, checked, revoking int) (bool, error) {
	c, err := s.counter.CountRun(ctx, s.run, checked, revoking, s.keep)
	if err != nil {
		return true, err
	}
	if c.Tripped {
		return true, nil
	}
	if s.g.trips(c.Checked, c.Revoking) {
		return true, s.counter.TripRun(ctx, s.run)
	}
	return false, nil
}

// RunShard checks one shard's users. A user no longer due (another shard,
// or a run, checked them since) is skipped; users left when the deadline
// comes stay due for the next run.
func (r *Refresher) RunShard(ctx context.Context, s Shard) (Report, error) {
	var rep Report
	if r.cfg.FanOut == nil {
		return rep, errors.New("refresher: a shard arrived but fan-out is not configured")
	}
	if !slices.Contains(r.cfg.Environments, s.Env) {
		return rep, fmt.Errorf("refresher: shard %s names environment %q, which is not configured", s.Run, s.Env)
	}
	settings, _, err := r.cfg.Store.Settings(ctx, s.Env)
	if err != nil {
		return rep, fmt.Errorf("refresher: settings of %s: %w", s.Env, err)
	}
	interval := time.Duration(settings.PolicyCheckIntervalMinutes) * time.Minute
	now := r.cfg.Now()
	users := make([]session.User, len(s.Users))
	errs := make([]error, len(s.Users))
	parallel(len(s.Users), r.cfg.WriteConcurrency, func(i int) {
		users[i], errs[i] = r.cfg.Store.User(ctx, s.Env, s.Users[i])
	})
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("refresher: users of shard %s: %w", s.Run, err)
	}
	due := users[:0]
	for _, u := range users {
		if !u.NextCheckAt.IsZero() && !u.NextCheckAt.After(now) {
			due = append(due, u)
		}
	}
	rep.Skipped = len(s.Users) - len(due)
	g := sharedGuard{g: r.cfg.Guard, counter: r.cfg.FanOut.Counter, run: s.Run, keep: now.Add(RunKeep)}
	// The shard is judged as one set: the guard sees it whole.
	results, asked := r.check(ctx, due)
	rep.StoppedEarly = asked < len(due)
	if err := r.record(ctx, s.Env, due[:asked], results[:asked], interval, g, &rep); err != nil {
		return rep, err
	}
	r.logReport(ctx, s.Env, rep)
	return rep, nil
}

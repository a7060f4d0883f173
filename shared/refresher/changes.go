// Change-driven checks: a directory that tracks changes (Graph users/delta)
// is read first; its changed users who hold sessions are judged from the
// feed, and asked one by one only when the feed cannot tell.

package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/session"
)

// ChangeFeed is a directory that reports the users changed since a cursor.
type ChangeFeed interface {
	Changes(ctx context.Context, cursor string) ([]directory.Change, string, error)
}

// Cursors keeps a change feed's cursor between runs.
type Cursors interface {
	DirectoryCursor(ctx context.Context, directory string) (string, error)
	PutDirectoryCursor(ctx context.Context, directory, cursor string) error
}

// Changes configures change-driven checks.
type Changes struct {
	Feed    ChangeFeed
	Cursors Cursors
	// Name is the cursor's name in the store, one per directory.
	Name string
	// Keys maps a directory id to the keys its user may have in the store.
	Keys func(id string) []session.UserKey
}

// readChanges reads the feed from the kept cursor. A feed that fails
// changes nothing: the due users are still checked, and the cursor stays
// for the next run. An expired cursor restarts tracking from now.
func (r *Refresher) readChanges(ctx context.Context) ([]directory.Change, string, bool) {
	c := r.cfg.Changes
	if c == nil {
		return nil, "", false
	}
	cursor, err := c.Cursors.DirectoryCursor(ctx, c.Name)
	asked := r.cfg.Now() // the feed's answers are as of this instant, whichever user they name
	if err != nil {
		r.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "directory changes not read: cursor", slog.String("directory", c.Name), slog.String("error", err.Error()))
		return nil, "", false
	}
	changes, next, err := c.Feed.Changes(ctx, cursor)
	if errors.Is(err, directory.ErrCursorExpired) {
		r.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "directory change cursor expired: tracking restarts now; the per-user interval covers the gap",
			slog.String("directory", c.Name))
		asked = r.cfg.Now()
		changes, next, err = c.Feed.Changes(ctx, "")
	}
	if err != nil {
		r.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "directory changes not read", slog.String("directory", c.Name), slog.String("error", err.Error()))
		return nil, "", false
	}
	for i := range changes {
		changes[i].Result.AskedAt = asked
	}
	return changes, next, true
}

// keepCursor stores the feed's new cursor once every environment has
// applied the changes read with it.
func (r *Refresher) keepCursor(ctx context.Context, next string) error {
	if err := r.cfg.Changes.Cursors.PutDirectoryCursor(ctx, r.cfg.Changes.Name, next); err != nil {
		return fmt.Errorf("refresher: keep the change cursor of %s: %w", r.cfg.Changes.Name, err)
	}
	return nil
}

// applyChanges judges env's tracked users among the changed ones: from the
// feed when its entry is complete, else by asking the directory.
func (r *Refresher) applyChanges(ctx context.Context, env string, changes []directory.Change, interval time.Duration, g judge, rep *Report) error {
	type found struct {
		u session.User
		c directory.Change
	}
	var mu sync.Mutex
	var hits []found
	var first error
	var keys []session.UserKey
	var of []directory.Change
	last := map[string]int{} // a user listed twice counts once, as last listed
	for i, c := range changes {
		last[c.ID] = i
	}
	for i, c := range changes {
		if last[c.ID] != i {
			continue
		}
		for _, k := range r.cfg.Changes.Keys(c.ID) {
			keys, of = append(keys, k), append(of, c)
		}
	}
	parallel(len(keys), r.cfg.WriteConcurrency, func(i int) {
		u, err := r.cfg.Store.User(ctx, env, keys[i])
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			if first == nil {
				first = fmt.Errorf("refresher: user %s in %s: %w", keys[i].Subject, env, err)
			}
		case !u.NextCheckAt.IsZero(): // tracked: holds or held sessions here
			hits = append(hits, found{u, of[i]})
		}
	})
	if first != nil {
		return first
	}
	var users, ask []session.User
	var results []directory.Result
	for _, h := range hits {
		if h.c.Complete {
			users, results = append(users, h.u), append(results, h.c.Result)
		} else {
			ask = append(ask, h.u)
		}
	}
	rep.FromChanges += len(users)
	if len(ask) > 0 {
		answers, asked := r.check(ctx, ask)
		users, results = append(users, ask[:asked]...), append(results, answers[:asked]...)
		rep.ChangesAsked += asked
	}
	return r.record(ctx, env, users, results, interval, g, rep)
}

// parallel calls f(0..n-1) with at most limit calls at once.
func parallel(n, limit int, f func(i int)) {
	sem := make(chan struct{}, max(1, limit))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

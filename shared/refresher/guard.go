package refresher

import "context"

// Guard is the mass-revocation guard: a run that would revoke more than
// Share of the users it checked, and more than Min users, revokes nobody.
type Guard struct {
	Share float64 // default 0.2
	Min   int     // default 5
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

// judge adds a set of answers to the run's totals.
func (l *runGuard) judge(_ context.Context, checked, revoking int) (bool, error) {
	l.checked += checked
	l.revoking += revoking
	l.tripped = l.tripped || l.g.trips(l.checked, l.revoking)
	return l.tripped, nil
}

package policy

import "time"

// Budget is an environment's revocation-latency budget: at worst, how long
// after the event a session can still get through, under its settings and
// the deployment's enforcement.
type Budget struct {
	// Revocation: an admin revoke, a sign-out, a pushed signal, a user
	// pool event, a back-channel logout. The store changes at once; an
	// allow API Gateway cached before it is reused until its TTL.
	Revocation time.Duration
	// PolicyCheck: an account disabled or deleted at the IdP, found by the
	// scheduled check. A change just after a check waits for the next one
	// (the interval), which may run late by the schedule's slack, then the
	// cached allow's TTL. Nil when the deployment runs no policy checks.
	PolicyCheck *time.Duration
	// IdleEarly: idle time is judged from the last recorded activity,
	// which is written at most once per activity interval, so a session
	// reaches its idle end up to this much before "idle minutes after the
	// last request". It never ends late: the authorizer judges a session
	// at now plus the cache TTL, so no cached allow outlives the idle end
	// (nor the absolute end). Zero when no idle timeout is on.
	IdleEarly, IdleEarlyStaySignedIn time.Duration
}

// Budget computes the revocation-latency budget of s under e.
func (s Settings) Budget(e Enforcement) Budget {
	b := Budget{Revocation: e.Horizon}
	if e.PolicyChecks {
		d := time.Duration(s.PolicyCheckIntervalMinutes)*time.Minute + e.CheckSlack + e.Horizon
		b.PolicyCheck = &d
	}
	if s.idle(false) > 0 {
		b.IdleEarly = s.ActivityInterval(false)
	}
	if s.idle(true) > 0 {
		b.IdleEarlyStaySignedIn = s.ActivityInterval(true)
	}
	return b
}

package policy

import (
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// Session is what the decision needs to know of a session and its user.
type Session struct {
	CreatedAt      time.Time
	LastActivityAt time.Time // zero: no activity recorded since sign-in
	StaySignedIn   bool
	ClientID       string
	RevokedAt      time.Time // zero: not revoked

	UserDisabled bool
	// UserSessionsValidFrom revokes every session created at or before it
	// (failing closed on a tie, as the stores' RevokeUser does) (the
	// IdP's "revoke sessions", a password reset). Zero: no such point.
	UserSessionsValidFrom time.Time
	// LastCheckAt is the user's last successful policy check at the IdP.
	// Sign-in counts as one: the baseline is never before CreatedAt.
	LastCheckAt time.Time

	// presented is the client of the token presented with the request
	// being judged, once set by Presenting or AsSignedIn; until then the
	// timeouts are never waived.
	presented string
	judged    bool
}

// Presenting returns sess as judged for a request that presents a token of
// clientID: the timeouts are waived only when both the client that signed
// in and this one are exempt, so an exempt client's session lends its
// exemption to no other client.
func (sess Session) Presenting(clientID string) Session {
	sess.presented, sess.judged = clientID, true
	return sess
}

// AsSignedIn returns sess as judged outside a request (reports, listings,
// the session limit at sign-in): the client that signed in decides.
func (sess Session) AsSignedIn() Session { return sess.Presenting(sess.ClientID) }

// exempt reports whether the timeouts are waived for sess under s: never
// for a session judged neither for a request nor as signed in.
func (s Settings) exempt(sess Session) bool {
	return sess.judged && s.IsExempt(sess.ClientID) && s.IsExempt(sess.presented)
}

// Enforcement is how a deployment applies the policy, beyond the settings.
type Enforcement struct {
	// PolicyChecks turns on the policy_check_stale rule. It is off while the
	// deployment has no directory to check users against.
	PolicyChecks bool
	// CheckSlack is how late the scheduled check may run before a session
	// counts as stale (the schedule's slack).
	CheckSlack time.Duration
	// Horizon is how long an allow may be reused (the API Gateway authorizer
	// cache TTL): a session is judged at now+Horizon so that a cached allow
	// never outlives it.
	Horizon time.Duration
}

// Decision is the outcome of Evaluate. Times are zero when not enforced.
type Decision struct {
	Reason        reason.Code // reason.OK for an allow
	ExpiresAt     time.Time
	WarnAt        time.Time
	IdleExpiresAt time.Time
}

// Allowed reports whether the decision is an allow.
func (d Decision) Allowed() bool { return d.Reason == reason.OK }

// Evaluate judges a session against its settings snapshot at now, in this
// order, the first failure deciding: absolute expiry, idle expiry (both
// skipped for exempt clients, see Session.Presenting), revocation, the
// user's standing, and policy-check freshness.
func (s Settings) Evaluate(sess Session, now time.Time, e Enforcement) Decision {
	var d Decision
	if !s.exempt(sess) {
		if lifetime := s.lifetime(sess.StaySignedIn); lifetime > 0 {
			d.ExpiresAt = sess.CreatedAt.Add(lifetime)
			if warn := time.Duration(s.SessionExpiration.WarningMinutes) * time.Minute; warn < lifetime {
				d.WarnAt = d.ExpiresAt.Add(-warn)
			}
		}
		if idle := s.idle(sess.StaySignedIn); idle > 0 {
			last := sess.LastActivityAt
			if last.Before(sess.CreatedAt) {
				last = sess.CreatedAt
			}
			d.IdleExpiresAt = last.Add(idle)
		}
	}
	judged := now.Add(e.Horizon)
	switch {
	case !d.ExpiresAt.IsZero() && !judged.Before(d.ExpiresAt):
		d.Reason = reason.SessionExpired
	case !d.IdleExpiresAt.IsZero() && !judged.Before(d.IdleExpiresAt):
		d.Reason = reason.SessionIdle
	case !sess.RevokedAt.IsZero() && !now.Before(sess.RevokedAt):
		d.Reason = reason.SessionRevoked
	case !sess.UserSessionsValidFrom.IsZero() && !sess.CreatedAt.After(sess.UserSessionsValidFrom):
		d.Reason = reason.SessionRevoked
	case sess.UserDisabled:
		d.Reason = reason.UserDisabled
	case e.PolicyChecks && !judged.Before(s.CheckDeadline(sess, e.CheckSlack)):
		d.Reason = reason.PolicyCheckStale
	default:
		d.Reason = reason.OK
	}
	return d
}

// CheckDeadline is when a session counts as stale if its user has not passed
// another policy check: the last check (never before sign-in) plus the
// interval and slack, plus the outage grace for stay-signed-in sessions.
func (s Settings) CheckDeadline(sess Session, slack time.Duration) time.Time {
	base := sess.LastCheckAt
	if base.Before(sess.CreatedAt) {
		base = sess.CreatedAt
	}
	d := base.Add(time.Duration(s.PolicyCheckIntervalMinutes)*time.Minute + slack)
	if sess.StaySignedIn {
		d = d.Add(time.Duration(s.OutageGraceMinutes) * time.Minute)
	}
	return d
}

// ActivityInterval is the least time between two recorded activities of a
// session: a minute, or a tenth of the idle timeout if smaller, or the
// stay-signed-in renewal period where one is set.
// Because idle time is judged from the last recorded activity, a session
// may reach its idle end up to one interval before "idle minutes after the
// last request".
func (s Settings) ActivityInterval(staySignedIn bool) time.Duration {
	if staySignedIn && s.StaySignedIn.RenewAfterMinutes > 0 && s.StaySignedIn.InactivityMinutes > 0 {
		return time.Duration(s.StaySignedIn.RenewAfterMinutes) * time.Minute
	}
	iv := time.Minute
	if idle := s.idle(staySignedIn); idle > 0 && idle/10 < iv {
		iv = idle / 10
	}
	return iv
}

func (s Settings) lifetime(staySignedIn bool) time.Duration {
	if staySignedIn && s.StaySignedIn.MaxSessionMinutes > 0 {
		return time.Duration(s.StaySignedIn.MaxSessionMinutes) * time.Minute
	}
	if s.SessionExpiration.Enabled {
		return time.Duration(s.SessionExpiration.MaxSessionMinutes) * time.Minute
	}
	return 0
}

// IdleTimeout is the idle timeout of a session of this kind; 0: none.
func (s Settings) IdleTimeout(staySignedIn bool) time.Duration { return s.idle(staySignedIn) }

func (s Settings) idle(staySignedIn bool) time.Duration {
	if staySignedIn && s.StaySignedIn.InactivityMinutes > 0 {
		return time.Duration(s.StaySignedIn.InactivityMinutes) * time.Minute
	}
	if s.InactivityTimeout.Enabled {
		return time.Duration(s.InactivityTimeout.Minutes) * time.Minute
	}
	return 0
}

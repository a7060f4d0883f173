// Package revoke ends a user's sessions: the one way every cause goes
// (sign-out everywhere by an admin, a pushed Security Event Token, a
// Cognito user pool event, a back-channel logout naming only the user, an
// IdP's global token revocation (shared/globallogout), a
// policy check). The user's state only moves towards less trust: the
// point from which sessions are invalid moves forward, never back, and a
// disable is recorded with its time, so that only a policy check that
// started after it can clear it. The stores make each step a
// conditional, field-level write; this function decides the steps and
// their order.
package revoke

import (
	"context"
	"fmt"
	"time"

	"github.com/sessionguard/sessionguard/shared/session"
)

// Store is what ending a user's sessions needs of storage.
type Store interface {
	// DisableUser marks the user disabled in env, as of at (kept if a
	// later disable is already recorded).
	DisableUser(ctx context.Context, env string, user session.UserKey, at time.Time) error
	// RevokeUser moves the user's SessionsValidFrom forward to from (never
	// back), then revokes at `at` the live sessions created at or before
	// from; it returns the sessions this call revoked.
	RevokeUser(ctx context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error)
}

// Request says whose sessions end, where, when and why.
type Request struct {
	Environments []string
	User         session.UserKey
	// At is when the sessions end (their RevokedAt).
	At time.Time
	// From is the point before which the user's sessions are invalid:
	// the IdP's own revocation point when it reported one (a password
	// reset, "revoke sessions"), else zero, meaning At.
	From  time.Time
	Cause session.Cause
}

// User ends the user's sessions in every environment of the request, and
// marks the account disabled first when the cause says it may no longer
// sign in (so that the authorizer refuses it even if revoking its
// sessions is cut short). It returns the sessions it revoked; on an error
// what it did stays done, and repeating the request is harmless.
func User(ctx context.Context, st Store, r Request) ([]session.Session, error) {
	from := r.From
	if from.IsZero() {
		from = r.At
	}
	var ended []session.Session
	for _, env := range r.Environments {
		if r.Cause.Disables() {
			if err := st.DisableUser(ctx, env, r.User, r.At); err != nil {
				return ended, fmt.Errorf("revoke: disable %s in %s: %w", r.User.Subject, env, err)
			}
		}
		e, err := st.RevokeUser(ctx, env, r.User, from, r.At, r.Cause)
		ended = append(ended, e...)
		if err != nil {
			return ended, fmt.Errorf("revoke: end the sessions of %s in %s (%s): %w", r.User.Subject, env, r.Cause, err)
		}
	}
	return ended, nil
}

package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/session"
)

// User returns the state of user in env.
func (m *Store) User(_ context.Context, env string, user session.UserKey) (session.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.userLocked(env, user), nil
}

func (m *Store) userLocked(env string, key session.UserKey) session.User {
	u, ok := m.users[userRef{env, key}]
	if !ok {
		return session.User{Environment: env, Key: key}
	}
	return u
}

// updateUser changes user's record in env under the lock, creating it
// when there is none: each change is a field-level write of its own.
func (m *Store) updateUser(env string, user session.UserKey, change func(u *session.User)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.userLocked(env, user)
	change(&u)
	m.users[userRef{env, user}] = u
}

// RecordSignOut notes that user signed out of env at `at`: tokens
// authenticated before then cannot start a session.
func (m *Store) RecordSignOut(_ context.Context, env string, user session.UserKey, at time.Time) error {
	m.updateUser(env, user, func(u *session.User) {
		if at.After(u.SignedOutAt) {
			u.SignedOutAt = at
		}
	})
	return nil
}

// DisableUser marks user disabled in env as of at; a later disable
// already recorded keeps its time.
func (m *Store) DisableUser(_ context.Context, env string, user session.UserKey, at time.Time) error {
	m.updateUser(env, user, func(u *session.User) {
		u.Disabled = true
		if at.After(u.DisabledAt) {
			u.DisabledAt = at
		}
	})
	return nil
}

// RecordCheck records a policy check of user in env: the schedule, the
// failure count, the last good check, and (c.Enable) the end of a disable
// recorded before the check started. It never touches SessionsValidFrom
// or SignedOutAt.
func (m *Store) RecordCheck(_ context.Context, env string, user session.UserKey, c session.Check) error {
	m.updateUser(env, user, func(u *session.User) {
		u.NextCheckAt = c.NextCheckAt
		if !c.Answered {
			u.CheckFailures++
			return
		}
		u.CheckFailures = 0
		if !c.CheckedAt.IsZero() {
			u.LastCheckAt = c.CheckedAt
		}
		if c.Enable && u.Disabled && u.DisabledAt.Before(c.StartedAt) {
			u.Disabled = false
		}
	})
	return nil
}

// ScheduleCheck makes a user who is on the check schedule due at `at`.
func (m *Store) ScheduleCheck(_ context.Context, env string, user session.UserKey, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userRef{env, user}]
	if !ok || u.NextCheckAt.IsZero() {
		return nil
	}
	u.NextCheckAt = at
	m.users[userRef{env, user}] = u
	return nil
}

// EndIdPSession records that the IdP session sid of issuer ended in env
// at `at` (a sign-out, a back-channel logout): its tokens can no longer
// start a session there. The record is kept for
// session.EndedIdPSessionRetention.
func (m *Store) EndIdPSession(_ context.Context, env, issuer, sid string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := env + "\x00" + issuer + "\x00" + sid
	if cur, ok := m.ended[k]; !ok || at.Before(cur) || !m.now().Before(cur.Add(session.EndedIdPSessionRetention)) {
		m.ended[k] = at
	}
	return nil
}

// IdPSessionEnded reports whether the IdP session sid of issuer ended in
// env, and when.
func (m *Store) IdPSessionEnded(_ context.Context, env, issuer, sid string) (time.Time, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	at, ok := m.ended[env+"\x00"+issuer+"\x00"+sid]
	if !ok || !m.now().Before(at.Add(session.EndedIdPSessionRetention)) {
		return time.Time{}, false, nil
	}
	return at, true, nil
}

// DueUsers lists the users of env due for a policy check at `at`, most
// overdue first.
func (m *Store) DueUsers(_ context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error) {
	return page(m.scheduled(env, func(u session.User) bool { return !u.NextCheckAt.After(at) }), p)
}

// Users lists the users of env on the policy-check schedule, by next
// check.
func (m *Store) Users(_ context.Context, env string, p session.Page) ([]session.User, string, error) {
	return page(m.scheduled(env, func(session.User) bool { return true }), p)
}

// scheduled returns env's users on the check schedule that keep, by next
// check.
func (m *Store) scheduled(env string, keep func(session.User) bool) []session.User {
	m.mu.RLock()
	var out []session.User
	for ref, u := range m.users {
		if ref.env == env && !u.NextCheckAt.IsZero() && keep(u) {
			out = append(out, u)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b session.User) int {
		if c := a.NextCheckAt.Compare(b.NextCheckAt); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key.Issuer, b.Key.Issuer); c != 0 {
			return c
		}
		return cmp.Compare(a.Key.Subject, b.Key.Subject)
	})
	return out
}

// RecordUsername remembers that subject signed in as username at issuer
// (Cognito's username), in both directions.
func (m *Store) RecordUsername(_ context.Context, issuer, subject, username string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names[issuer+"\x00"+username] = subject
	m.subjects[issuer+"\x00"+subject] = username
	return nil
}

// SubjectOf is the subject last recorded for username at issuer, or "".
func (m *Store) SubjectOf(_ context.Context, issuer, username string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.names[issuer+"\x00"+username], nil
}

// UsernameOf is the username recorded for subject at issuer, or "".
func (m *Store) UsernameOf(_ context.Context, issuer, subject string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.subjects[issuer+"\x00"+subject], nil
}

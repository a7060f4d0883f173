// Package memstore is the in-memory store: sessions, user state and
// per-environment settings, for the local stack and the tests. It satisfies
// the same store contract as the DynamoDB store.
package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

type userRef struct {
	env string
	key session.UserKey
}

// Store is safe for concurrent use. The zero value is not usable; use New.
type Store struct {
	mu       sync.RWMutex
	sessions map[session.Hash]session.Session
	users    map[userRef]session.User
	settings map[string]versioned
}

type versioned struct {
	s       policy.Settings
	version int
}

// New returns an empty store.
func New() *Store {
	return &Store{
		sessions: map[session.Hash]session.Session{},
		users:    map[userRef]session.User{},
		settings: map[string]versioned{},
	}
}

// Lookup returns the session with hash h and the state of user in env, in
// one call (the DynamoDB store does it in one round trip). A user with no
// state yet gets a zero User with its key filled in.
func (m *Store) Lookup(_ context.Context, h session.Hash, env string, user session.UserKey) (session.Session, session.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sessions[h]
	if !ok {
		return session.Session{}, session.User{}, session.ErrNotFound
	}
	return s, m.userLocked(env, user), nil
}

// Session returns the session with hash h.
func (m *Store) Session(_ context.Context, h session.Hash) (session.Session, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sessions[h]
	if !ok {
		return session.Session{}, session.ErrNotFound
	}
	return s, nil
}

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

// Touch records activity at `at` unless the last recorded activity is
// less than minInterval before it; it reports whether it wrote.
func (m *Store) Touch(_ context.Context, h session.Hash, at time.Time, minInterval time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[h]
	if !ok {
		return false, session.ErrNotFound
	}
	last := s.LastActivityAt
	if last.IsZero() {
		last = s.CreatedAt
	}
	if s.Revoked() || at.Sub(last) < minInterval {
		return false, nil
	}
	s.LastActivityAt = at
	m.sessions[h] = s
	return true, nil
}

// Create stores s, enforcing limit atomically over the user's live
// sessions in s's environment: with deny_new it fails with
// session.ErrLimitReached, with end_oldest it revokes the oldest live
// sessions to make room, and returns them. live judges whether a stored
// session still counts (not revoked, not ended).
func (m *Store) Create(_ context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ended []session.Session
	if limit.Max > 0 {
		var mine []session.Session
		for _, o := range m.sessions {
			if o.Environment == s.Environment && o.User == s.User && !o.Revoked() && live(o) {
				mine = append(mine, o)
			}
		}
		if over := len(mine) - limit.Max + 1; over > 0 {
			if limit.OnLimit == policy.DenyNew {
				return nil, session.ErrLimitReached
			}
			slices.SortFunc(mine, func(a, b session.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
			for _, o := range mine[:over] {
				o.RevokedAt, o.RevokeReason = s.CreatedAt, "session_limit"
				m.sessions[o.Hash] = o
				ended = append(ended, o)
			}
		}
	}
	m.sessions[s.Hash] = s
	return ended, nil
}

// Revoke revokes the session with hash h at `at`. Revoking a revoked
// session changes nothing (the first revocation's time and reason stay);
// it reports whether this call revoked it.
func (m *Store) Revoke(_ context.Context, h session.Hash, at time.Time, why string) (session.Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[h]
	if !ok {
		return session.Session{}, false, session.ErrNotFound
	}
	if s.Revoked() {
		return s, false, nil
	}
	s.RevokedAt, s.RevokeReason = at, why
	m.sessions[h] = s
	return s, true, nil
}

// RecordSignOut notes that user signed out of env at `at`: tokens
// authenticated before then cannot start a session.
func (m *Store) RecordSignOut(_ context.Context, env string, user session.UserKey, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.userLocked(env, user)
	if at.After(u.SignedOutAt) {
		u.SignedOutAt = at
	}
	m.users[userRef{env, user}] = u
	return nil
}

// PutUser stores a user's state (policy checks, tests).
func (m *Store) PutUser(_ context.Context, u session.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users[userRef{u.Environment, u.Key}] = u
	return nil
}

// Settings returns env's current settings and version; an environment with
// no custom settings gets the defaults at version 0.
func (m *Store) Settings(_ context.Context, env string) (policy.Settings, int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.settings[env]
	if !ok {
		return policy.Defaults(), 0, nil
	}
	return v.s, v.version, nil
}

// PutSettings replaces env's settings and returns the new version.
func (m *Store) PutSettings(_ context.Context, env string, s policy.Settings) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.settings[env]
	v.s, v.version = s, v.version+1
	m.settings[env] = v
	return v.version, nil
}

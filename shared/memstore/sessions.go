package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/session"
)

// sessionLocked returns the session with hash h unless it is absent or past
// its TTL.
func (m *Store) sessionLocked(h session.Hash) (session.Session, bool) {
	s, ok := m.sessions[h]
	if !ok {
		return s, false
	}
	if exp := s.ExpiresAt(); !exp.IsZero() && !m.now().Before(exp) {
		return s, false
	}
	return s, true
}

// Lookup returns the session with hash h, judged under any settings change
// applied to running sessions, and the state of user in env, in one call
// (the DynamoDB store does it in one round trip). A user with no state yet
// gets a zero User with its key filled in.
func (m *Store) Lookup(_ context.Context, h session.Hash, env string, user session.UserKey) (session.Session, session.User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sessionLocked(h)
	if !ok {
		return session.Session{}, session.User{}, session.ErrNotFound
	}
	return s.Under(m.settings[s.Environment].override), m.userLocked(env, user), nil
}

// Session returns the session with hash h as stored.
func (m *Store) Session(_ context.Context, h session.Hash) (session.Session, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sessionLocked(h)
	if !ok {
		return session.Session{}, session.ErrNotFound
	}
	return s, nil
}

// Touch records s's activity at `at` unless its last recorded activity is
// less than minInterval before it, or it is revoked or gone; it reports
// whether it wrote.
func (m *Store) Touch(_ context.Context, s session.Session, at time.Time, minInterval time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.sessionLocked(s.Hash)
	if !ok {
		return false, session.ErrNotFound
	}
	last := cur.LastActivityAt
	if last.IsZero() {
		last = cur.CreatedAt
	}
	if cur.Revoked() || at.Sub(last) < minInterval {
		return false, nil
	}
	cur.LastActivityAt = at
	m.sessions[s.Hash] = cur
	return true, nil
}

// Create stores s, enforcing limit atomically over the user's live
// sessions in s's environment: with deny_new it fails with
// session.ErrLimitReached, with end_oldest it revokes the oldest live
// sessions to make room, and returns them. live judges whether a stored
// session still counts (not ended by its policy), given the session as
// Lookup returns it (under any settings change applied to running
// sessions). A sign-in makes a user with no scheduled policy check due
// for one at once.
func (m *Store) Create(_ context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []session.Session
	if limit.Max > 0 {
		o := m.settings[s.Environment].override
		for h := range m.sessions {
			x, ok := m.sessionLocked(h)
			if ok && x.Environment == s.Environment && x.User == s.User && !x.Revoked() && live(x.Under(o)) {
				mine = append(mine, x)
			}
		}
	}
	ended, _, err := limit.Apply(mine, s.CreatedAt)
	if err != nil {
		return nil, err
	}
	for _, o := range ended {
		m.sessions[o.Hash] = o
	}
	m.sessions[s.Hash] = s
	if s.IdPSession != "" {
		k := s.User.Issuer + "\x00" + s.IdPSession
		m.idp[k] = append(m.idp[k], s.Hash)
	}
	u := m.userLocked(s.Environment, s.User)
	if u.NextCheckAt.IsZero() { // not scheduled: due at once
		u.NextCheckAt = s.CreatedAt
	}
	m.users[userRef{s.Environment, s.User}] = u
	return ended, nil
}

// Revoke revokes the session with hash h at `at`. Revoking a revoked
// session changes nothing (the first revocation's time and reason stay);
// it reports whether this call revoked it.
func (m *Store) Revoke(_ context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessionLocked(h)
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

// RevokeUser moves user's SessionsValidFrom in env forward to from (never
// back), so that any session created before it is refused even if a
// listing missed it, and revokes at `at` the live sessions created at or
// before from: not revoked yet, nor ended by their own limits (as
// UserSessions with Page.Unended judges them, under the environment's
// applied settings change), which are refused already and keep the cause
// they ended for. It returns the sessions this call revoked.
func (m *Store) RevokeUser(_ context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.userLocked(env, user)
	if from.After(u.SessionsValidFrom) {
		u.SessionsValidFrom = from
	}
	m.users[userRef{env, user}] = u
	o := m.settings[env].override
	var out []session.Session
	for h := range m.sessions {
		s, ok := m.sessionLocked(h)
		if ok && s.Environment == env && s.User == user && !s.Revoked() && !s.CreatedAt.After(from) && !endedUnder(s, &o, m.now()) {
			s.RevokedAt, s.RevokeReason = at, why
			m.sessions[h] = s
			out = append(out, s)
		}
	}
	return out, nil
}

// endedUnder reports whether p.Unended (o) leaves s out of a listing: it
// has ended by its own limits at now, and o does not judge it instead.
func endedUnder(s session.Session, o *session.Override, now time.Time) bool {
	if o == nil || o.Version > s.SettingsVersion {
		return false
	}
	end := s.EndsAt()
	return !end.IsZero() && !end.After(now)
}

// UserSessions lists the sessions of user in env that are not revoked
// (with p.Revoked, revoked ones too) and not expired, created after
// p.After when it is set, without those ended by their own limits with
// p.Unended, oldest first; a page holds p.Limit of them when that many
// remain.
func (m *Store) UserSessions(_ context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error) {
	m.mu.RLock()
	var all []session.Session
	for h := range m.sessions {
		s, ok := m.sessionLocked(h)
		if ok && s.Environment == env && s.User == user && (p.Revoked || !s.Revoked()) && (p.After.IsZero() || s.CreatedAt.After(p.After)) && !endedUnder(s, p.Unended, m.now()) {
			all = append(all, s)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(all, func(a, b session.Session) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return slices.Compare(a.Hash[:], b.Hash[:])
	})
	return page(all, p)
}

// RecordJTI records that issuer's token jti was received, keeping the
// record until keepUntil; it reports whether this is the first receipt
// (false: a replay).
func (m *Store) RecordJTI(_ context.Context, issuer, jti string, keepUntil time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := issuer + "\x00" + jti
	if until, ok := m.jtis[k]; ok && m.now().Before(until) {
		return false, nil
	}
	m.jtis[k] = keepUntil
	return true, nil
}

// ForgetJTI forgets a jti RecordJTI recorded, for a token whose effects
// could not be applied: its retransmission is then received afresh.
func (m *Store) ForgetJTI(_ context.Context, issuer, jti string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.jtis, issuer+"\x00"+jti)
	return nil
}

// IdPSessionHashes lists the sessions created from tokens of one IdP
// session (issuer and "sid").
func (m *Store) IdPSessionHashes(_ context.Context, issuer, sid string) ([]session.Hash, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.idp[issuer+"\x00"+sid]), nil
}

// SessionOfIdPSessionBy reports whether user had a session in env from a
// token of the IdP session sid (at user's issuer) created at or before by,
// ended or not, while its link to the IdP session is kept
// (session.Session.LinkExpiresAt).
func (m *Store) SessionOfIdPSessionBy(_ context.Context, env string, user session.UserKey, sid string, by time.Time) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, h := range m.idp[user.Issuer+"\x00"+sid] {
		s, ok := m.sessions[h]
		if exp := s.LinkExpiresAt(); !ok || !exp.IsZero() && !m.now().Before(exp) {
			continue
		}
		if s.Environment == env && s.User == user && !s.CreatedAt.After(by) {
			return true, nil
		}
	}
	return false, nil
}

// Package memstore is the in-memory store: sessions, user state,
// per-environment settings with their history, and audit reports, for the
// local stack and the tests. It passes the same contract suite
// (shared/storetest) as the DynamoDB store, including the rule that an
// item past its TTL reads as absent.
package memstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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
	now      func() time.Time
	sessions map[session.Hash]session.Session
	users    map[userRef]session.User
	settings map[string]envSettings
	reports  map[string][]session.Report
	jtis     map[string]time.Time      // issuer NUL jti -> kept until
	idp      map[string][]session.Hash // issuer NUL sid -> the sessions of that IdP session
	streams  map[string]session.Stream // by transmitter
	names    map[string]string         // issuer NUL username -> subject
	subjects map[string]string         // issuer NUL subject -> username
	cursors  map[string]string         // directory -> change cursor
	runs     map[string]session.RunCount
	ended    map[string]time.Time // env NUL issuer NUL sid -> when that IdP session ended
}

type envSettings struct {
	s        policy.Settings
	version  int
	override session.Override
	history  []session.SettingsChange // oldest first
}

// New returns an empty store. now is the clock that judges TTL expiry
// (time.Now if nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:      now,
		sessions: map[session.Hash]session.Session{},
		users:    map[userRef]session.User{},
		settings: map[string]envSettings{},
		reports:  map[string][]session.Report{},
		jtis:     map[string]time.Time{},
		names:    map[string]string{},
		idp:      map[string][]session.Hash{},
		streams:  map[string]session.Stream{},
		subjects: map[string]string{},
		cursors:  map[string]string{},
		runs:     map[string]session.RunCount{},
		ended:    map[string]time.Time{},
	}
}

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
// session still counts (not ended by its policy). A sign-in makes a user
// with no scheduled policy check due for one at once.
func (m *Store) Create(_ context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []session.Session
	if limit.Max > 0 {
		for h := range m.sessions {
			o, ok := m.sessionLocked(h)
			if ok && o.Environment == s.Environment && o.User == s.User && !o.Revoked() && live(o) {
				mine = append(mine, o)
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
// before from. It returns the sessions this call revoked.
func (m *Store) RevokeUser(_ context.Context, env string, user session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.userLocked(env, user)
	if from.After(u.SessionsValidFrom) {
		u.SessionsValidFrom = from
	}
	m.users[userRef{env, user}] = u
	var out []session.Session
	for h := range m.sessions {
		s, ok := m.sessionLocked(h)
		if ok && s.Environment == env && s.User == user && !s.Revoked() && !s.CreatedAt.After(from) {
			s.RevokedAt, s.RevokeReason = at, why
			m.sessions[h] = s
			out = append(out, s)
		}
	}
	return out, nil
}

// DisableUser marks user disabled in env as of at; a later disable
// already recorded keeps its time.
func (m *Store) DisableUser(_ context.Context, env string, user session.UserKey, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.userLocked(env, user)
	u.Disabled = true
	if at.After(u.DisabledAt) {
		u.DisabledAt = at
	}
	m.users[userRef{env, user}] = u
	return nil
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

// RecordCheck records a policy check of user in env: the schedule, the
// failure count, the last good check, and (an active answer) the end of
// a disable recorded before the check started. It never touches
// SessionsValidFrom or SignedOutAt.
func (m *Store) RecordCheck(_ context.Context, env string, user session.UserKey, c session.Check) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.userLocked(env, user)
	u.NextCheckAt = c.NextCheckAt
	if !c.Answered {
		u.CheckFailures++
		m.users[userRef{env, user}] = u
		return nil
	}
	u.CheckFailures = 0
	if !c.CheckedAt.IsZero() {
		u.LastCheckAt = c.CheckedAt
	}
	if c.Enable && u.Disabled && u.DisabledAt.Before(c.StartedAt) {
		u.Disabled = false
	}
	m.users[userRef{env, user}] = u
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

// UserSessions lists the live (not revoked, not expired) sessions of user
// in env — with p.Revoked, revoked ones too — oldest first.
func (m *Store) UserSessions(_ context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error) {
	m.mu.RLock()
	var all []session.Session
	for h := range m.sessions {
		s, ok := m.sessionLocked(h)
		if ok && s.Environment == env && s.User == user && (p.Revoked || !s.Revoked()) {
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

// Users lists the users of env on the policy-check schedule, by next
// check.
func (m *Store) Users(_ context.Context, env string, p session.Page) ([]session.User, string, error) {
	return page(m.scheduled(env, func(session.User) bool { return true }), p)
}

// DueUsers lists the users of env due for a policy check at `at`, most
// overdue first.
func (m *Store) DueUsers(_ context.Context, env string, at time.Time, p session.Page) ([]session.User, string, error) {
	return page(m.scheduled(env, func(u session.User) bool { return !u.NextCheckAt.After(at) }), p)
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

// PutSettings writes c.New as version c.Version of c.Environment's settings
// and records c in the history, both or neither. The current version must
// be c.Version-1, else session.ErrVersionConflict.
func (m *Store) PutSettings(_ context.Context, c session.SettingsChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.settings[c.Environment]
	if v.version != c.Version-1 {
		return session.ErrVersionConflict
	}
	v.s, v.version = c.New, c.Version
	if c.ApplyToRunning {
		v.override = session.Override{Version: c.Version, Settings: c.New}
	}
	v.history = append(v.history, c)
	m.settings[c.Environment] = v
	return nil
}

// History lists env's settings changes, newest first.
func (m *Store) History(_ context.Context, env string, p session.Page) ([]session.SettingsChange, string, error) {
	m.mu.RLock()
	h := slices.Clone(m.settings[env].history)
	m.mu.RUnlock()
	slices.Reverse(h)
	return page(h, p)
}

// PutReport stores an audit report.
func (m *Store) PutReport(_ context.Context, r session.Report) error {
	if !json.Valid(r.Body) {
		return fmt.Errorf("memstore: report of %s at %s is not JSON", r.Environment, r.At.Format(time.RFC3339))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reports[r.Environment] = append(m.reports[r.Environment], r)
	return nil
}

// Reports lists env's audit reports, newest first.
func (m *Store) Reports(_ context.Context, env string, p session.Page) ([]session.Report, string, error) {
	m.mu.RLock()
	rs := slices.Clone(m.reports[env])
	m.mu.RUnlock()
	slices.SortStableFunc(rs, func(a, b session.Report) int { return b.At.Compare(a.At) })
	return page(rs, p)
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

// DefaultPageSize is the page size when a Page asks for none.
const DefaultPageSize = 50

// page cuts one page out of all; the cursor is the offset of the next
// page.
func page[T any](all []T, p session.Page) ([]T, string, error) {
	off := 0
	if p.Cursor != "" {
		n, err := strconv.Atoi(p.Cursor)
		if err != nil || n < 0 || n > len(all) {
			return nil, "", session.ErrBadCursor
		}
		off = n
	}
	size := p.Limit
	if size <= 0 {
		size = DefaultPageSize
	}
	end := min(off+size, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[off:end], next, nil
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

// IdPSessionHashes lists the sessions created from tokens of one IdP
// session (issuer and "sid").
func (m *Store) IdPSessionHashes(_ context.Context, issuer, sid string) ([]session.Hash, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.idp[issuer+"\x00"+sid]), nil
}

// PutStream stores the stream at s.Transmitter, keeping the verification
// that arrived, only if the stream id stored there is still was ("": none);
// it reports whether it did.
func (m *Store) PutStream(_ context.Context, s session.Stream, was string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.streams[s.Transmitter]
	if old.StreamID != was {
		return false, nil
	}
	s.VerifiedState, s.VerifiedAt = old.VerifiedState, old.VerifiedAt
	m.streams[s.Transmitter] = s
	return true, nil
}

// Stream returns the stream at transmitter; ok is false when there is none.
func (m *Store) Stream(_ context.Context, transmitter string) (session.Stream, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.streams[transmitter]
	return s, ok, nil
}

// RecordVerification notes a verification event from transmitter.
func (m *Store) RecordVerification(_ context.Context, transmitter, state string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[transmitter]
	s.Transmitter, s.VerifiedState, s.VerifiedAt = transmitter, state, at
	m.streams[transmitter] = s
	return nil
}

// DirectoryCursor returns the change cursor kept for directory, "" if none.
func (m *Store) DirectoryCursor(_ context.Context, directory string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cursors[directory], nil
}

// PutDirectoryCursor keeps cursor for directory.
func (m *Store) PutDirectoryCursor(_ context.Context, directory, cursor string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[directory] = cursor
	return nil
}

// CountRun adds a shard's counts to run's totals and returns them.
// (Totals are kept for the store's life: runs are few.)
func (m *Store) CountRun(_ context.Context, run string, checked, revoking int, _ time.Time) (session.RunCount, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.runs[run]
	c.Checked += checked
	c.Revoking += revoking
	m.runs[run] = c
	return c, nil
}

// TripRun marks run's guard as tripped.
func (m *Store) TripRun(_ context.Context, run string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.runs[run]
	c.Tripped = true
	m.runs[run] = c
	return nil
}

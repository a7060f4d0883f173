// Package session is the session model: opaque random ids that are stored
// only as hashes, the session record with its settings snapshot, and the
// per-environment state of a user.
package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
)

// IDLen is the length of an encoded session id: 32 random bytes (256 bits)
// in unpadded base64url.
const IDLen = 43

// ID is a raw session id: a bearer secret. It never reaches a log: its
// String and LogValue are redacted; Reveal gives the value to the one
// place that must send it (the sign-in response).
type ID struct{ raw string }

// NewID returns a fresh random id.
func NewID() (ID, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ID{}, fmt.Errorf("session: random id: %w", err)
	}
	return ID{base64.RawURLEncoding.EncodeToString(b[:])}, nil
}

// ErrMalformedID is returned by ParseID for anything that is not an id.
var ErrMalformedID = errors.New("session: malformed session id")

// ParseID checks the shape of s (43 base64url characters) without decoding.
func ParseID(s string) (ID, error) {
	if len(s) != IDLen {
		return ID{}, ErrMalformedID
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return ID{}, ErrMalformedID
		}
	}
	return ID{s}, nil
}

// Reveal returns the raw id, for the sign-in response only.
func (id ID) Reveal() string { return id.raw }

// String is redacted.
func (id ID) String() string { return "[session-id]" }

// LogValue is redacted.
func (id ID) LogValue() slog.Value { return slog.StringValue("[session-id]") }

// Hash is the SHA-256 of the raw id: the only form that is stored.
func (id ID) Hash() Hash { return sha256.Sum256([]byte(id.raw)) }

// Hash identifies a session in storage, logs and contexts.
type Hash [32]byte

// String is the full hash in hex, the storage key.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Prefix is the first 16 hex digits (64 bits): enough to tell sessions
// apart in logs and authorizer contexts, and the id by which a user names
// one of their own sessions (GET /sessions); useless for finding the id.
func (h Hash) Prefix() string { return hex.EncodeToString(h[:8]) }

// PrefixLen is the length of Prefix.
const PrefixLen = 16

// ParseHash reads a full hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("session: hash %.70q is not 64 hex digits", s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("session: hash %.70q: %w", s, err)
	}
	return h, nil
}

// UserKey says who a token belongs to: issuer plus the configured subject.
type UserKey struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

// Session is a stored session. Its settings are the snapshot in force at
// sign-in: settings changes take effect at the next sign-in.
type Session struct {
	Hash            Hash
	Environment     string
	User            UserKey
	ClientID        string
	IdPSession      string // the IdP's session ("sid") the token came from; "" if none
	CreatedAt       time.Time
	LastActivityAt  time.Time // zero until the first recorded activity
	AuthTime        time.Time // when the user authenticated at the IdP
	StaySignedIn    bool
	SettingsVersion int
	Settings        policy.Settings
	RevokedAt       time.Time // zero: live
	RevokeReason    Cause
	// Device is the browser and platform the session was signed in from,
	// in a few fixed words (shared/device): "" when unknown, as for every
	// session created before release 0.5.0. Never the User-Agent header
	// itself, and nothing of the client's IP address.
	Device string
	// DPoPKey is the thumbprint of the key the session is bound to: set at
	// a sign-in with a DPoP-bound token and its proof, it makes every
	// later request on the session need a proof by that key (shared/dpop).
	// "" for a session bound to no key.
	DPoPKey string
}

// Cause is why a session was revoked: stored with it, counted by audits.
type Cause string

// The causes of a revocation.
const (
	CauseSignOut              Cause = "sign_out"                 // the user signed out
	CauseEndedByUser          Cause = "ended_by_user"            // the user ended it from another of their sessions
	CauseAdmin                Cause = "admin"                    // an admin revoked it
	CauseSessionLimit         Cause = "session_limit"            // ended to make room (end_oldest)
	CauseUserDisabled         Cause = "user_disabled"            // a policy check found the account disabled
	CauseUserDeleted          Cause = "user_deleted"             // a policy check found the account deleted
	CauseRevokedAtIdP         Cause = "sessions_revoked_at_idp"  // the IdP's revocation point moved past it
	CauseSignalRevoked        Cause = "signal_session_revoked"   // a pushed session-revoked event
	CauseSignalDisabled       Cause = "signal_account_disabled"  // a pushed account disabled or purged event
	CauseSignalCredential     Cause = "signal_credential_change" // a pushed credential-change event
	CauseCognitoDisabled      Cause = "cognito_user_disabled"    // the user pool disabled the user
	CauseCognitoDeleted       Cause = "cognito_user_deleted"     // the user pool deleted the user
	CauseCognitoSignedOut     Cause = "cognito_global_sign_out"  // a global sign-out at the user pool
	CauseCognitoTokenRevoked  Cause = "cognito_token_revoked"    // a refresh token revoked at the user pool
	CauseCognitoPasswordReset Cause = "cognito_password_reset"   // an admin reset the user's password
	CauseIdPLogout            Cause = "idp_logout"               // the user signed out at the IdP (back-channel logout)
)

// Disables reports whether the cause also means the account may no
// longer sign in (disabled or deleted), so ending the user's sessions
// marks the user disabled too.
func (c Cause) Disables() bool {
	switch c {
	case CauseUserDisabled, CauseUserDeleted, CauseSignalDisabled, CauseCognitoDisabled, CauseCognitoDeleted:
		return true
	}
	return false
}

// Revoked reports whether the session has been revoked.
func (s Session) Revoked() bool { return !s.RevokedAt.IsZero() }

// User is a user's state in one environment.
type User struct {
	Environment string
	Key         UserKey
	// SignedOutAt is the user's last sign-out: tokens authenticated before
	// it cannot start a session.
	SignedOutAt time.Time
	// Disabled is set by a policy check that found the account disabled,
	// deleted or blocked, or by a pushed revocation that says so.
	Disabled bool
	// DisabledAt is when the latest disable was recorded: only a policy
	// check that started after it can clear Disabled.
	DisabledAt time.Time
	// LastCheckAt is the last successful policy check.
	LastCheckAt time.Time
	// SessionsValidFrom revokes sessions created before it (IdP "revoke
	// sessions", password reset, admin "revoke all").
	SessionsValidFrom time.Time
	// NextCheckAt is when the user is next due for a policy check; zero:
	// not scheduled. A first sign-in makes the user due at once.
	NextCheckAt time.Time
	// CheckFailures counts the policy checks in a row the directory could
	// not answer; 0 after a successful one.
	CheckFailures int
}

// Check is one policy check's result, as a store records it. The user
// state a check writes moves only towards less trust when another writer
// got there first: a check never moves SessionsValidFrom (that is
// RevokeUser's), and its "active" answer clears a disable only when the
// check started after the disable was recorded.
type Check struct {
	// StartedAt is when the directory was asked.
	StartedAt time.Time
	// Answered is false when the directory could not answer: the failure
	// count grows, the last good check stands.
	Answered bool
	// CheckedAt, when set, becomes LastCheckAt (a held revocation leaves
	// it as it was).
	CheckedAt time.Time
	// Enable is set when the directory answered that the account may sign
	// in and the user was read as disabled: the store clears the disable,
	// but only one recorded before StartedAt. (Left false otherwise, which
	// spares the write.)
	Enable bool
	// NextCheckAt is when the user is due again.
	NextCheckAt time.Time
}

// PolicyView is what the policy decision needs of a session and its user.
func (s Session) PolicyView(u User) policy.Session {
	return policy.Session{
		CreatedAt:             s.CreatedAt,
		LastActivityAt:        s.LastActivityAt,
		StaySignedIn:          s.StaySignedIn,
		ClientID:              s.ClientID,
		RevokedAt:             s.RevokedAt,
		UserDisabled:          u.Disabled,
		UserSessionsValidFrom: u.SessionsValidFrom,
		LastCheckAt:           u.LastCheckAt,
	}
}

// Errors of stores.
var (
	ErrNotFound        = errors.New("session: not found")
	ErrLimitReached    = errors.New("session: the user holds the most sessions allowed")
	ErrVersionConflict = errors.New("settings: changed since the version read")
	ErrBadCursor       = errors.New("page cursor is not one this store issued")
)

// Retention is how long an ended session's record stays readable (for
// audits and for precise deny reasons) before its TTL lets DynamoDB delete
// it.
const Retention = 7 * 24 * time.Hour

// EndedIdPSessionRetention is how long a store remembers that an IdP
// session ended (so that its tokens, refreshed or not, cannot start a
// session): longer than IdPs let a refresh token live by default.
const EndedIdPSessionRetention = 400 * 24 * time.Hour

// EndsAt is the latest time s can still be allowed, judged by its settings
// snapshot with no further activity: its absolute end or idle end,
// whichever comes first, or its revocation. Zero: no end is known (the
// session lives as long as its user keeps valid tokens).
func (s Session) EndsAt() time.Time {
	d := s.Settings.Evaluate(s.PolicyView(User{}).AsSignedIn(), s.CreatedAt, policy.Enforcement{})
	end := d.ExpiresAt
	if !d.IdleExpiresAt.IsZero() && (end.IsZero() || d.IdleExpiresAt.Before(end)) {
		end = d.IdleExpiresAt
	}
	if s.Revoked() && (end.IsZero() || s.RevokedAt.Before(end)) {
		end = s.RevokedAt
	}
	return end
}

// ExpiresAt is when a store may forget s (its TTL): Retention after it
// ended; zero while it has no known end.
func (s Session) ExpiresAt() time.Time {
	end := s.EndsAt()
	if end.IsZero() {
		return end
	}
	return end.Add(Retention)
}

// LinkExpiresAt is when a store may forget the link from s's IdP session
// (sid) to s: Retention after the absolute end of s under its snapshot,
// which activity does not move; zero (never) when s has none, since an
// idle limit moves with every request. So the link outlives every
// moment s can still be allowed, and the sign-in check of
// SessionOfIdPSessionBy sees s as long as its own record is kept.
func (s Session) LinkExpiresAt() time.Time {
	d := s.Settings.Evaluate(s.PolicyView(User{}).AsSignedIn(), s.CreatedAt, policy.Enforcement{})
	if d.ExpiresAt.IsZero() {
		return time.Time{}
	}
	return d.ExpiresAt.Add(Retention)
}

// Override is a settings change an admin applied to running sessions: a
// session created under an older version, and still running when the
// change was applied, is judged by it instead of its snapshot.
type Override struct {
	Version  int
	Settings policy.Settings
	// AppliedAt is when the change was applied. Zero for a change
	// recorded before changes carried it: it then applies to every
	// session under an older version, as it did.
	AppliedAt time.Time
}

// Under returns s judged under o when o is newer than s's snapshot and s
// had not ended by its own limits when o was applied: a change applied
// to running sessions never brings an ended session back, however much
// it loosens the limits.
func (s Session) Under(o Override) Session {
	if o.Version <= s.SettingsVersion {
		return s
	}
	if !o.AppliedAt.IsZero() && !s.Settings.Evaluate(s.PolicyView(User{}).AsSignedIn(), o.AppliedAt, policy.Enforcement{}).Allowed() {
		return s
	}
	s.SettingsVersion, s.Settings = o.Version, o.Settings
	return s
}

// Page asks for one page of a listing: at most Limit items (a store
// default when 0) after Cursor (empty: the first page).
type Page struct {
	Limit  int
	Cursor string
	// Revoked includes revoked sessions (until their TTL) in a listing
	// of sessions; the audit counts revocations with it.
	Revoked bool
	// After, when set, lists only the sessions created after it (the
	// user's own list starts at SessionsValidFrom: all before are ended).
	After time.Time
	// Unended, when set, leaves out the sessions that have ended by their
	// own limits (EndsAt, by the settings they are stored with, is past
	// at the store's now), unless the change *Unended (the environment's
	// Override) judges them instead: those are listed, for the caller to
	// judge under it. So a listing never leaves out a session that Lookup
	// and the authorizer could still allow.
	Unended *Override
}

// Limit is the per-user session limit a store enforces atomically at
// creation.
type Limit struct {
	Max     int // 0: no limit
	OnLimit policy.OnLimit
}

// Apply decides a sign-in under the limit, given the user's other live
// sessions in the environment: with deny_new and no room it fails with
// ErrLimitReached; with end_oldest it picks the oldest sessions to end to
// make room, returned revoked at `at` with CauseSessionLimit, and the
// sessions that stay. Both stores call it inside their atomic section.
func (l Limit) Apply(live []Session, at time.Time) (ended, kept []Session, err error) {
	if l.Max <= 0 {
		return nil, live, nil
	}
	over := len(live) - l.Max + 1
	if over <= 0 {
		return nil, live, nil
	}
	if l.OnLimit == policy.DenyNew {
		return nil, nil, ErrLimitReached
	}
	sorted := slices.Clone(live)
	slices.SortFunc(sorted, func(a, b Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
	ended = sorted[:over:over]
	for i := range ended {
		ended[i].RevokedAt, ended[i].RevokeReason = at, CauseSessionLimit
	}
	return ended, sorted[over:], nil
}

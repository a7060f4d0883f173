// Package authorizer decides whether a request through API Gateway may
// pass (docs/authorizer.md): the token must verify, the session must exist and
// be bound to the token's user and the request's environment, and the
// session must be within its age limits. The Lambda-facing Handler reads
// HTTP API (payload 2.0 and 1.0) and REST REQUEST authorizer events.
package authorizer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Verifier verifies an access token.
type Verifier interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// Store is what the authorizer needs of session storage: one lookup per
// decision (session plus its user's state) and rate-limited activity.
type Store interface {
	Lookup(ctx context.Context, h session.Hash, env string, user session.UserKey) (session.Session, session.User, error)
	Touch(ctx context.Context, s session.Session, at time.Time, minInterval time.Duration) (bool, error)
}

// Identity is what a request carries, as read from its identity sources.
type Identity struct {
	// Authorization is the Authorization header value ("Bearer ...").
	Authorization string
	SessionID     string // X-Session-Id header, else the session cookie
	Environment   string // from the configured source; "" if absent
	// EnvironmentNamed: Environment is an environment id the request
	// names itself (the sessions API's environment query parameter), to
	// be taken as is if known, not a value of the configured source. The
	// authorizer of an app's routes never sets it: there the deployment,
	// not the caller, says which environment a route belongs to.
	EnvironmentNamed bool
	// AuthorizationRepeated and SessionIDRepeated mark a request that
	// carried the header more than once (REST multiValueHeaders): refused,
	// whichever value API Gateway put in headers.
	AuthorizationRepeated, SessionIDRepeated bool
	// DPoP is the DPoP header's proof, "" when there is none;
	// DPoPRepeated marks a request that sent the header more than once
	// (refused, like any repeated identity header).
	DPoP         string
	DPoPRepeated bool
	// Request is the method and URL the request was made to, as a proof
	// must name them.
	Request dpop.Request
}

// Result is a decision with what led to it.
type Result struct {
	Reason      reason.Code
	Err         error // the cause of a deny, for logs only
	Claims      token.Claims
	Environment string
	Session     session.Session
	Decision    policy.Decision
	// DPoPKey is the thumbprint of the key whose proof the request
	// carried and passed; "" when no proof was checked.
	DPoPKey string
	// DPoPDowngrade: a DPoP-bound token passed as Bearer, without a
	// proof, because the environment's dpop is off
	// (dpop.DowngradeAccepted).
	DPoPDowngrade bool
}

// Allowed reports whether the request may pass.
func (r Result) Allowed() bool { return r.Reason == reason.OK }

// Authorizer runs the checks. It is safe for concurrent use.
type Authorizer struct {
	verifier    Verifier
	store       Store
	envs        environment.Config
	enforcement policy.Enforcement
	now         func() time.Time
	proofs      *dpop.Checker
}

// An Option configures an Authorizer.
type Option func(*Authorizer)

// WithDPoP checks DPoP proofs with c. Without it, a request that needs a
// proof checked (the environment's dpop setting, or a session bound to a
// key) is denied dependency_unavailable: nothing passes unchecked.
func WithDPoP(c *dpop.Checker) Option { return func(a *Authorizer) { a.proofs = c } }

// New returns an Authorizer. now may be nil for time.Now.
func New(v Verifier, s Store, envs environment.Config, e policy.Enforcement, now func() time.Time, opts ...Option) *Authorizer {
	if now == nil {
		now = time.Now
	}
	a := &Authorizer{verifier: v, store: s, envs: envs, enforcement: e, now: now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// maxSessionIDBytes caps what is read as a session id before it is parsed.
const maxSessionIDBytes = 256

// Check runs the checks in order, stopping at the first failure: 1 the
// identity sources, 2 the token, 3 the environment, 4 the session and its
// user's state, 5 the binding of the session to the token's user and the
// environment, then, where the session's settings or its own binding to
// a key ask for one, the DPoP proof (checkDPoP), 6 the session's age,
// revocation, the user's standing and policy-check freshness
// (policy.Settings.Evaluate).
func (a *Authorizer) Check(ctx context.Context, id Identity) Result {
	return a.check(ctx, id, "")
}

// Recheck judges the request of r again, as Check, but takes its proof
// as checked already by r (a proof is used once): for a caller that
// changed the session (keep-alive) and wants the judgement after.
func (a *Authorizer) Recheck(ctx context.Context, id Identity, r Result) Result {
	if r.DPoPKey == "" {
		id.DPoP = "" // no proof was checked: none may be now
	}
	return a.check(ctx, id, r.DPoPKey)
}

// check is Check; proven, when set, is the thumbprint of a proof by the
// request already checked, which is held to the session's key again but
// not checked (nor recorded) a second time.
func (a *Authorizer) check(ctx context.Context, id Identity, proven string) Result {
	// 1. identity sources, size-capped (the token's cap is the verifier's).
	if id.Authorization == "" {
		return deny(reason.TokenMissing, errors.New("no Authorization header"))
	}
	if id.AuthorizationRepeated {
		return deny(reason.TokenMalformed, errors.New("more than one Authorization header"))
	}
	scheme, raw, code := identity.AccessToken(id.Authorization)
	if code != reason.OK {
		return deny(code, errors.New("the Authorization header is neither a Bearer nor a DPoP token"))
	}
	if id.DPoPRepeated {
		return deny(reason.DPoPInvalid, dpop.Repeated())
	}
	if id.SessionID == "" {
		return deny(reason.SessionMissing, errors.New("no session id in X-Session-Id or the session cookie"))
	}
	if id.SessionIDRepeated {
		return deny(reason.SessionUnknown, errors.New("more than one session id header"))
	}
	// 2. the token.
	claims, err := a.verifier.Verify(ctx, raw)
	if err != nil {
		return deny(reason.CodeOf(err), err)
	}
	r := Result{Claims: claims}
	// 3. the environment.
	if r.Environment, err = a.envs.Of(id.Environment, id.EnvironmentNamed); err != nil {
		return r.deny(reason.EnvironmentUnknown, err)
	}
	// 4. the session and its user's state, in one lookup.
	if len(id.SessionID) > maxSessionIDBytes {
		return r.deny(reason.SessionUnknown, fmt.Errorf("session id of %d bytes", len(id.SessionID)))
	}
	sid, err := session.ParseID(id.SessionID)
	if err != nil {
		return r.deny(reason.SessionUnknown, err)
	}
	h := sid.Hash()
	user := session.UserKey{Issuer: claims.Issuer, Subject: claims.Subject}
	s, u, err := a.store.Lookup(ctx, h, r.Environment, user)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return r.deny(reason.SessionUnknown, fmt.Errorf("no session %s", h.Prefix()))
	case err != nil:
		return r.deny(reason.DependencyUnavailable, fmt.Errorf("look up session %s: %w", h.Prefix(), err))
	}
	r.Session = s
	// 5. binding.
	if s.User != user {
		return r.deny(reason.BindingUser, fmt.Errorf("session %s belongs to another user", h.Prefix()))
	}
	if s.Environment != r.Environment {
		return r.deny(reason.BindingEnvironment, fmt.Errorf("session %s belongs to environment %q, not %q", h.Prefix(), s.Environment, r.Environment))
	}
	// DPoP: the proof, where the session's settings or its key ask.
	if r.DPoPKey, err = a.checkDPoP(ctx, id, scheme, raw, claims, s, proven); err != nil {
		return r.deny(reason.CodeOf(err), err)
	}
	r.DPoPDowngrade = dpop.DowngradeAccepted(s.Settings.DPoP, dpop.Presented{Scheme: scheme, TokenKey: claims.KeyThumbprint, Session: true, SessionKey: s.DPoPKey})
	// 6. age, revocation, standing, freshness.
	r.Decision = s.Settings.Evaluate(s.PolicyView(u).Presenting(claims.ClientID), a.now(), a.enforcement)
	if !r.Decision.Allowed() {
		return r.deny(r.Decision.Reason, fmt.Errorf("session %s: %s", h.Prefix(), r.Decision.Reason))
	}
	r.Reason = reason.OK
	return r
}

// checkDPoP checks the request's proof where one is needed (dpop.Need:
// the mode of the session's settings, the token's key, the session's
// key) and returns the proof key's thumbprint ("" when none was
// checked), or the deny's error.
func (a *Authorizer) checkDPoP(ctx context.Context, id Identity, scheme identity.Scheme, raw string, claims token.Claims, s session.Session, proven string) (string, error) {
	need, err := dpop.Need(s.Settings.DPoP, dpop.Presented{Scheme: scheme, TokenKey: claims.KeyThumbprint, Proof: id.DPoP != "" || proven != "",
		Session: true, SessionKey: s.DPoPKey})
	if err != nil || !need {
		return "", err
	}
	if proven != "" {
		if s.DPoPKey != "" && s.DPoPKey != proven {
			return "", &dpop.Error{Check: dpop.CheckSession, Err: reason.New(reason.DPoPInvalid, "the session is bound to another key than the proof's")}
		}
		return proven, nil
	}
	if a.proofs == nil {
		return "", errors.New("a DPoP proof must be checked and this authorizer has no replay store to check it with")
	}
	p, err := a.proofs.Check(ctx, id.DPoP, id.Request, dpop.Binding{AccessToken: raw, TokenBound: scheme == identity.DPoP || claims.KeyThumbprint != "",
		TokenKey: claims.KeyThumbprint, SessionKey: s.DPoPKey})
	if err != nil {
		return "", err
	}
	return p.Thumbprint, nil
}

// KeepAliveFloor is the least time between two keep-alive writes of a
// session: an explicit "keep working" records activity at once, but a
// client repeating it cannot cost a write per call.
const KeepAliveFloor = 10 * time.Second

// KeepAlive records r's activity now, inside the activity interval too
// (the user asked to keep working), unless the last was within
// KeepAliveFloor.
func (a *Authorizer) KeepAlive(ctx context.Context, r Result) error {
	if !r.Allowed() {
		return nil
	}
	if _, err := a.store.Touch(ctx, r.Session, a.now(), KeepAliveFloor); err != nil {
		return fmt.Errorf("keep session %s alive: %w", r.Session.Hash.Prefix(), err)
	}
	return nil
}

// RecordActivity records an allowed request's activity if the session's
// last recorded activity is at least its activity interval old; otherwise
// it does nothing and costs nothing. It reports whether it wrote.
func (a *Authorizer) RecordActivity(ctx context.Context, r Result) (bool, error) {
	if !r.Allowed() {
		return false, nil
	}
	s := r.Session
	now := a.now()
	iv := s.Settings.ActivityInterval(s.StaySignedIn)
	last := s.LastActivityAt
	if last.IsZero() {
		last = s.CreatedAt
	}
	if now.Sub(last) < iv {
		return false, nil
	}
	wrote, err := a.store.Touch(ctx, s, now, iv)
	if err != nil {
		return false, fmt.Errorf("record activity of session %s: %w", s.Hash.Prefix(), err)
	}
	return wrote, nil
}

func deny(c reason.Code, err error) Result { return Result{Reason: c, Err: err} }

func (r Result) deny(c reason.Code, err error) Result {
	r.Reason, r.Err = c, err
	return r
}

package sessionapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
)

// The user's own sessions (docs/sessions.md, "Your sessions"): a signed-in
// user lists their live sessions in the environment and ends any of them,
// or all but the one they are using. Each route is judged as GET
// /sessions/current is (the caller's token and session, the same checks),
// and reaches only the caller's own sessions: a session is named by its
// id as listed (session.Hash.Prefix, 16 hex digits of the hash of its
// id), never by the id itself, which is a bearer secret; an id that names
// none of the caller's sessions here that have not ended is 404, whoever's
// it is, so that ids cannot be probed. Sessions are judged as the
// authorizer judges them: under the environment's settings change applied
// to running sessions, if any.

// One request reaches at most ownMaxListed of the user's sessions besides
// the current one, reading at most ownMaxPages pages of ownPageSize from
// the store: so that it answers, and ends what it reached, well within
// the function's time limit however many sessions a user has piled up.
// Sessions that have ended but are still stored (for a week:
// session.Retention) do not use up that reach: the listing starts after
// the user's SessionsValidFrom (every session before it has ended), and
// the store fills each page past the revoked ones and those ended by
// their own limits (session.Page.Unended), within a read budget of its
// own. The answer says "truncated" when more remained.
const (
	ownMaxListed = 100
	ownMaxPages  = 10
	ownPageSize  = 100
)

// ownEndBudget is the deadline of "sign out everywhere else", from the
// request's start (Config.EndBudget): inside the function's 5-second
// limit, with room for the answer. What the request has not reached by
// then is refused already (the user's revocation point moved first), and
// the answer says "truncated", so that a repeat ends the rest.
// TestEndAllButCurrentDeadlineOnDynamoDB holds the shape a reviewer
// measured past the limit (300 older sessions of distinct IdP sessions,
// 100 newer ones) to it.
const ownEndBudget = 4 * time.Second

// ownCheckGrace bounds the one read past the deadline: whether the
// revocation point moved, when ending the older sessions was cut short.
const ownCheckGrace = 500 * time.Millisecond

// OwnView is one of the caller's sessions as GET /sessions lists it.
type OwnView struct {
	// ID names the session in DELETE /sessions/{id}: the first 16 hex
	// digits of the SHA-256 of its id, as the authorizer's context and
	// GET /sessions/current (sessionHashPrefix) give it.
	ID      string `json:"id"`
	Current bool   `json:"current"`
	// Device is the browser and platform it was signed in from, in a few
	// words; absent when unknown.
	Device       string    `json:"device,omitempty"`
	ClientID     string    `json:"clientId,omitempty"`
	StaySignedIn bool      `json:"staySignedIn"`
	CreatedAt    time.Time `json:"createdAt"`
	// LastActiveAt is the last recorded activity (recorded at most once
	// per activity interval), or the sign-in.
	LastActiveAt  time.Time  `json:"lastActiveAt"`
	ExpiresAt     *time.Time `json:"expiresAt,omitempty"`
	IdleExpiresAt *time.Time `json:"idleExpiresAt,omitempty"`
}

// ownList is the answer of GET /sessions.
type ownList struct {
	Sessions  []OwnView `json:"sessions"`
	Truncated bool      `json:"truncated"`
	Now       time.Time `json:"now"`
}

// liveAt judges, for the user u at now, whether a session as Lookup
// returns it (under any settings change applied to running sessions,
// session.Session.Under) still counts as live: not revoked, and allowed
// by its settings as signed in, as the authorizer judges it but for the
// token of a request. The session limit at sign-in (the stores apply
// Under before asking) and the user's own list count the same sessions.
func liveAt(u session.User, now time.Time) func(session.Session) bool {
	return func(o session.Session) bool {
		return !o.Revoked() && o.Settings.Evaluate(o.PolicyView(u).AsSignedIn(), now, policy.Enforcement{}).Allowed()
	}
}

// authenticated judges r's token and session as GET /sessions/current
// does; a refusal is answered and ok is false.
func (a *API) authenticated(w http.ResponseWriter, r *http.Request, op string) (authorizer.Result, bool) {
	id, bad := a.identityOf(r)
	if bad != nil {
		problem.Fields(w, "the request is not valid", []problem.FieldError{*bad})
		return authorizer.Result{}, false
	}
	res := a.cfg.Authorizer.Check(r.Context(), id) // judging only: no activity is recorded
	if !res.Allowed() {
		a.deny(r.Context(), w, op, res.Reason, res.Err)
		return res, false
	}
	return res, true
}

// owner is the caller of one of the own-sessions routes: their token and
// current session, allowed, and what judging their other sessions needs.
type owner struct {
	authorizer.Result
	op       string
	user     session.User     // the caller's state in the environment
	override session.Override // the environment's change applied to running sessions
	now      time.Time
}

// caller judges r's token and session as GET /sessions/current does, and
// reads the caller's state and the environment's applied settings change;
// a refusal, or a store that cannot be read, is answered and ok is false.
func (a *API) caller(w http.ResponseWriter, r *http.Request, op string) (owner, bool) {
	res, ok := a.authenticated(w, r, op)
	if !ok {
		return owner{}, false
	}
	c := owner{Result: res, op: op, now: a.cfg.Now()}
	ctx := r.Context()
	var err error
	if c.user, err = a.cfg.Store.User(ctx, res.Environment, res.Session.User); err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read user state: %w", err))
		return owner{}, false
	}
	if c.override, err = a.cfg.Store.Override(ctx, res.Environment); err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read the settings applied to running sessions: %w", err))
		return owner{}, false
	}
	return c, true
}

// live reports whether s, one of the caller's sessions as stored, is live
// as the authorizer would judge it now: under the environment's applied
// settings change, as Lookup gives it.
func (c owner) live(s session.Session) bool { return liveAt(c.user, c.now)(s.Under(c.override)) }

// ownSessions reads the caller's sessions in the environment, other than
// the current one, that were created after `after`, are not revoked nor
// ended by their limits (the store leaves those out, but for sessions the
// environment's applied settings change judges instead: Page.Unended), and
// that keep takes: at most ownMaxListed, oldest first, reading at most
// ownMaxPages pages; truncated says more remained.
func (a *API) ownSessions(ctx context.Context, c owner, after time.Time, keep func(session.Session) bool) (_ []session.Session, truncated bool, _ error) {
	var out []session.Session
	cursor := ""
	for pages := 1; ; pages++ {
		list, next, err := a.cfg.Store.UserSessions(ctx, c.Environment, c.Session.User, session.Page{Limit: ownPageSize, Cursor: cursor, After: after, Unended: &c.override})
		if err != nil {
			return nil, false, fmt.Errorf("list the user's sessions: %w", err)
		}
		for _, s := range list {
			if s.Hash == c.Session.Hash || !keep(s) {
				continue
			}
			if len(out) == ownMaxListed {
				return out, true, nil
			}
			out = append(out, s)
		}
		if next == "" {
			return out, false, nil
		}
		if pages == ownMaxPages {
			return out, true, nil
		}
		cursor = next
	}
}

// listOwn answers the caller's live sessions in the environment: the
// current one first, then the most recently active. The store reads a
// user's sessions oldest first and has no reverse order, so when more
// remain (truncated) the others listed are the oldest ones reached
// (docs/sessions.md).
func (a *API) listOwn(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r, "list_sessions")
	if !ok {
		return
	}
	others, truncated, err := a.ownSessions(r.Context(), c, c.user.SessionsValidFrom, c.live)
	if err != nil {
		a.deny(r.Context(), w, c.op, reason.DependencyUnavailable, err)
		return
	}
	out := ownList{Sessions: make([]OwnView, 0, 1+len(others)), Truncated: truncated, Now: c.now.UTC()}
	out.Sessions = append(out.Sessions, ownViewOf(c.Session, true, c.now))
	for _, s := range others {
		out.Sessions = append(out.Sessions, ownViewOf(s.Under(c.override), false, c.now))
	}
	slices.SortStableFunc(out.Sessions[1:], func(x, y OwnView) int {
		return cmp.Or(y.LastActiveAt.Compare(x.LastActiveAt), y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(x.ID, y.ID))
	})
	httpjson.Write(w, http.StatusOK, out)
}

// ownViewOf shows s (as Lookup gives it) as its user sees it in the list,
// its limits judged at now.
func ownViewOf(s session.Session, current bool, now time.Time) OwnView {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	d := s.Settings.Evaluate(s.PolicyView(session.User{}).AsSignedIn(), now, policy.Enforcement{})
	last := s.LastActivityAt
	if last.IsZero() {
		last = s.CreatedAt
	}
	return OwnView{ID: s.Hash.Prefix(), Current: current, Device: s.Device, ClientID: s.ClientID, StaySignedIn: s.StaySignedIn,
		CreatedAt: s.CreatedAt.UTC(), LastActiveAt: last.UTC(), ExpiresAt: opt(d.ExpiresAt), IdleExpiresAt: opt(d.IdleExpiresAt)}
}

// isListedID reports whether id has the form of a listed session id (16
// hex digits, in either letter case), and gives it as listed (lowercase).
func isListedID(id string) (string, bool) {
	if len(id) != session.PrefixLen {
		return "", false
	}
	id = strings.ToLower(id)
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return id, true
}

// ProblemAmbiguousID is the problem type of DELETE /sessions/{id} when
// the id names more than one of the caller's sessions (409).
const ProblemAmbiguousID = "urn:sessionguard:problem:session_id_ambiguous"

// revokeOwn ends one of the caller's sessions, named by its listed id:
// 204. The current session's id signs out (as DELETE /sessions/current);
// any other session of the caller's in the environment that the
// authorizer could still allow (not revoked, not past its own limits as
// the environment's applied settings change judges them: whatever the
// user's state, so also one the list leaves out) is ended as
// endOwnSession says. An id that names none, another user's included, is
// 404.
func (a *API) revokeOwn(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r, "end_session")
	if !ok {
		return
	}
	ctx := r.Context()
	id, ok := isListedID(r.PathValue("id"))
	if !ok {
		problem.Fields(w, "not a session id", []problem.FieldError{{Field: "id", Message: "must be a session's id as GET /sessions lists it (16 hex digits)"}})
		return
	}
	named := func(s session.Session) bool { return s.Hash.Prefix() == id }
	match, truncated, err := a.ownSessions(ctx, c, c.user.SessionsValidFrom, named)
	if err != nil {
		a.deny(ctx, w, c.op, reason.DependencyUnavailable, err)
		return
	}
	if named(c.Session) {
		match = append(match, c.Session)
	}
	switch {
	case len(match) == 0:
		a.log(ctx, slog.LevelInfo, slog.String("op", c.op), slog.String("decision", "deny"), slog.String("reason", string(reason.SessionUnknown)),
			slog.String("environment", c.Environment), slog.String("userId", c.Session.User.Subject), slog.String("named", id))
		// The same status and reason whether or not the search was cut
		// short, so that ids cannot be probed; the detail says when it was.
		detail := "none of your sessions here has this id"
		if truncated {
			detail = "none of your sessions that one request reads has this id: it may name one beyond them; end your other sessions with DELETE /sessions?others=true"
		}
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Reason: reason.SessionUnknown,
			Detail: detail, Errors: []problem.FieldError{{Field: "id", Message: "not one of your sessions: list them with GET /sessions"}}})
		return
	case len(match) > 1:
		// Two of the user's sessions whose hashes share 64 bits: not
		// expected in the life of a deployment, and never guessed at.
		a.log(ctx, slog.LevelWarn, slog.String("op", c.op), slog.String("decision", "deny"), slog.String("error", "a listed id names more than one session"),
			slog.String("environment", c.Environment), slog.String("userId", c.Session.User.Subject), slog.String("named", id))
		problem.Write(w, problem.Details{Type: ProblemAmbiguousID, Title: "Session id names more than one session", Status: http.StatusConflict,
			Detail: "more than one of your sessions has this id: end them with DELETE /sessions?others=true, or sign out",
			Errors: []problem.FieldError{{Field: "id", Message: "names more than one session"}}})
		return
	case match[0].Hash == c.Session.Hash:
		a.endCurrent(ctx, w, c.Session.Hash, c.op)
		return
	}
	if _, err := a.endOwnSession(ctx, c, match[0]); err != nil {
		a.deny(ctx, w, c.op, reason.DependencyUnavailable, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endAllButCurrent ends every session of the caller in the environment
// but the current one (DELETE /sessions?others=true), and answers how many
// live ones it ended and whether any remained (then a repeat ends them).
//
// It moves the user's SessionsValidFrom to just before the current
// session's creation (revoke.User, as an admin's "revoke all" does, cause
// ended_by_user): from then on the authorizer refuses every older session
// of the user here, whether or not this request marked it ended. It
// records the current session's creation as a sign-out point
// (RecordSignOut, as the global token revocation does): a token
// authenticated at or before it (to the second, failing closed on ties:
// reauthenticationNeeded) cannot start a session, neither on a device that
// held one of the ended sessions nor in the hands of a thief holding a
// copy of the caller's own token. The current session goes on; once it
// ends, a sign-in needs a new authentication at the IdP, as after a
// sign-out. Then it records the IdP sessions of the older sessions it
// marked ended, and ends the sessions created after the current one
// (normally none) one by one, at most ownMaxListed per request.
//
// The whole request runs within one deadline, Config.EndBudget from its
// start (ownEndBudget, inside the function's 5-second limit): every store
// call is bounded by it, and no step starts once it has passed. Cut short
// after the revocation point moved, the answer is 200 with "truncated"
// (what it did not reach is refused already, or ended by a repeat); cut
// short before, it is 503 with Retry-After, and nothing was ended.
func (a *API) endAllButCurrent(w http.ResponseWriter, r *http.Request) {
	const op = "end_other_sessions"
	deadline := a.cfg.Now().Add(a.cfg.EndBudget)
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		problem.Fields(w, "the request is not valid", []problem.FieldError{{Field: "(query)", Message: "the query string does not parse"}})
		return
	}
	if v := q["others"]; len(v) != 1 || v[0] != "true" {
		problem.Fields(w, "say which sessions to end", []problem.FieldError{{Field: "others", Message: "must be given once, as true: DELETE /sessions?others=true ends all your sessions but this one (DELETE /sessions/current signs out of this one)"}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.EndBudget)
	defer cancel()
	// over reports whether the deadline has passed: on the API's clock
	// (which tests set), or the context's own.
	over := func() bool { return ctx.Err() != nil || !a.cfg.Now().Before(deadline) }
	unavailable := func(err error) {
		w.Header().Set("Retry-After", "1")
		a.deny(ctx, w, op, reason.DependencyUnavailable, err)
	}
	c, ok := a.caller(w, r.WithContext(ctx), op)
	if !ok {
		return
	}
	if over() {
		unavailable(errors.New("the request's deadline passed before any session was ended"))
		return
	}
	if err := a.cfg.Store.RecordSignOut(ctx, c.Environment, c.Session.User, c.Session.CreatedAt); err != nil {
		unavailable(fmt.Errorf("record the sign-out point: %w", err))
		return
	}
	from := revoke.Before(c.Session.CreatedAt)
	if over() {
		unavailable(errors.New("the request's deadline passed before the revocation point moved"))
		return
	}
	ended, err := revoke.User(ctx, a.cfg.Store, revoke.Request{Environments: []string{c.Environment}, User: c.Session.User,
		At: c.now, From: from, Cause: session.CauseEndedByUser})
	cut := func(err error) {
		a.log(ctx, slog.LevelWarn, slog.String("op", op), slog.String("environment", c.Environment), slog.String("userId", c.Session.User.Subject),
			slog.String("warning", "ending the other sessions was cut short after the revocation point moved: a repeat ends the rest"), slog.String("error", err.Error()))
		a.answerEnded(ctx, w, c, ended, true)
	}
	if err != nil {
		// Cut short (the deadline, or a failed write): once the point has
		// moved, every older session is refused already; those not yet
		// marked ended are left to a repeat ("truncated"). Whether it
		// moved is read past the deadline, within a short grace of its own.
		check, done := context.WithTimeout(context.WithoutCancel(r.Context()), ownCheckGrace)
		u, uerr := a.cfg.Store.User(check, c.Environment, c.Session.User)
		done()
		if uerr != nil || u.SessionsValidFrom.Before(from) {
			unavailable(err)
			return
		}
		cut(err)
		return
	}
	// failed answers a failed step: cut short once the deadline has
	// passed (the point has moved: "truncated"), else unavailable.
	failed := func(err error) {
		if over() {
			cut(err)
			return
		}
		a.deny(ctx, w, op, reason.DependencyUnavailable, err)
	}
	// stop reports (and answers) the deadline passing before a step.
	stop := func(before string) bool {
		if over() {
			cut(errors.New("the request's deadline passed " + before))
			return true
		}
		return false
	}
	// The older sessions' IdP sessions: those this call marked ended are
	// recorded as such; those it did not reach, and those ended by their
	// own limits, are refused at sign-in all the same, having started
	// before the revocation point (reauthenticationNeeded).
	done := map[string]bool{"": true, c.Session.IdPSession: true}
	for _, s := range ended {
		if stop("while recording the ended IdP sessions") {
			return
		}
		if err := a.endIdPSessionOnce(ctx, c, s, done); err != nil {
			failed(err)
			return
		}
	}
	if stop("before the newer sessions were listed") {
		return
	}
	later, truncated, err := a.ownSessions(ctx, c, from, func(session.Session) bool { return true })
	if err != nil {
		failed(err)
		return
	}
	for _, s := range later {
		// Its IdP session is recorded ended first: were the revocation
		// then to fail, a repeat (which no longer lists a revoked session)
		// has nothing left to record.
		if stop("while ending the newer sessions") {
			return
		}
		if err := a.endIdPSessionOnce(ctx, c, s, done); err != nil {
			failed(err)
			return
		}
		if stop("while ending the newer sessions") {
			return
		}
		e, changed, err := a.cfg.Store.Revoke(ctx, s.Hash, c.now, session.CauseEndedByUser)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			failed(fmt.Errorf("end session %s: %w", s.Hash.Prefix(), err))
			return
		}
		if changed {
			ended = append(ended, e)
		}
	}
	a.answerEnded(ctx, w, c, ended, truncated)
}

// answerEnded logs each session others=true ended and answers how many
// of them were live, and whether any remained.
func (a *API) answerEnded(ctx context.Context, w http.ResponseWriter, c owner, ended []session.Session, truncated bool) {
	n := 0
	for _, s := range ended {
		if a.logEnded(ctx, c, s) {
			n++
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"ended": n, "truncated": truncated})
}

// endOwnSession ends s, one of the caller's sessions other than the
// current one, for good, as an admin's revocation of one session does
// (cause ended_by_user); and with it the caller's other sessions in the
// environment of the same IdP session (sid: another tab in header mode,
// another app of the environment), never the current one. It records
// that IdP session as ended (endIdPSessionOnce), before any revocation. It returns the sessions
// this call ended.
func (a *API) endOwnSession(ctx context.Context, c owner, s session.Session) ([]session.Session, error) {
	// The IdP session first: were a revocation below to fail, the repeat
	// answers 404 (the session is no longer live), so nothing after it
	// would record it.
	if err := a.endIdPSessionOnce(ctx, c, s, map[string]bool{"": true, c.Session.IdPSession: true}); err != nil {
		return nil, err
	}
	e, changed, err := a.cfg.Store.Revoke(ctx, s.Hash, c.now, session.CauseEndedByUser)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		return nil, fmt.Errorf("end session %s: %w", s.Hash.Prefix(), err)
	}
	var ended []session.Session
	if changed {
		ended = append(ended, e)
	}
	if s.IdPSession != "" {
		same, err := revoke.IdPSession(ctx, a.cfg.Store, s.User.Issuer, s.IdPSession, c.now, session.CauseEndedByUser, func(o session.Session) bool {
			return o.Environment == c.Environment && o.User == c.Session.User && o.Hash != c.Session.Hash && !o.Revoked()
		})
		ended = append(ended, same...)
		if errors.Is(err, revoke.ErrTooManyLinks) {
			// The session named is ended; a repeat would reach the same
			// first ones of its IdP session: said, not failed.
			a.log(ctx, slog.LevelWarn, slog.String("op", c.op), slog.String("environment", c.Environment), slog.String("userId", c.Session.User.Subject),
				slog.String("warning", "the IdP session has more sessions than one request ends"), slog.String("error", err.Error()))
			err = nil
		}
		if err != nil {
			return ended, fmt.Errorf("end the sessions of the IdP session of session %s: %w", s.Hash.Prefix(), err)
		}
	}
	for _, e := range ended {
		a.logEnded(ctx, c, e)
	}
	return ended, nil
}

// endIdPSessionOnce records the IdP session (sid) of s, one of the
// sessions ended, as ended in the environment, as a sign-out records its
// own: so that the devices that held it cannot start another session
// with their tokens, refreshed or not; unless done has it, and then done
// has it. done starts with the current session's own IdP session
// (another tab of the same browser, or a copy of the caller's own token):
// recording it would refuse the caller's next sign-in.
func (a *API) endIdPSessionOnce(ctx context.Context, c owner, s session.Session, done map[string]bool) error {
	if done[s.IdPSession] {
		return nil
	}
	if err := a.cfg.Store.EndIdPSession(ctx, c.Environment, s.User.Issuer, s.IdPSession, c.now); err != nil {
		return fmt.Errorf("record the end of the IdP session of session %s: %w", s.Hash.Prefix(), err)
	}
	done[s.IdPSession] = true
	return nil
}

// logEnded logs that the caller's request ended s (as revoked by it), and
// reports whether s was live until then.
func (a *API) logEnded(ctx context.Context, c owner, s session.Session) bool {
	before := s
	before.RevokedAt, before.RevokeReason = time.Time{}, ""
	wasLive := c.live(before)
	a.log(ctx, slog.LevelInfo, slog.String("op", c.op), slog.String("decision", "allow"), slog.String("reason", string(reason.OK)),
		slog.String("environment", s.Environment), slog.String("userId", s.User.Subject), slog.String("sessionId", s.Hash.Prefix()),
		slog.String("by", c.Session.Hash.Prefix()), slog.Bool("wasLive", wasLive))
	return wasLive
}

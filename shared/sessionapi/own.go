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
	"time"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
)

// The user's own sessions (docs/sessions.md, "Your sessions"): a signed-in
// user lists their live sessions in the environment and ends any of them,
// or all but the one they are using. Each route is judged as GET
// /sessions/current is (the caller's token and session, the same checks),
// and reaches only the caller's own sessions: a session is named by its
// id as listed (session.Hash.Prefix, 16 hex digits of the hash of its
// id), never by the id itself, which is a bearer secret; an id that is not
// one of the caller's live sessions is 404, whoever's it is, so that ids
// cannot be probed.

// One request reaches at most ownMaxListed of the user's sessions besides
// the current one, reading at most ownMaxPages pages of ownPageSize (a
// page may hold sessions that have ended but are still stored): so that
// it answers, and ends what it reached, well within the function's time
// limit however many sessions a user has piled up. The answer says
// "truncated" when more remained; a repeat reaches them.
const (
	ownMaxListed = 100
	ownMaxPages  = 10
	ownPageSize  = 100
)

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

// liveAt judges, for the user u at now, whether a session still counts as
// live: not revoked, and allowed by its settings snapshot as signed in.
// The session limit at sign-in counts the same sessions.
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

// ownSessions are the live sessions of the caller of res (allowed) in its
// environment, the current one always among them (a listing may not show
// a session created a moment ago), and whether more remained unread.
func (a *API) ownSessions(ctx context.Context, res authorizer.Result) ([]session.Session, bool, error) {
	env, user := res.Environment, res.Session.User
	u, err := a.cfg.Store.User(ctx, env, user)
	if err != nil {
		return nil, false, fmt.Errorf("read user state: %w", err)
	}
	live := liveAt(u, a.cfg.Now())
	out := []session.Session{res.Session}
	cursor, truncated := "", false
	for pages := 1; ; pages++ {
		list, next, err := a.cfg.Store.UserSessions(ctx, env, user, session.Page{Limit: ownPageSize, Cursor: cursor})
		if err != nil {
			return nil, false, fmt.Errorf("list the user's sessions: %w", err)
		}
		for _, s := range list {
			if s.Hash != res.Session.Hash && live(s) {
				out = append(out, s)
			}
		}
		if len(out) > 1+ownMaxListed {
			out, truncated = out[:1+ownMaxListed], true
			break
		}
		if next == "" {
			break
		}
		if pages == ownMaxPages || len(out) == 1+ownMaxListed {
			truncated = true
			break
		}
		cursor = next
	}
	return out, truncated, nil
}

// listOwn answers the caller's live sessions in the environment: the
// current one first, then the most recently active.
func (a *API) listOwn(w http.ResponseWriter, r *http.Request) {
	const op = "list_sessions"
	ctx := r.Context()
	res, ok := a.authenticated(w, r, op)
	if !ok {
		return
	}
	mine, truncated, err := a.ownSessions(ctx, res)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err)
		return
	}
	now := a.cfg.Now()
	out := ownList{Sessions: make([]OwnView, 0, len(mine)), Truncated: truncated, Now: now.UTC()}
	for _, s := range mine {
		out.Sessions = append(out.Sessions, ownViewOf(s, s.Hash == res.Session.Hash, now))
	}
	slices.SortStableFunc(out.Sessions, func(x, y OwnView) int {
		if x.Current != y.Current {
			if x.Current {
				return -1
			}
			return 1
		}
		return cmp.Or(y.LastActiveAt.Compare(x.LastActiveAt), y.CreatedAt.Compare(x.CreatedAt), cmp.Compare(x.ID, y.ID))
	})
	httpjson.Write(w, http.StatusOK, out)
}

// ownViewOf shows s as its user sees it in the list, its limits judged at
// now.
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

// ownID reports whether id has the form of a listed session id.
func ownID(id string) bool {
	if len(id) != session.PrefixLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// endOwn ends one of the caller's sessions, named by its listed id: 204.
// The current session's id signs out (as DELETE /sessions/current); any
// other is ended as endOther says. An id that is not one of the caller's
// live sessions in the environment, another user's included, is 404.
func (a *API) endOwn(w http.ResponseWriter, r *http.Request) {
	const op = "end_session"
	ctx := r.Context()
	res, ok := a.authenticated(w, r, op)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if !ownID(id) {
		problem.Fields(w, "not a session id", []problem.FieldError{{Field: "id", Message: "must be a session's id as GET /sessions lists it (16 lowercase hex digits)"}})
		return
	}
	mine, _, err := a.ownSessions(ctx, res)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err)
		return
	}
	var match []session.Session
	for _, s := range mine {
		if s.Hash.Prefix() == id {
			match = append(match, s)
		}
	}
	switch {
	case len(match) == 0:
		a.log(ctx, slog.LevelInfo, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(reason.SessionUnknown)),
			slog.String("environment", res.Environment), slog.String("userId", res.Session.User.Subject), slog.String("named", id))
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Reason: reason.SessionUnknown,
			Detail: "none of your live sessions here has this id", Errors: []problem.FieldError{{Field: "id", Message: "not one of your sessions: list them with GET /sessions"}}})
		return
	case len(match) > 1:
		// Two of the user's sessions whose hashes share 64 bits: not
		// expected in the life of a deployment, and never guessed at.
		problem.Write(w, problem.Details{Status: http.StatusConflict, Reason: reason.Forbidden,
			Detail: "more than one of your sessions has this id: end them with DELETE /sessions?others=true, or sign out",
			Errors: []problem.FieldError{{Field: "id", Message: "names more than one session"}}})
		return
	case match[0].Hash == res.Session.Hash:
		a.endCurrent(ctx, w, res.Session.Hash, op)
		return
	}
	if _, err := a.endOther(ctx, res, match[0], op); err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// endOthers ends every live session of the caller in the environment but
// the current one (DELETE /sessions?others=true), and answers how many it
// ended and whether more remained to read (then a repeat ends them).
func (a *API) endOthers(w http.ResponseWriter, r *http.Request) {
	const op = "end_other_sessions"
	ctx := r.Context()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		problem.Fields(w, "the request is not valid", []problem.FieldError{{Field: "(query)", Message: "the query string does not parse"}})
		return
	}
	if v := q["others"]; len(v) != 1 || v[0] != "true" {
		problem.Fields(w, "say which sessions to end", []problem.FieldError{{Field: "others", Message: "must be given once, as true: DELETE /sessions?others=true ends all your sessions but this one (DELETE /sessions/current signs out of this one)"}})
		return
	}
	res, ok := a.authenticated(w, r, op)
	if !ok {
		return
	}
	mine, truncated, err := a.ownSessions(ctx, res)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err)
		return
	}
	ended := 0
	for _, s := range mine {
		if s.Hash == res.Session.Hash {
			continue
		}
		changed, err := a.endOther(ctx, res, s, op)
		if err != nil {
			a.deny(ctx, w, op, reason.DependencyUnavailable, err)
			return
		}
		if changed {
			ended++
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"ended": ended, "truncated": truncated})
}

// endOther ends s, one of the caller's sessions other than the current
// one (res), for good, as an admin's revocation of one session does. Its
// IdP session (sid) is recorded as ended too, as a sign-out records it, so
// that the device that held s cannot start another session with its
// tokens, refreshed or not; unless it is the current session's own IdP
// session (another tab of the same browser), which would refuse the
// caller's next sign-in. It reports whether this call ended s (false: it
// had ended meanwhile).
func (a *API) endOther(ctx context.Context, res authorizer.Result, s session.Session, op string) (bool, error) {
	now := a.cfg.Now()
	_, changed, err := a.cfg.Store.Revoke(ctx, s.Hash, now, session.CauseEndedByUser)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		return false, fmt.Errorf("end session %s: %w", s.Hash.Prefix(), err)
	}
	if s.IdPSession != "" && s.IdPSession != res.Session.IdPSession {
		if err := a.cfg.Store.EndIdPSession(ctx, s.Environment, s.User.Issuer, s.IdPSession, now); err != nil {
			return changed, fmt.Errorf("record the end of the IdP session of session %s: %w", s.Hash.Prefix(), err)
		}
	}
	a.log(ctx, slog.LevelInfo, slog.String("op", op), slog.String("decision", "allow"), slog.String("reason", string(reason.OK)),
		slog.String("environment", s.Environment), slog.String("userId", s.User.Subject), slog.String("sessionId", s.Hash.Prefix()),
		slog.String("by", res.Session.Hash.Prefix()), slog.Bool("revoked", changed))
	return changed, nil
}

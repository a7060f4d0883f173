package sessionapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
)

// signOut ends the session the request names (header or cookie) for
// good, clears the session cookie and answers 204: the check of its
// request, then endCurrent.
func (a *API) signOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	const op = "sign_out"
	raw := a.sessionIDOf(r)
	if raw == "" {
		a.deny(ctx, w, op, reason.SessionMissing, nil)
		return
	}
	// Signing out needs what using the session needs: its id, and for a
	// session bound to a key (DPoP) a proof by that key. An unknown or
	// malformed id signs nothing out and answers the same 204, so
	// repeating sign-out is harmless and the answer reveals nothing.
	id, err := session.ParseID(raw)
	if err != nil {
		a.clearCookie(w)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch bound, err := a.cfg.Store.Session(ctx, id.Hash()); {
	case errors.Is(err, session.ErrNotFound):
	case err != nil:
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read session %s: %w", id.Hash().Prefix(), err))
		return
	default:
		if err := a.proofAtSignOut(ctx, r, bound); err != nil {
			a.deny(ctx, w, op, reason.CodeOf(err), err, slog.String("sessionId", bound.Hash.Prefix()))
			return
		}
	}
	a.endCurrent(ctx, w, id.Hash(), op)
}

// endCurrent ends the caller's current session h for good, once its
// request has been judged (signOut: the session id, and for a session
// bound to a key a proof by it; endOwn: the token, the session and its
// proof, checked by the authorizer's rules for this same method and URL,
// whose proof must not be checked a second time: a proof is used once).
// It clears the session cookie, records the sign-out and the end of the
// IdP session, and answers 204.
func (a *API) endCurrent(ctx context.Context, w http.ResponseWriter, h session.Hash, op string) {
	a.clearCookie(w)
	now := a.cfg.Now()
	s, revoked, err := a.cfg.Store.Revoke(ctx, h, now, session.CauseSignOut)
	switch {
	case errors.Is(err, session.ErrNotFound):
		w.WriteHeader(http.StatusNoContent)
		return
	case err != nil:
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("revoke session %s: %w", h.Prefix(), err))
		return
	}
	// A sign-out records when it happened and ends the IdP session, so
	// that neither an older token nor a refreshed token of that IdP session
	// starts another session. They are written for any session the id
	// names, even one already ended (by an admin, the session limit, or a
	// first sign-out whose writes failed): the user asked to sign out. A
	// repeat moves the sign-out time forward (tokens from before it cannot
	// start a session) and keeps the IdP session's first end.
	if err := a.cfg.Store.RecordSignOut(ctx, s.Environment, s.User, now); err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("record sign-out: %w", err))
		return
	}
	if s.IdPSession != "" {
		if err := a.cfg.Store.EndIdPSession(ctx, s.Environment, s.User.Issuer, s.IdPSession, now); err != nil {
			a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("record the end of the IdP session: %w", err))
			return
		}
	}
	a.log(ctx, slog.LevelInfo, slog.String("op", op), slog.String("decision", "allow"), slog.String("reason", string(reason.OK)),
		slog.String("environment", s.Environment), slog.String("userId", s.User.Subject), slog.String("sessionId", s.Hash.Prefix()), slog.Bool("revoked", revoked))
	w.WriteHeader(http.StatusNoContent)
}

// clearCookie removes the session cookie.
func (a *API) clearCookie(w http.ResponseWriter) {
	clear := a.cookie("", false, time.Time{}, time.Time{})
	clear.MaxAge = -1
	http.SetCookie(w, clear)
}

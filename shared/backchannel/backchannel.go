// Package backchannel receives OpenID Connect Back-Channel Logout 1.0
// logout tokens: when a user signs out at the identity provider, the IdP
// posts one to POST /backchannel-logout (form-encoded logout_token), and
// the app sessions of that IdP session end.
//
// With a sid, exactly the sessions created from tokens of that IdP session
// are revoked (sessions record the access token's sid). With only a sub,
// every session of that user at that issuer, in every environment. The
// token's jti is remembered, so a replay changes nothing. Answers are 200,
// or a JSON error (error and error_description): 400 invalid_request for
// a refused logout token, 503 temporarily_unavailable; always
// Cache-Control: no-store.
package backchannel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Path is the receiver's route.
const Path = "/backchannel-logout"

// Route is the receiver's route: public to API Gateway, since the signed
// logout token is the credential.
var Route = route.Route{Method: "POST", Path: Path, Public: true}

// Verifier verifies logout tokens.
type Verifier interface {
	VerifyLogout(ctx context.Context, raw string) (token.Logout, error)
	// SubjectIsSub reports whether the issuer's users are keyed by sub
	// (so a sub-only logout token names a user here).
	SubjectIsSub(issuer string) bool
}

// Store is what the receiver needs of storage.
type Store interface {
	RecordJTI(ctx context.Context, issuer, jti string, keepUntil time.Time) (bool, error)
	ForgetJTI(ctx context.Context, issuer, jti string) error
	IdPSessionHashes(ctx context.Context, issuer, sid string) ([]session.Hash, error)
	Session(ctx context.Context, h session.Hash) (session.Session, error)
	EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error
	Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error)
	revoke.Store
}

// Config configures a Receiver.
type Config struct {
	Verifier     Verifier
	Store        Store
	Environments []string
	Log          *slog.Logger
	Now          func() time.Time
}

// Receiver is the http.Handler of Path.
type Receiver struct{ cfg Config }

// New returns a Receiver.
func New(cfg Config) *Receiver {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{cfg: cfg}
}

// MaxBodyBytes caps the request body.
const MaxBodyBytes = 64 << 10

// jtiPrefix keeps logout tokens' jtis apart from SETs' in the store.
const jtiPrefix = "backchannel-logout:"

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		rc.refuse(ctx, w, http.StatusMethodNotAllowed, reason.Forbidden, errors.New("only POST"))
		return
	}
	raw, err := logoutToken(r)
	if err != nil {
		rc.refuse(ctx, w, http.StatusBadRequest, reason.TokenMalformed, err)
		return
	}
	lt, err := rc.cfg.Verifier.VerifyLogout(ctx, raw)
	if err != nil {
		status := http.StatusBadRequest
		if reason.StatusOf(reason.CodeOf(err)) == reason.Unavailable {
			status = http.StatusServiceUnavailable // the key set could not be read: the IdP may retry
		}
		rc.refuse(ctx, w, status, reason.CodeOf(err), verifyFailed{err})
		return
	}
	if lt.SessionID == "" && !rc.cfg.Verifier.SubjectIsSub(lt.Issuer) {
		rc.refuse(ctx, w, http.StatusBadRequest, reason.TokenMalformed,
			fmt.Errorf("issuer %q keys its users by another claim than sub: a logout token must carry sid", lt.Issuer))
		return
	}
	first, err := rc.cfg.Store.RecordJTI(ctx, lt.Issuer, jtiPrefix+lt.JTI, lt.RefusedFrom)
	if err != nil {
		rc.refuse(ctx, w, http.StatusServiceUnavailable, reason.DependencyUnavailable, fmt.Errorf("record the jti: %w", err))
		return
	}
	if !first {
		rc.refuse(ctx, w, http.StatusBadRequest, reason.TokenMalformed, errors.New("a replayed logout token (its jti was seen)"))
		return
	}
	n, err := rc.revoke(ctx, lt)
	if err != nil {
		// The jti is forgotten again, so that the IdP's retry is applied,
		// not refused as a replay (revoking is idempotent).
		if ferr := rc.cfg.Store.ForgetJTI(ctx, lt.Issuer, jtiPrefix+lt.JTI); ferr != nil {
			err = errors.Join(err, ferr)
		}
		rc.refuse(ctx, w, http.StatusServiceUnavailable, reason.DependencyUnavailable, err)
		return
	}
	rc.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "backchannel logout", slog.String("decision", "accept"), slog.String("reason", string(reason.OK)),
		slog.String("issuer", lt.Issuer), slog.String("userId", lt.Subject), slog.Bool("bySid", lt.SessionID != ""), slog.Int("revoked", n))
	w.WriteHeader(http.StatusOK)
}

// logoutToken reads the one logout_token of a form-encoded body.
func logoutToken(r *http.Request) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", errors.New("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return "", fmt.Errorf("the form cannot be read: %w", err)
	}
	vs := r.PostForm["logout_token"]
	if len(vs) != 1 || vs[0] == "" {
		return "", errors.New("want exactly one logout_token")
	}
	return vs[0], nil
}

// revoke ends the sessions the token names: those of its IdP session
// (only the user's own when the token also names the user), or all of its
// user's at its issuer. An IdP session that ended is also remembered in
// every environment, so that its tokens cannot start another session.
func (rc *Receiver) revoke(ctx context.Context, lt token.Logout) (int, error) {
	now := rc.cfg.Now()
	if lt.SessionID == "" {
		ended, err := revoke.User(ctx, rc.cfg.Store, revoke.Request{Environments: rc.cfg.Environments,
			User: session.UserKey{Issuer: lt.Issuer, Subject: lt.Subject}, At: now, Cause: session.CauseIdPLogout})
		return len(ended), err
	}
	for _, env := range rc.cfg.Environments {
		if err := rc.cfg.Store.EndIdPSession(ctx, env, lt.Issuer, lt.SessionID, now); err != nil {
			return 0, fmt.Errorf("record the end of the IdP session in %s: %w", env, err)
		}
	}
	// With both sid and sub, a session is the token's only if its user is
	// that sub; for an issuer whose users are keyed by another claim the
	// sid alone names it.
	var keep func(session.Session) bool
	if lt.Subject != "" && rc.cfg.Verifier.SubjectIsSub(lt.Issuer) {
		keep = func(s session.Session) bool {
			if s.User.Subject != lt.Subject {
				rc.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "backchannel logout", slog.String("warning", "a session of the IdP session belongs to another sub: left as it is"),
					slog.String("sessionId", s.Hash.Prefix()))
				return false
			}
			return true
		}
	}
	ended, err := revoke.IdPSession(ctx, rc.cfg.Store, lt.Issuer, lt.SessionID, now, session.CauseIdPLogout, keep)
	if errors.Is(err, revoke.ErrTooManyLinks) {
		// A retry would handle the same first ones: accepted, and said.
		rc.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "backchannel logout", slog.String("warning", "the IdP session has more sessions than one logout ends"),
			slog.String("issuer", lt.Issuer), slog.String("error", err.Error()))
		err = nil
	}
	return len(ended), err
}

// refuse answers 400 (or 503/405) with a JSON error (error and
// error_description, as Back-Channel Logout defines it) and logs why.
func (rc *Receiver) refuse(ctx context.Context, w http.ResponseWriter, status int, code reason.Code, err error) {
	rc.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "backchannel logout", slog.String("decision", "reject"), slog.String("reason", string(code)),
		slog.String("error", err.Error()))
	e := "invalid_request"
	if status == http.StatusServiceUnavailable {
		e = "temporarily_unavailable"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	desc := err.Error()
	switch {
	case status >= 500:
		desc = "try again later"
	case errors.As(err, new(verifyFailed)):
		desc = "the logout token is not valid" // the log says why; the caller is not authenticated
	}
	json.NewEncoder(w).Encode(map[string]string{"error": e, "error_description": desc})
}

// verifyFailed marks an error of the token's verification: logged in
// full, never echoed to the (unauthenticated) caller.
type verifyFailed struct{ err error }

func (e verifyFailed) Error() string { return e.err.Error() }
func (e verifyFailed) Unwrap() error { return e.err }

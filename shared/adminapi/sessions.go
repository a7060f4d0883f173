package adminapi

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/httpjson"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// userKey reads the user (path or query) and issuer (query; optional with
// one trusted issuer).
func (a *API) userKey(w http.ResponseWriter, r *http.Request, subject string) (session.UserKey, bool) {
	if subject == "" {
		problem.Fields(w, "which user?", []problem.FieldError{{Field: "user", Message: "required: the user's subject (the issuer's user claim)"}})
		return session.UserKey{}, false
	}
	iss, ok := a.issuer(w, r)
	if !ok {
		return session.UserKey{}, false
	}
	return session.UserKey{Issuer: iss, Subject: subject}, true
}

// issuer reads the issuer query parameter: a trusted issuer, optional
// when the deployment trusts one.
func (a *API) issuer(w http.ResponseWriter, r *http.Request) (string, bool) {
	iss := r.URL.Query().Get("issuer")
	if iss == "" {
		if len(a.cfg.Issuers) != 1 {
			problem.Fields(w, "which issuer?", []problem.FieldError{{Field: "issuer", Message: "required: this deployment trusts several issuers"}})
			return "", false
		}
		return a.cfg.Issuers[0], true
	}
	if !slices.Contains(a.cfg.Issuers, iss) {
		problem.Fields(w, "unknown issuer", []problem.FieldError{{Field: "issuer", Message: "not a trusted issuer of this deployment"}})
		return "", false
	}
	return iss, true
}

// sessionView is a session as the admin sees it: by its hash, never its id.
type sessionView struct {
	ID              string     `json:"id"`               // the SHA-256 of the session id, hex: what DELETE takes
	ShortID         string     `json:"shortId"`          // Hash.Prefix: what people read, the id the user's own list shows
	Device          string     `json:"device,omitempty"` // browser and platform of the sign-in, in a few words
	UserID          string     `json:"userId"`
	Issuer          string     `json:"issuer"`
	ClientID        string     `json:"clientId"`
	CreatedAt       time.Time  `json:"createdAt"`
	LastActivityAt  *time.Time `json:"lastActivityAt,omitempty"`
	StaySignedIn    bool       `json:"staySignedIn"`
	SettingsVersion int        `json:"settingsVersion"`
	ExpiresAt       *time.Time `json:"expiresAt,omitempty"`
	IdleExpiresAt   *time.Time `json:"idleExpiresAt,omitempty"`
}

func viewOf(s session.Session, now time.Time) sessionView {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	d := s.Settings.Evaluate(s.PolicyView(session.User{}).AsSignedIn(), now, policy.Enforcement{})
	return sessionView{ID: s.Hash.String(), ShortID: s.Hash.Prefix(), Device: s.Device, UserID: s.User.Subject, Issuer: s.User.Issuer, ClientID: s.ClientID, CreatedAt: s.CreatedAt,
		LastActivityAt: opt(s.LastActivityAt), StaySignedIn: s.StaySignedIn, SettingsVersion: s.SettingsVersion,
		ExpiresAt: opt(d.ExpiresAt), IdleExpiresAt: opt(d.IdleExpiresAt)}
}

// sessions lists a user's live sessions in the environment, oldest first.
func (a *API) sessions(w http.ResponseWriter, r *http.Request, _ token.Claims, env string) {
	user, ok := a.userKey(w, r, r.URL.Query().Get("user"))
	if !ok {
		return
	}
	p, ok := page(w, r)
	if !ok {
		return
	}
	list, next, err := a.cfg.Store.UserSessions(r.Context(), env, user, p)
	if err != nil {
		a.fail(w, r, "list sessions", err)
		return
	}
	now := a.cfg.Now()
	out := make([]sessionView, 0, len(list))
	for _, s := range list {
		out = append(out, viewOf(s, now))
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"sessions": out, "next": next})
}

// revokeSession revokes one session of the environment: 204, also when it
// was revoked already.
func (a *API) revokeSession(w http.ResponseWriter, r *http.Request, c token.Claims, env string) {
	h, err := session.ParseHash(r.PathValue("id"))
	if err != nil {
		problem.Fields(w, "bad session id", []problem.FieldError{{Field: "id", Message: "must be a session's id as listed (64 hex digits)"}})
		return
	}
	s, err := a.cfg.Store.Session(r.Context(), h)
	if errors.Is(err, session.ErrNotFound) || (err == nil && s.Environment != env) {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Reason: reason.SessionUnknown, Detail: "no such session in this environment"})
		return
	}
	if err != nil {
		a.fail(w, r, "revoke session", err)
		return
	}
	_, changed, err := a.cfg.Store.Revoke(r.Context(), h, a.cfg.Now(), session.CauseAdmin)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		a.fail(w, r, "revoke session", err)
		return
	}
	a.audit(r, c, env, "revoke session", slog.String("sessionId", h.Prefix()), slog.Bool("changed", changed))
	w.WriteHeader(http.StatusNoContent)
}

// revokeUser revokes all of a user's sessions in the environment.
func (a *API) revokeUser(w http.ResponseWriter, r *http.Request, c token.Claims, env string) {
	user, ok := a.userKey(w, r, r.PathValue("user"))
	if !ok {
		return
	}
	ended, err := revoke.User(r.Context(), a.cfg.Store, revoke.Request{Environments: []string{env}, User: user, At: a.cfg.Now(), Cause: session.CauseAdmin})
	if err != nil {
		a.fail(w, r, "revoke user", err)
		return
	}
	a.audit(r, c, env, "revoke user", slog.String("user", user.Subject), slog.Int("revoked", len(ended)))
	httpjson.Write(w, http.StatusOK, map[string]any{"revoked": len(ended)})
}

// Package adminapi is the admin API of SPEC section 7 on a plain net/http
// mux: environments, versioned settings (ETag/If-Match), their history,
// presets, session listing and revocation, and audit reports.
//
// Every call needs a bearer token from a trusted issuer whose role claim
// holds the admin role, globally ("sessionguard-admin") or for the
// environment ("sessionguard-admin:contoso-prod"). The API verifies the
// token itself and never reads identity from headers or an authorizer
// context, which a caller could forge.
package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Verifier verifies a bearer token; its claims must carry roles.
type Verifier interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// Store is what the admin API needs of storage.
type Store interface {
	Settings(ctx context.Context, env string) (policy.Settings, int, error)
	PutSettings(ctx context.Context, c session.SettingsChange) error
	History(ctx context.Context, env string, p session.Page) ([]session.SettingsChange, string, error)
	Session(ctx context.Context, h session.Hash) (session.Session, error)
	Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error)
	revoke.Store
	UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error)
	Reports(ctx context.Context, env string, p session.Page) ([]session.Report, string, error)
}

// Config configures the API.
type Config struct {
	Verifier     Verifier
	Store        Store
	Environments []string // the environments of this deployment
	// Issuers are the trusted issuers; with exactly one, the issuer query
	// parameter of the user routes may be left out.
	Issuers   []string
	Limits    policy.Limits // zero: policy.DefaultLimits
	AdminRole string        // default "sessionguard-admin"
	// AdminIssuers are the trusted issuers whose tokens may carry the
	// admin role (config.Config.AdminIssuers): a token of any other
	// issuer is no admin's, whatever its roles. Empty: no one is.
	AdminIssuers []string
	Console      Console // the console's sign-in
	// Enforcement is the deployment's: the authorizer cache TTL (Horizon),
	// whether policy checks run and their slack. It sizes the
	// revocation-latency budget.
	Enforcement policy.Enforcement
	// Transmitters are the Shared Signals transmitters; Streams manages
	// this receiver's stream at each (nil: no transmitters).
	Transmitters []string
	Streams      Streams
	StreamStore  StreamStore
	Log          *slog.Logger
	Now          func() time.Time
}

// MaxBodyBytes caps a settings document.
const MaxBodyBytes = 64 << 10

// API serves the admin routes.
type API struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AdminRole == "" {
		cfg.AdminRole = "sessionguard-admin"
	}
	if cfg.Limits == (policy.Limits{}) {
		cfg.Limits = policy.DefaultLimits()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	allowed := map[string][]string{}
	for _, r := range a.routes() {
		a.mux.HandleFunc(r.Pattern(), r.h)
		allowed[r.Path] = append(allowed[r.Path], r.Method)
	}
	for pattern, methods := range allowed {
		allow := strings.Join(methods, ", ")
		a.mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", allow)
			problem.Write(w, problem.Details{Status: http.StatusMethodNotAllowed, Detail: "allowed: " + allow})
		})
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Detail: "no such route: " + r.URL.Path})
	})
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type handled struct {
	route.Route
	h http.HandlerFunc
}

// routes is the API's one route table: behind the authorizer, except the
// console's files and the OpenAPI document, which anyone may read (the
// console's calls carry the admin's token).
func (a *API) routes() []handled {
	auth := func(method, path string, h http.HandlerFunc) handled {
		return handled{route.Route{Method: method, Path: path}, h}
	}
	public := func(method, path string, h http.HandlerFunc) handled {
		return handled{route.Route{Method: method, Path: path, Public: true}, h}
	}
	return []handled{
		auth("GET", "/environments", a.environments),
		auth("GET", "/presets", a.presets),
		auth("GET", "/limits", a.limits),
		auth("GET", "/environments/{env}/settings", a.getSettings),
		auth("PUT", "/environments/{env}/settings", a.putSettings),
		auth("GET", "/environments/{env}/settings/history", a.history),
		auth("GET", "/environments/{env}/sessions", a.sessions),
		auth("DELETE", "/environments/{env}/sessions/{id}", a.revokeSession),
		auth("POST", "/environments/{env}/users/{user}/revoke", a.revokeUser),
		auth("GET", "/environments/{env}/audits", a.audits),
		auth("GET", "/environments/{env}/budget", a.budget),
		auth("GET", "/transmitters", a.transmitters),
		auth("PUT", "/transmitters/stream", a.setupStream),
		auth("DELETE", "/transmitters/stream", a.resetStream),
		auth("POST", "/transmitters/stream/verify", a.verifyStream),
		auth("PUT", "/transmitters/stream/status", a.streamStatus),
		public("GET", "/console/{file...}", a.console),
		public("GET", "/openapi.json", a.openapi),
	}
}

// Routes are the routes the API serves.
func Routes() []route.Route {
	var out []route.Route
	for _, r := range (*API)(nil).routes() {
		out = append(out, r.Route)
	}
	return out
}

// caller verifies the request's token; it writes the 401 itself.
func (a *API) caller(w http.ResponseWriter, r *http.Request) (token.Claims, bool) {
	raw, code := authorizer.BearerToken(r.Header.Get("Authorization"))
	if code != reason.OK {
		problem.Deny(w, code, "an admin API call needs a bearer token")
		return token.Claims{}, false
	}
	claims, err := a.cfg.Verifier.Verify(r.Context(), raw)
	if err != nil {
		c := reason.CodeOf(err)
		a.cfg.Log.LogAttrs(r.Context(), slog.LevelWarn, "admin", slog.String("decision", "deny"), slog.String("reason", string(c)), slog.String("error", err.Error()))
		problem.Deny(w, c, "the token was not accepted")
		return token.Claims{}, false
	}
	return claims, true
}

// isAdmin reports whether c carries the admin role for env (or for every
// environment), from an issuer that grants it.
func (a *API) isAdmin(c token.Claims, env string) bool {
	if !slices.Contains(a.cfg.AdminIssuers, c.Issuer) {
		return false
	}
	return slices.Contains(c.Roles, a.cfg.AdminRole) || (env != "" && slices.Contains(c.Roles, a.cfg.AdminRole+":"+env))
}

// admin authorizes a call on env: 401 without a valid token, 403 without
// the role, 404 for an environment this deployment does not have.
func (a *API) admin(w http.ResponseWriter, r *http.Request) (token.Claims, string, bool) {
	c, ok := a.caller(w, r)
	if !ok {
		return c, "", false
	}
	env := r.PathValue("env")
	if !a.isAdmin(c, env) {
		a.cfg.Log.LogAttrs(r.Context(), slog.LevelWarn, "admin", slog.String("decision", "deny"), slog.String("reason", string(reason.Forbidden)),
			slog.String("userId", c.Subject), slog.String("environment", env))
		problem.Deny(w, reason.Forbidden, "the token does not carry the admin role for this environment")
		return c, "", false
	}
	if !slices.Contains(a.cfg.Environments, env) {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Reason: reason.EnvironmentUnknown,
			Detail: "no such environment", Errors: []problem.FieldError{{Field: "env", Message: fmt.Sprintf("%q is not an environment of this deployment", truncate(env, 64))}}})
		return c, "", false
	}
	return c, env, true
}

// fail answers a store error: a bad cursor is the caller's; anything else
// is logged and answered 503 dependency_unavailable.
func (a *API) fail(w http.ResponseWriter, r *http.Request, action string, err error) {
	if errors.Is(err, session.ErrBadCursor) {
		problem.Fields(w, "bad page cursor", []problem.FieldError{{Field: "cursor", Message: "not a cursor this API issued"}})
		return
	}
	a.cfg.Log.LogAttrs(r.Context(), slog.LevelError, "admin", slog.String("action", action), slog.String("reason", string(reason.DependencyUnavailable)), slog.String("error", err.Error()))
	problem.Deny(w, reason.DependencyUnavailable, "")
}

func (a *API) audit(r *http.Request, c token.Claims, env, action string, attrs ...slog.Attr) {
	attrs = append([]slog.Attr{slog.String("action", action), slog.String("userId", c.Subject), slog.String("environment", env)}, attrs...)
	a.cfg.Log.LogAttrs(r.Context(), slog.LevelInfo, "admin", attrs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// page reads the limit and cursor query parameters.
func page(w http.ResponseWriter, r *http.Request) (session.Page, bool) {
	var p session.Page
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			problem.Fields(w, "bad page size", []problem.FieldError{{Field: "limit", Message: "must be a whole number from 1 to 100"}})
			return p, false
		}
		p.Limit = n
	}
	p.Cursor = q.Get("cursor")
	return p, true
}

type environmentView struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// environments lists the environments the caller administers.
func (a *API) environments(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r)
	if !ok {
		return
	}
	out := []environmentView{}
	for _, env := range a.cfg.Environments {
		if !a.isAdmin(c, env) {
			continue
		}
		_, v, err := a.cfg.Store.Settings(r.Context(), env)
		if err != nil {
			a.fail(w, r, "environments", err)
			return
		}
		out = append(out, environmentView{env, v})
	}
	if len(out) == 0 {
		problem.Deny(w, reason.Forbidden, "the token does not carry the admin role for any environment")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"environments": out})
}

func (a *API) presets(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.caller(w, r); ok {
		writeJSON(w, http.StatusOK, map[string]any{"presets": policy.Presets()})
	}
}

func (a *API) limits(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.caller(w, r); ok {
		writeJSON(w, http.StatusOK, a.cfg.Limits)
	}
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) {
	_, env, ok := a.admin(w, r)
	if !ok {
		return
	}
	s, v, err := a.cfg.Store.Settings(r.Context(), env)
	if err != nil {
		a.fail(w, r, "get settings", err)
		return
	}
	w.Header().Set("ETag", etag(v))
	writeJSON(w, http.StatusOK, s)
}

// budget is the environment's revocation-latency budget: at worst, how
// long a revoked, disabled or idle session can still get through, from its
// current settings and the deployment's enforcement.
func (a *API) budget(w http.ResponseWriter, r *http.Request) {
	_, env, ok := a.admin(w, r)
	if !ok {
		return
	}
	s, v, err := a.cfg.Store.Settings(r.Context(), env)
	if err != nil {
		a.fail(w, r, "get settings", err)
		return
	}
	b := s.Budget(a.cfg.Enforcement)
	secs := func(d time.Duration) int { return int(d / time.Second) }
	out := map[string]any{
		"environment": env, "settingsVersion": v,
		"cacheTtlSeconds":                  secs(a.cfg.Enforcement.Horizon),
		"revocationSeconds":                secs(b.Revocation),
		"idleEndsEarlySeconds":             secs(b.IdleEarly),
		"idleEndsEarlySecondsStaySignedIn": secs(b.IdleEarlyStaySignedIn),
		"policyChecks":                     b.PolicyCheck != nil,
		"howToLower": "Revocations bite after the authorizer cache TTL: lower ReauthorizeEvery (the template parameter; 0 turns the cache off, at one authorizer call per request). " +
			"A disable found by the policy check takes up to the check interval plus the schedule's slack: lower policyCheckIntervalMinutes here, " +
			"or push revocations (Shared Signals, the Cognito rule, back-channel logout) so that no check has to find them.",
	}
	if b.PolicyCheck != nil {
		out["policyCheckSeconds"] = secs(*b.PolicyCheck)
	}
	writeJSON(w, http.StatusOK, out)
}

// matches reports whether an If-Match header names the current version.
// "*" does not: it would let a write skip the lost-update check.
func matches(ifMatch string, version int) bool {
	want := etag(version)
	for _, tag := range strings.Split(ifMatch, ",") {
		if strings.TrimSpace(tag) == want {
			return true
		}
	}
	return false
}

// putSettings replaces an environment's settings: with a settings document
// as the body, or with ?preset=<name> and no body. If-Match must carry
// the ETag read: 428 without it, 412 when someone else wrote first.
// ?applyToRunning=true also applies the change to running sessions.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request) {
	c, env, ok := a.admin(w, r)
	if !ok {
		return
	}
	ifMatch := r.Header.Get("If-Match")
	if ifMatch == "" || strings.TrimSpace(ifMatch) == "*" {
		problem.Write(w, problem.Details{Status: http.StatusPreconditionRequired, Detail: "send the ETag of the settings you read in If-Match",
			Errors: []problem.FieldError{{Field: "If-Match", Message: `required: the ETag from GET, e.g. "3"`}}})
		return
	}
	q := r.URL.Query()
	apply := false
	switch v := q.Get("applyToRunning"); v {
	case "", "false":
	case "true":
		apply = true
	default:
		problem.Fields(w, "bad applyToRunning", []problem.FieldError{{Field: "applyToRunning", Message: "must be true or false"}})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		problem.Write(w, problem.Details{Status: http.StatusRequestEntityTooLarge, Detail: "the settings document is too large",
			Errors: []problem.FieldError{{Field: "body", Message: fmt.Sprintf("at most %d bytes", MaxBodyBytes)}}})
		return
	}
	presetName := q.Get("preset")
	var next policy.Settings
	if presetName != "" {
		p, found := policy.PresetNamed(presetName)
		if !found {
			problem.Fields(w, "unknown preset", []problem.FieldError{{Field: "preset", Message: "not one of the presets listed by GET /presets"}})
			return
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			problem.Fields(w, "a preset replaces the whole document", []problem.FieldError{{Field: "body", Message: "must be empty when preset is given"}})
			return
		}
		next = p.Settings
		if err := next.Validate(a.cfg.Limits); err != nil {
			writeFieldErrors(w, "preset "+presetName+" does not fit this deployment's limits (SETTINGS_LIMITS)", err)
			return
		}
	} else if next, err = policy.Decode(body, a.cfg.Limits); err != nil {
		writeFieldErrors(w, "the settings document is not valid", err)
		return
	}
	cur, version, err := a.cfg.Store.Settings(r.Context(), env)
	if err != nil {
		a.fail(w, r, "put settings", err)
		return
	}
	if !matches(ifMatch, version) {
		a.stale(w, version)
		return
	}
	change := session.SettingsChange{Environment: env, Version: version + 1, At: a.cfg.Now(), Actor: actor(c),
		Old: cur, New: next, ApplyToRunning: apply, Preset: presetName}
	if err := a.cfg.Store.PutSettings(r.Context(), change); errors.Is(err, session.ErrVersionConflict) {
		_, latest, _ := a.cfg.Store.Settings(r.Context(), env)
		a.stale(w, latest)
		return
	} else if err != nil {
		a.fail(w, r, "put settings", err)
		return
	}
	a.audit(r, c, env, "put settings", slog.Int("version", change.Version), slog.Bool("applyToRunning", apply), slog.String("preset", presetName))
	w.Header().Set("ETag", etag(change.Version))
	writeJSON(w, http.StatusOK, next)
}

func (a *API) stale(w http.ResponseWriter, current int) {
	w.Header().Set("ETag", etag(current))
	problem.Write(w, problem.Details{Status: http.StatusPreconditionFailed,
		Detail: "the settings changed since you read them (now version " + strconv.Itoa(current) + "); read them again and reapply your change",
		Errors: []problem.FieldError{{Field: "If-Match", Message: "stale: the current ETag is " + etag(current)}}})
}

func writeFieldErrors(w http.ResponseWriter, detail string, err error) {
	var fe policy.FieldErrors
	if !errors.As(err, &fe) {
		problem.Fields(w, detail, []problem.FieldError{{Field: "body", Message: err.Error()}})
		return
	}
	out := make([]problem.FieldError, len(fe))
	for i, e := range fe {
		out[i] = problem.FieldError{Field: e.Field, Message: e.Message}
	}
	problem.Fields(w, detail, out)
}

// actor names the admin in the history: issuer and subject.
func actor(c token.Claims) string { return c.Subject + " (" + c.Issuer + ")" }

func (a *API) history(w http.ResponseWriter, r *http.Request) {
	_, env, ok := a.admin(w, r)
	if !ok {
		return
	}
	p, ok := page(w, r)
	if !ok {
		return
	}
	changes, next, err := a.cfg.Store.History(r.Context(), env, p)
	if err != nil {
		a.fail(w, r, "history", err)
		return
	}
	if changes == nil {
		changes = []session.SettingsChange{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": changes, "next": next})
}

// userKey reads the user (path or query) and issuer (query; optional with
// one trusted issuer).
func (a *API) userKey(w http.ResponseWriter, r *http.Request, subject string) (session.UserKey, bool) {
	if subject == "" {
		problem.Fields(w, "which user?", []problem.FieldError{{Field: "user", Message: "required: the user's subject (the issuer's user claim)"}})
		return session.UserKey{}, false
	}
	iss := r.URL.Query().Get("issuer")
	if iss == "" {
		if len(a.cfg.Issuers) != 1 {
			problem.Fields(w, "which issuer?", []problem.FieldError{{Field: "issuer", Message: "required: this deployment trusts several issuers"}})
			return session.UserKey{}, false
		}
		iss = a.cfg.Issuers[0]
	} else if !slices.Contains(a.cfg.Issuers, iss) {
		problem.Fields(w, "unknown issuer", []problem.FieldError{{Field: "issuer", Message: "not a trusted issuer of this deployment"}})
		return session.UserKey{}, false
	}
	return session.UserKey{Issuer: iss, Subject: subject}, true
}

// sessionView is a session as the admin sees it: by its hash, never its id.
type sessionView struct {
	ID              string     `json:"id"` // the SHA-256 of the session id, hex
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
	return sessionView{ID: s.Hash.String(), UserID: s.User.Subject, Issuer: s.User.Issuer, ClientID: s.ClientID, CreatedAt: s.CreatedAt,
		LastActivityAt: opt(s.LastActivityAt), StaySignedIn: s.StaySignedIn, SettingsVersion: s.SettingsVersion,
		ExpiresAt: opt(d.ExpiresAt), IdleExpiresAt: opt(d.IdleExpiresAt)}
}

func (a *API) sessions(w http.ResponseWriter, r *http.Request) {
	_, env, ok := a.admin(w, r)
	if !ok {
		return
	}
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
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out, "next": next})
}

func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) {
	c, env, ok := a.admin(w, r)
	if !ok {
		return
	}
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

func (a *API) revokeUser(w http.ResponseWriter, r *http.Request) {
	c, env, ok := a.admin(w, r)
	if !ok {
		return
	}
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
	writeJSON(w, http.StatusOK, map[string]any{"revoked": len(ended)})
}

func (a *API) audits(w http.ResponseWriter, r *http.Request) {
	_, env, ok := a.admin(w, r)
	if !ok {
		return
	}
	p, ok := page(w, r)
	if !ok {
		return
	}
	reports, next, err := a.cfg.Store.Reports(r.Context(), env, p)
	if err != nil {
		a.fail(w, r, "audits", err)
		return
	}
	type view struct {
		At     time.Time       `json:"at"`
		Report json.RawMessage `json:"report"`
	}
	out := make([]view, 0, len(reports))
	for _, rep := range reports {
		out = append(out, view{rep.At, rep.Body})
	}
	writeJSON(w, http.StatusOK, map[string]any{"reports": out, "next": next})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

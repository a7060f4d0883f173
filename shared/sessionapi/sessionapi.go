// Package sessionapi is the sessions HTTP API of SPEC section 3: sign-in
// (POST /sessions), the current session (GET /sessions/current) and
// sign-out (DELETE /sessions/current). It is a plain http.Handler, served
// in Lambda through aws-lambda-go-api-proxy and locally as it is.
package sessionapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/jsonread"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Verifier verifies an access token.
type Verifier interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// Store is what the sessions API needs of storage.
type Store interface {
	Settings(ctx context.Context, env string) (policy.Settings, int, error)
	User(ctx context.Context, env string, user session.UserKey) (session.User, error)
	Session(ctx context.Context, h session.Hash) (session.Session, error)
	Create(ctx context.Context, s session.Session, limit session.Limit, live func(session.Session) bool) ([]session.Session, error)
	Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error)
	RecordSignOut(ctx context.Context, env string, user session.UserKey, at time.Time) error
	// EndIdPSession and IdPSessionEnded remember the IdP sessions (sid)
	// that a sign-out ended, so that their tokens, refreshed or not,
	// cannot start another session.
	EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error
	IdPSessionEnded(ctx context.Context, env, issuer, sid string) (time.Time, bool, error)
	// RecordUsername remembers the token's username (Cognito's) for its
	// subject, so a revocation that names only the username finds the
	// user's sessions, and the directory can look the user up.
	RecordUsername(ctx context.Context, issuer, subject, username string) error
}

// Config configures the API.
type Config struct {
	Verifier     Verifier
	Store        Store
	Authorizer   *authorizer.Authorizer // judges GET /sessions/current
	Environments authorizer.Environments
	Enforcement  policy.Enforcement
	Sources      authorizer.Sources
	Log          *slog.Logger
	Now          func() time.Time
}

// API serves the sessions routes.
type API struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the API with its routes.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Sources = cfg.Sources.WithDefaults()
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	for _, r := range a.routes() {
		a.mux.HandleFunc(r.Pattern(), r.h)
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Detail: "no such route: " + r.Method + " " + r.URL.Path})
	})
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

type handled struct {
	route.Route
	h http.HandlerFunc
}

// routes is the API's one route table. Every route is public to API
// Gateway: sign-in checks the token itself, and the session routes judge
// the session as the authorizer does.
func (a *API) routes() []handled {
	return []handled{
		{route.Route{Method: "POST", Path: "/sessions", Public: true}, a.signIn},
		{route.Route{Method: "GET", Path: "/sessions/current", Public: true}, a.current},
		{route.Route{Method: "DELETE", Path: "/sessions/current", Public: true}, a.signOut},
		{route.Route{Method: "POST", Path: "/sessions/current/activity", Public: true}, a.keepAlive},
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

// signInBody is the optional sign-in request body.
type signInBody struct {
	StaySignedIn bool `json:"staySignedIn"`
}

// View is a session as the API shows it: never the raw id except once, in
// the sign-in response.
type View struct {
	SessionID       string     `json:"sessionId,omitempty"`
	SessionHash     string     `json:"sessionHashPrefix"`
	Environment     string     `json:"environment"`
	UserID          string     `json:"userId"`
	ClientID        string     `json:"clientId,omitempty"`
	StaySignedIn    bool       `json:"staySignedIn"`
	SettingsVersion int        `json:"settingsVersion"`
	CreatedAt       time.Time  `json:"createdAt"`
	ExpiresAt       *time.Time `json:"expiresAt,omitempty"`
	WarnAt          *time.Time `json:"warnAt,omitempty"`
	IdleExpiresAt   *time.Time `json:"idleExpiresAt,omitempty"`
	// IdleWarnAt is when an app should warn of the idle end: 5 minutes
	// before it, or half the idle timeout before it when that is shorter,
	// so a short timeout does not warn from its first second.
	IdleWarnAt    *time.Time `json:"idleWarnAt,omitempty"`
	EndedSessions int        `json:"endedSessions,omitempty"`
	// Now is the server's time of the answer: a client counts down to the
	// times above from it, not from its own clock.
	Now time.Time `json:"now"`
}

func viewOf(s session.Session, d policy.Decision) View {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	v := View{
		SessionHash: s.Hash.Prefix(), Environment: s.Environment, UserID: s.User.Subject, ClientID: s.ClientID,
		StaySignedIn: s.StaySignedIn, SettingsVersion: s.SettingsVersion, CreatedAt: s.CreatedAt.UTC(),
		ExpiresAt: opt(d.ExpiresAt), WarnAt: opt(d.WarnAt), IdleExpiresAt: opt(d.IdleExpiresAt),
	}
	if !d.IdleExpiresAt.IsZero() {
		v.IdleWarnAt = opt(d.IdleExpiresAt.Add(-min(5*time.Minute, s.Settings.IdleTimeout(s.StaySignedIn)/2)))
	}
	return v
}

// details are what a client is told for each deny: enough to act on,
// nothing internal.
var details = map[reason.Code]string{
	reason.TokenMissing:          "send an access token as Authorization: Bearer <token>",
	reason.TokenMalformed:        "the access token is not a well-formed JWT",
	reason.TokenSignature:        "the access token's signature does not verify",
	reason.TokenExpired:          "the access token has expired",
	reason.TokenNotYetValid:      "the access token is not valid yet",
	reason.TokenIssuer:           "the access token's issuer is not trusted",
	reason.TokenAudience:         "the access token is not meant for this API",
	reason.TokenTooLarge:         "the access token is too large",
	reason.SessionMissing:        "send the session id in X-Session-Id or the session cookie",
	reason.SessionUnknown:        "no such session: sign in again",
	reason.BindingUser:           "the session belongs to another user",
	reason.BindingEnvironment:    "the session belongs to another environment",
	reason.SessionExpired:        "the session has reached its maximum lifetime: sign in again",
	reason.SessionIdle:           "the session ended after inactivity: sign in again",
	reason.SessionRevoked:        "the session was ended: sign in again",
	reason.UserDisabled:          "the account is not allowed to sign in",
	reason.PolicyCheckStale:      "the account could not be re-checked in time: sign in again",
	reason.EnvironmentUnknown:    "this environment is not served here",
	reason.DependencyUnavailable: "",
	reason.Forbidden:             "not allowed",
}

func (a *API) deny(ctx context.Context, w http.ResponseWriter, op string, c reason.Code, cause error, attrs ...slog.Attr) {
	level := slog.LevelInfo
	if c == reason.DependencyUnavailable {
		level = slog.LevelWarn
	}
	attrs = append(attrs, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(c)))
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	a.log(ctx, level, attrs...)
	problem.Deny(w, c, details[c])
}

func (a *API) log(ctx context.Context, level slog.Level, attrs ...slog.Attr) {
	if a.cfg.Log != nil {
		a.cfg.Log.LogAttrs(ctx, level, "sessions", attrs...)
	}
}

func (a *API) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	const op = "sign_in"
	raw, code := authorizer.BearerToken(r.Header.Get("Authorization"))
	if code != reason.OK {
		a.deny(ctx, w, op, code, nil)
		return
	}
	claims, err := a.cfg.Verifier.Verify(ctx, raw)
	if err != nil {
		a.deny(ctx, w, op, reason.CodeOf(err), err)
		return
	}
	env, err := a.cfg.Environments.Resolve(envCandidate(r, a.cfg.Environments))
	if err != nil {
		a.deny(ctx, w, op, reason.EnvironmentUnknown, err)
		return
	}
	body, errs := readSignIn(r)
	if errs != nil {
		problem.Fields(w, "the sign-in body is not valid", errs)
		return
	}
	user := session.UserKey{Issuer: claims.Issuer, Subject: claims.Subject}
	who := []slog.Attr{slog.String("environment", env), slog.String("userId", claims.Subject)}
	u, err := a.cfg.Store.User(ctx, env, user)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read user state: %w", err), who...)
		return
	}
	settings, version, err := a.cfg.Store.Settings(ctx, env)
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("read settings of %s: %w", env, err), who...)
		return
	}
	if why, err := a.reauthenticationNeeded(ctx, env, u, claims, settings); err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err, who...)
		return
	} else if why != "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="sign in again", max_age="0"`)
		a.log(ctx, slog.LevelInfo, append(who, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(reason.SessionRevoked)), slog.String("why", why))...)
		problem.Write(w, problem.Details{Status: http.StatusUnauthorized, Reason: reason.SessionRevoked,
			Detail: why + ": sign in again with credentials (prompt=login)"})
		return
	}
	if u.Disabled {
		a.deny(ctx, w, op, reason.UserDisabled, nil, who...)
		return
	}
	id, err := session.NewID()
	if err != nil {
		a.deny(ctx, w, op, reason.DependencyUnavailable, err, who...)
		return
	}
	now := a.cfg.Now()
	s := session.Session{
		Hash: id.Hash(), Environment: env, User: user, ClientID: claims.ClientID, IdPSession: claims.SessionID,
		CreatedAt: now, AuthTime: claims.AuthenticatedAt(), StaySignedIn: body.StaySignedIn && settings.StaySignedIn.Allowed,
		SettingsVersion: version, Settings: settings,
	}
	live := func(o session.Session) bool {
		return o.Settings.Evaluate(o.PolicyView(u).AsSignedIn(), now, policy.Enforcement{}).Allowed()
	}
	if claims.Username != "" {
		if err := a.cfg.Store.RecordUsername(ctx, user.Issuer, claims.Subject, claims.Username); err != nil {
			a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("record the username: %w", err), who...)
			return
		}
	}
	ended, err := a.cfg.Store.Create(ctx, s, session.Limit{Max: settings.MaxSessionsPerUser, OnLimit: settings.OnSessionLimit}, live)
	switch {
	case errors.Is(err, session.ErrLimitReached):
		a.log(ctx, slog.LevelInfo, append(who, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(reason.Forbidden)), slog.String("error", "session limit"))...)
		problem.Write(w, problem.Details{Status: http.StatusForbidden, Reason: reason.Forbidden,
			Detail: fmt.Sprintf("the user already holds the most sessions allowed here (%d): sign out of one first", settings.MaxSessionsPerUser)})
		return
	case err != nil:
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("create session: %w", err), who...)
		return
	}
	d := settings.Evaluate(s.PolicyView(u).Presenting(claims.ClientID), now, policy.Enforcement{})
	v := viewOf(s, d)
	v.SessionID = id.Reveal()
	v.EndedSessions = len(ended)
	v.Now = now.UTC()
	http.SetCookie(w, a.cookie(id.Reveal(), s.StaySignedIn, d.ExpiresAt, now))
	a.log(ctx, slog.LevelInfo, append(who, slog.String("op", op), slog.String("decision", "allow"), slog.String("reason", string(reason.OK)),
		slog.String("sessionId", s.Hash.Prefix()), slog.Bool("staySignedIn", s.StaySignedIn), slog.Int("endedSessions", len(ended)))...)
	writeJSON(w, http.StatusCreated, v)
}

// reauthenticationNeeded says why claims cannot start a session for u in
// env after a sign-out or a revocation, or "" when they can:
//   - a token of an IdP session (sid) that a sign-out or a logout ended is
//     refused, whatever its iat: refreshing a token does not undo a
//     sign-out;
//   - a token whose authentication (auth_time, else iat) is not later than
//     the last sign-out or the user's revocation point (to the second,
//     failing closed on ties) is refused;
//   - with strictReauthentication, after a sign-out a token must also
//     prove a new authentication: an auth_time (checked above) or a sid
//     (not ended, checked above); a token with neither is refused.
func (a *API) reauthenticationNeeded(ctx context.Context, env string, u session.User, c token.Claims, s policy.Settings) (string, error) {
	if c.SessionID != "" {
		_, ended, err := a.cfg.Store.IdPSessionEnded(ctx, env, c.Issuer, c.SessionID)
		if err != nil {
			return "", fmt.Errorf("read whether the token's IdP session ended: %w", err)
		}
		if ended {
			return "this token's IdP session was signed out", nil
		}
	}
	authAt := c.AuthenticatedAt()
	for _, cut := range []time.Time{u.SignedOutAt, u.SessionsValidFrom} {
		if !cut.IsZero() && !authAt.After(cut.Truncate(time.Second)) {
			return "this token's sign-in predates the user's last sign-out or revocation", nil
		}
	}
	if s.StrictReauthentication && !u.SignedOutAt.IsZero() && c.AuthTime.IsZero() && c.SessionID == "" {
		return "after a sign-out this environment needs a token from a new sign-in (auth_time or sid), and this one carries neither", nil
	}
	return "", nil
}

// cookie is the session cookie: __Host- (Secure, Path=/, no Domain),
// HttpOnly, SameSite=Lax. A stay-signed-in session's cookie persists until
// the session's absolute end, or 400 days (the browsers' cap) when it has
// none; any other session's cookie ends with the browser.
func (a *API) cookie(value string, persistent bool, expiresAt, now time.Time) *http.Cookie {
	c := &http.Cookie{Name: a.cfg.Sources.SessionCookie, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if persistent {
		c.MaxAge = 400 * 24 * 3600
		if !expiresAt.IsZero() {
			c.MaxAge = int(expiresAt.Sub(now).Seconds())
		}
	}
	return c
}

func (a *API) current(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := authorizer.Identity{
		Authorization: r.Header.Get("Authorization"),
		SessionID:     a.sessionIDOf(r),
		Environment:   envCandidate(r, a.cfg.Environments),
	}
	res := a.cfg.Authorizer.Check(ctx, id) // judging only: no activity is recorded
	if !res.Allowed() {
		a.deny(ctx, w, "current", res.Reason, res.Err)
		return
	}
	v := viewOf(res.Session, res.Decision)
	v.Now = a.cfg.Now().UTC()
	writeJSON(w, http.StatusOK, v)
}

// keepAlive is the user's explicit "keep working": it records activity
// now, even inside the activity interval that rate-limits the
// authorizer's writes, so the idle end moves at once; the answer is the
// session judged again.
func (a *API) keepAlive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := authorizer.Identity{
		Authorization: r.Header.Get("Authorization"),
		SessionID:     a.sessionIDOf(r),
		Environment:   envCandidate(r, a.cfg.Environments),
	}
	res := a.cfg.Authorizer.Check(ctx, id)
	if !res.Allowed() {
		a.deny(ctx, w, "keep_alive", res.Reason, res.Err)
		return
	}
	if err := a.cfg.Authorizer.KeepAlive(ctx, res); err != nil {
		a.deny(ctx, w, "keep_alive", reason.DependencyUnavailable, err)
		return
	}
	if res = a.cfg.Authorizer.Check(ctx, id); !res.Allowed() {
		a.deny(ctx, w, "keep_alive", res.Reason, res.Err)
		return
	}
	v := viewOf(res.Session, res.Decision)
	v.Now = a.cfg.Now().UTC()
	writeJSON(w, http.StatusOK, v)
}

func (a *API) signOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	const op = "sign_out"
	raw := a.sessionIDOf(r)
	if raw == "" {
		a.deny(ctx, w, op, reason.SessionMissing, nil)
		return
	}
	// Signing out needs only the session id: holding it is what using the
	// session needs too. An unknown or malformed id signs nothing out and
	// answers the same 204, so repeating sign-out is harmless and the
	// answer reveals nothing.
	clear := a.cookie("", false, time.Time{}, time.Time{})
	clear.MaxAge = -1
	http.SetCookie(w, clear)
	id, err := session.ParseID(raw)
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	now := a.cfg.Now()
	s, revoked, err := a.cfg.Store.Revoke(ctx, id.Hash(), now, session.CauseSignOut)
	switch {
	case errors.Is(err, session.ErrNotFound):
		w.WriteHeader(http.StatusNoContent)
		return
	case err != nil:
		a.deny(ctx, w, op, reason.DependencyUnavailable, fmt.Errorf("revoke session %s: %w", id.Hash().Prefix(), err))
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

func (a *API) sessionIDOf(r *http.Request) string {
	if v := r.Header.Get(a.cfg.Sources.SessionHeader); v != "" {
		return v
	}
	if c, err := r.Cookie(a.cfg.Sources.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// envCandidate reads the environment from the configured source.
func envCandidate(r *http.Request, e authorizer.Environments) string {
	switch e.Source {
	case "header":
		return r.Header.Get(e.Name)
	case "host":
		return r.Host
	case "stage":
		if sv, ok := core.GetStageVarsFromContextV2(r.Context()); ok {
			return sv[e.Name]
		}
	}
	return ""
}

const maxBody = 4 << 10

func readSignIn(r *http.Request) (signInBody, []problem.FieldError) {
	var b signInBody
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return b, []problem.FieldError{{Field: "(body)", Message: "could not be read"}}
	}
	if len(data) > maxBody {
		return b, []problem.FieldError{{Field: "(body)", Message: fmt.Sprintf("is larger than %d bytes", maxBody)}}
	}
	if len(data) == 0 {
		return b, nil
	}
	if json.Valid(data) && !jsonread.Valid(data) {
		return b, []problem.FieldError{{Field: "(body)", Message: "names a member twice in one object, or is not valid UTF-8"}}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return b, []problem.FieldError{{Field: "(body)", Message: `must be a JSON object such as {"staySignedIn": true}`}}
	}
	var errs []problem.FieldError
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "staySignedIn":
			if err := json.Unmarshal(v, &b.StaySignedIn); err != nil || string(v) == "null" {
				errs = append(errs, problem.FieldError{Field: "staySignedIn", Message: "must be true or false"})
			}
		default:
			errs = append(errs, problem.FieldError{Field: k, Message: "unknown field"})
		}
	}
	return b, errs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

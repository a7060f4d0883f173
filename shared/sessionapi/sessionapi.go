// Package sessionapi is the sessions HTTP API (docs/sessions.md): sign-in
// (POST /sessions), the current session (GET /sessions/current), its
// keep-alive (POST /sessions/current/activity), sign-out (DELETE
// /sessions/current), and the user's own sessions (GET /sessions, DELETE
// /sessions/{id}, DELETE /sessions?others=true). It is a plain
// http.Handler, served in Lambda through aws-lambda-go-api-proxy and
// locally as it is.
package sessionapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
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
	// UserSessions lists a user's sessions in an environment, oldest
	// first, in pages: the user's own list (own.go).
	UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error)
	// Override is the environment's settings change applied to running
	// sessions, which Lookup applies: the own list judges by it too.
	Override(ctx context.Context, env string) (session.Override, error)
	// The user's "sign out everywhere else" goes the way every end of a
	// user's sessions goes (revoke.User), and ending one session ends the
	// caller's others of its IdP session (revoke.IdPSession).
	revoke.Store
	revoke.IdPSessionStore
	RecordSignOut(ctx context.Context, env string, user session.UserKey, at time.Time) error
	// EndIdPSession and IdPSessionEnded remember the IdP sessions (sid)
	// that a sign-out ended, so that their tokens, refreshed or not,
	// cannot start another session.
	EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error
	IdPSessionEnded(ctx context.Context, env, issuer, sid string) (time.Time, bool, error)
	// SessionOfIdPSessionBy reports whether the user had a session in env
	// from a token of the IdP session sid created at or before by: a sid
	// the user's sign-out or revocation point covers (signin.go).
	SessionOfIdPSessionBy(ctx context.Context, env string, user session.UserKey, sid string, by time.Time) (bool, error)
	// RecordUsername remembers the token's username (Cognito's) for its
	// subject, so a revocation that names only the username finds the
	// user's sessions, and the directory can look the user up.
	RecordUsername(ctx context.Context, issuer, subject, username string) error
}

// Config configures the API.
type Config struct {
	Verifier   Verifier
	Store      Store
	Authorizer *authorizer.Authorizer // judges GET /sessions/current
	// Proofs checks the DPoP proofs of sign-in and sign-out (dpop.go); the
	// authorizer's checker, for the current session's.
	Proofs       *dpop.Checker
	Environments environment.Config
	Enforcement  policy.Enforcement
	Sources      identity.Sources
	Log          *slog.Logger
	Now          func() time.Time
	// AllowedOrigins are the origins (endpoint.Origin's form) whose browser
	// code may call the sessions routes and read the answers, with
	// credentials (cors.go). None: same-origin only.
	AllowedOrigins []string
	// EndBudget is the deadline of DELETE /sessions?others=true ("sign
	// out everywhere else"), from the request's start on Now: every step
	// of it, each store call included, runs within it (own.go); zero:
	// ownEndBudget (4 s).
	EndBudget time.Duration
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
	if cfg.EndBudget <= 0 {
		cfg.EndBudget = ownEndBudget
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

// ServeHTTP serves the sessions routes, each answer marked for the
// allowed origins, and refuses a state change sent from any other page's
// origin (cors.go).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.corsHeaders(w, r)
	if a.foreignWrite(r) {
		problem.Write(w, problem.Details{Status: http.StatusForbidden, Reason: reason.Forbidden,
			Detail: "this origin may not call the sessions API", Errors: []problem.FieldError{{Field: "Origin", Message: "neither this API's own nor one of the deployment's allowed origins"}}})
		return
	}
	a.mux.ServeHTTP(w, r)
}

// handled is a route and its handler.
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
		// The user's own sessions (own.go).
		{route.Route{Method: "GET", Path: "/sessions", Public: true}, a.listOwn},
		{route.Route{Method: "DELETE", Path: "/sessions", Public: true}, a.endAllButCurrent},
		{route.Route{Method: "DELETE", Path: "/sessions/{id}", Public: true}, a.revokeOwn},
		// The browsers' CORS preflights, for apps on other origins.
		{route.Route{Method: "OPTIONS", Path: "/sessions", Public: true}, a.preflight},
		{route.Route{Method: "OPTIONS", Path: "/sessions/current", Public: true}, a.preflight},
		{route.Route{Method: "OPTIONS", Path: "/sessions/current/activity", Public: true}, a.preflight},
		{route.Route{Method: "OPTIONS", Path: "/sessions/{id}", Public: true}, a.preflight},
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
	reason.DPoPInvalid:           "the DPoP proof is not valid for this request: sign a new one with the key the token and session are bound to",
	reason.DPoPRequired:          "this request needs a DPoP proof: send the token as Authorization: DPoP <token> with a DPoP header",
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

// deny logs a refusal (a warning when a dependency is down) and answers
// its problem.
func (a *API) deny(ctx context.Context, w http.ResponseWriter, op string, c reason.Code, cause error, attrs ...slog.Attr) {
	level := slog.LevelInfo
	if c == reason.DependencyUnavailable {
		level = slog.LevelWarn
	}
	attrs = append(attrs, slog.String("op", op), slog.String("decision", "deny"), slog.String("reason", string(c)))
	if cause != nil {
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	if check := dpop.CheckOf(cause); check != "" {
		attrs = append(attrs, slog.String("dpopCheck", check))
	}
	a.log(ctx, level, attrs...)
	if c == reason.DPoPInvalid || c == reason.DPoPRequired {
		dpopDeny(w, c, details[c])
		return
	}
	problem.Deny(w, c, details[c])
}

// log writes one line of the API's log, if it has one.
func (a *API) log(ctx context.Context, level slog.Level, attrs ...slog.Attr) {
	if a.cfg.Log != nil {
		a.cfg.Log.LogAttrs(ctx, level, "sessions", attrs...)
	}
}

// sessionIDOf reads the session id from the session header, else from the
// session cookie.
func (a *API) sessionIDOf(r *http.Request) string {
	if v := r.Header.Get(a.cfg.Sources.SessionHeader); v != "" {
		return v
	}
	if c, err := r.Cookie(a.cfg.Sources.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// EnvironmentParam is the query parameter by which a sessions request
// names its environment, when one deployment's sessions API serves
// several (docs/sessions.md).
const EnvironmentParam = "environment"

// identityOf is the request's identity for the authorizer's judgement:
// the token, the session id, and the environment: the one the request
// names (EnvironmentParam), else the configured source's. A parameter
// given twice, or a query that does not parse, is a field error.
func (a *API) identityOf(r *http.Request) (authorizer.Identity, *problem.FieldError) {
	id := authorizer.Identity{Authorization: r.Header.Get("Authorization"), SessionID: a.sessionIDOf(r), Request: requestOf(r)}
	id.DPoP, id.DPoPRepeated = proofHeader(r)
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return id, &problem.FieldError{Field: "(query)", Message: "the query string does not parse"}
	}
	switch named := q[EnvironmentParam]; len(named) {
	case 0:
		id.Environment = envCandidate(r, a.cfg.Environments)
	case 1:
		id.Environment, id.EnvironmentNamed = named[0], true
	default:
		return id, &problem.FieldError{Field: EnvironmentParam, Message: "give the environment once"}
	}
	return id, nil
}

// envCandidate reads the environment from the configured source.
func envCandidate(r *http.Request, e environment.Config) string {
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

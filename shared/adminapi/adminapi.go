// Package adminapi is the admin API (docs/admin.md) on a plain net/http
// mux: environments, versioned settings (ETag/If-Match), their history,
// presets, session listing and revocation, audit reports, the
// revocation-latency budget and the Shared Signals streams.
//
// Every route but the console's files and the OpenAPI document needs a
// bearer token of a trusted issuer, and the route table names the admin
// role each needs (authorize): for the route's environment, held globally
// ("sessionguard-admin") or for that environment
// ("sessionguard-admin:contoso-prod"); for every environment (the
// transmitters); or none (/presets, /limits, and /environments, which
// lists the environments the caller administers). Only the issuers in
// Config.AdminIssuers grant the role. The API verifies the token itself
// and never reads identity from headers or an authorizer context, which a
// caller could forge.
package adminapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/revoke"
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
	PutSettings(ctx context.Context, c policy.SettingsChange) error
	History(ctx context.Context, env string, p session.Page) ([]policy.SettingsChange, string, error)
	Session(ctx context.Context, h session.Hash) (session.Session, error)
	Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error)
	revoke.Store
	UserSessions(ctx context.Context, env string, user session.UserKey, p session.Page) ([]session.Session, string, error)
	Reports(ctx context.Context, env string, p session.Page) ([]audit.Record, string, error)
	SearchUsers(ctx context.Context, env, issuer, prefix string, p session.Page) ([]session.UserKey, string, error)
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

// MaxPageSize is the largest page a list of the admin API gives (limit).
const MaxPageSize = 100

// page reads the limit and cursor query parameters.
func page(w http.ResponseWriter, r *http.Request) (session.Page, bool) {
	var p session.Page
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			problem.Fields(w, "bad page size", []problem.FieldError{{Field: "limit", Message: "must be a whole number from 1 to " + strconv.Itoa(MaxPageSize)}})
			return p, false
		}
		p.Limit = n
	}
	p.Cursor = q.Get("cursor")
	return p, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

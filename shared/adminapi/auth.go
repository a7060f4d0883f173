package adminapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/token"
)

// access is who may call a route; authorize checks it before the route's
// handler runs.
type access int

const (
	// anyCaller: any caller with a valid bearer token of a trusted issuer
	// (the handler judges any role it needs).
	anyCaller access = iota
	// envAdmin: an admin of the route's {env}, an environment of this
	// deployment.
	envAdmin
	// globalAdmin: an admin of every environment, in a deployment with
	// Shared Signals transmitters.
	globalAdmin
)

// authorized is a handler behind authorize: it is called with the
// caller's verified claims and, on an envAdmin route, the environment.
type authorized func(w http.ResponseWriter, r *http.Request, c token.Claims, env string)

// authorize is the middleware of every route but the public ones: it
// answers 401 without a valid token (caller), then, as need asks, 403
// without the admin role and 404 for an environment this deployment does
// not have (admitEnv) or for the transmitters of a deployment that has
// none (admitGlobal); else h serves the call.
func (a *API) authorize(need access, h authorized) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.caller(w, r)
		if !ok {
			return
		}
		env := ""
		switch need {
		case envAdmin:
			env, ok = a.admitEnv(w, r, c)
		case globalAdmin:
			ok = a.admitGlobal(w, c)
		}
		if ok {
			h(w, r, c, env)
		}
	}
}

// caller verifies the request's token; it writes the 401 itself. The
// token may come as Bearer or, from a client whose session is bound to a
// DPoP key, as DPoP: its proof is the authorizer's to check, which runs
// before every admin route that is not public.
func (a *API) caller(w http.ResponseWriter, r *http.Request) (token.Claims, bool) {
	_, raw, code := identity.AccessToken(r.Header.Get("Authorization"))
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

// admitEnv admits c to the route's environment: 403 (logged) without the
// admin role for it, 404 for an environment this deployment does not have.
func (a *API) admitEnv(w http.ResponseWriter, r *http.Request, c token.Claims) (string, bool) {
	env := r.PathValue("env")
	if !a.isAdmin(c, env) {
		a.cfg.Log.LogAttrs(r.Context(), slog.LevelWarn, "admin", slog.String("decision", "deny"), slog.String("reason", string(reason.Forbidden)),
			slog.String("userId", c.Subject), slog.String("environment", env))
		problem.Deny(w, reason.Forbidden, "the token does not carry the admin role for this environment")
		return "", false
	}
	if !slices.Contains(a.cfg.Environments, env) {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Reason: reason.EnvironmentUnknown,
			Detail: "no such environment", Errors: []problem.FieldError{{Field: "env", Message: fmt.Sprintf("%q is not an environment of this deployment", truncate(env, 64))}}})
		return "", false
	}
	return env, true
}

// admitGlobal admits c to a deployment-wide call: 403 without the admin
// role for every environment (the transmitters serve them all), judged as
// every admin call is (isAdmin without an environment); 404 in a
// deployment with no Shared Signals transmitters.
func (a *API) admitGlobal(w http.ResponseWriter, c token.Claims) bool {
	if !a.isAdmin(c, "") {
		problem.Deny(w, reason.Forbidden, "the token does not carry the admin role for every environment")
		return false
	}
	if a.cfg.Streams == nil {
		problem.Write(w, problem.Details{Status: http.StatusNotFound, Detail: "this deployment has no Shared Signals transmitters (SIGNALS_TRANSMITTERS)"})
		return false
	}
	return true
}

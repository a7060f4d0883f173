package sessionapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// Cross-origin sign-in (docs/integrating-your-app.md): an app on another
// origin calls the sessions routes from the browser. Only the origins the
// deployment lists (Config.AllowedOrigins) may read the answers, and may
// send credentials (the session cookie); "*" is never an origin here.

// preflightMaxAge is how long a browser may keep a preflight's answer.
const preflightMaxAge = "600"

// allowedOrigin reports whether origin, as the browser sent it, is listed.
func (a *API) allowedOrigin(origin string) bool {
	return origin != "" && slices.Contains(a.cfg.AllowedOrigins, strings.ToLower(origin))
}

// foreignWrite reports whether r changes state (not GET, HEAD or OPTIONS)
// from a page of an origin that is neither listed nor the API's own host:
// a browser sends such a request only after a preflight, which fails, but
// a sign-out, keep-working or the end of a session sent anyway is refused
// too.
func (a *API) foreignWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || a.allowedOrigin(origin) {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// corsHeaders marks an answer to a listed origin as readable by it, with
// credentials, and its WWW-Authenticate header too (a DPoP refusal's
// challenge, which the client library reads). Every answer varies by
// Origin, so that no cache serves one origin's answer to another.
func (a *API) corsHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin := r.Header.Get("Origin"); a.allowedOrigin(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
	}
}

// preflight answers a browser's CORS preflight for one of the sessions
// routes: 204 with the route's methods and the headers a client sends
// (the token, the body's type, the session header and a DPoP proof), for
// a listed origin asking for one of those methods; 403 otherwise.
func (a *API) preflight(w http.ResponseWriter, r *http.Request) {
	origin, method := r.Header.Get("Origin"), r.Header.Get("Access-Control-Request-Method")
	var methods []string
	for _, h := range a.routes() { // the routes of the pattern this preflight matched
		if "OPTIONS "+h.Path == r.Pattern && h.Method != http.MethodOptions {
			methods = append(methods, h.Method)
		}
	}
	switch {
	case !a.allowedOrigin(origin):
		problem.Write(w, problem.Details{Status: http.StatusForbidden, Reason: reason.Forbidden,
			Detail: "this origin may not call the sessions API", Errors: []problem.FieldError{{Field: "Origin", Message: "not one of the deployment's allowed origins"}}})
	case !slices.Contains(methods, method):
		problem.Write(w, problem.Details{Status: http.StatusForbidden, Reason: reason.Forbidden,
			Detail: "this route does not take that method", Errors: []problem.FieldError{{Field: "Access-Control-Request-Method", Message: "one of " + strings.Join(methods, ", ")}}})
	default:
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP, "+a.cfg.Sources.SessionHeader)
		h.Set("Access-Control-Max-Age", preflightMaxAge)
		w.WriteHeader(http.StatusNoContent)
	}
}

package adminapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/route"
)

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

// routes is the API's one route table: behind the authorizer, each with
// the access authorize checks before its handler runs, except the
// console's files and the OpenAPI document, which anyone may read (the
// console's calls carry the admin's token).
func (a *API) routes() []handled {
	auth := func(method, path string, need access, h authorized) handled {
		return handled{route.Route{Method: method, Path: path}, a.authorize(need, h)}
	}
	public := func(method, path string, h http.HandlerFunc) handled {
		return handled{route.Route{Method: method, Path: path, Public: true}, h}
	}
	return []handled{
		auth("GET", "/environments", anyCaller, a.environments),
		auth("GET", "/presets", anyCaller, a.presets),
		auth("GET", "/limits", anyCaller, a.limits),
		auth("GET", "/environments/{env}/settings", envAdmin, a.getSettings),
		auth("PUT", "/environments/{env}/settings", envAdmin, a.putSettings),
		auth("GET", "/environments/{env}/settings/history", envAdmin, a.history),
		auth("GET", "/environments/{env}/users", envAdmin, a.users),
		auth("GET", "/environments/{env}/sessions", envAdmin, a.sessions),
		auth("DELETE", "/environments/{env}/sessions/{id}", envAdmin, a.revokeSession),
		auth("POST", "/environments/{env}/users/{user}/revoke", envAdmin, a.revokeUser),
		auth("GET", "/environments/{env}/audits", envAdmin, a.audits),
		auth("GET", "/environments/{env}/budget", envAdmin, a.budget),
		auth("GET", "/transmitters", globalAdmin, a.transmitters),
		auth("PUT", "/transmitters/stream", globalAdmin, a.setupStream),
		auth("DELETE", "/transmitters/stream", globalAdmin, a.resetStream),
		auth("POST", "/transmitters/stream/verify", globalAdmin, a.verifyStream),
		auth("PUT", "/transmitters/stream/status", globalAdmin, a.streamStatus),
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

package local

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
)

// SPA configures the example single-page app of examples/spa, served at
// /spa/: the OpenID Provider it signs in at.
type SPA struct {
	// Authority is the issuer the app signs in at (it reads the issuer's
	// discovery document); default the development issuer.
	Authority string
	// ClientID is the app's client at the authority; default
	// sessionguard-spa.
	ClientID string
	// Scope is what the app asks for; default "openid profile" at an
	// OpenID Provider, and "sessionguard" at the development issuer, which
	// issues no ID token.
	Scope string
	// PollSeconds is how often the client library checks the session in
	// the background; default 60.
	PollSeconds int
}

// spaFiles maps the app's URLs under /spa/ to files of the repository:
// the app itself, the client library, and oidc-client-ts's browser build
// from node_modules (make node-deps installs it).
var spaFiles = map[string]string{
	"/spa/":                  "examples/spa/index.html",
	"/spa/app.js":            "examples/spa/app.js",
	"/spa/style.css":         "examples/spa/style.css",
	"/spa/sessionguard.js":   "clients/browser/sessionguard.js",
	"/spa/oidc-client-ts.js": "node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js",
}

// repoRoot is the repository the stack was built from: the app's files
// are served from it, not embedded, since oidc-client-ts comes from
// node_modules.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// spaHandler serves the example app at /spa/ with its config.json: the
// authority, client and scope of o (the development issuer's at
// issuerURL by default), the sessions routes on the stack's own origin
// (so the session travels in its HttpOnly cookie) and the example API
// under /example/.
func spaHandler(o SPA, base, issuerURL string) http.Handler {
	if o.Authority == "" {
		o.Authority = issuerURL
		if o.Scope == "" {
			o.Scope = "sessionguard"
		}
	}
	if o.ClientID == "" {
		o.ClientID = "sessionguard-spa"
	}
	if o.Scope == "" {
		o.Scope = "openid profile"
	}
	if o.PollSeconds == 0 {
		o.PollSeconds = 60
	}
	config, _ := json.Marshal(map[string]any{
		"authority": o.Authority, "clientId": o.ClientID, "scope": o.Scope, "pollSeconds": o.PollSeconds,
		"redirectUri": base + "/spa/", "sessionsUrl": base, "apiUrl": base + "/example",
	})
	authority := ""
	if u, err := url.Parse(o.Authority); err == nil && u.Host != "" && u.Scheme+"://"+u.Host != base {
		authority = " " + u.Scheme + "://" + u.Host
	}
	root := repoRoot()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The page talks to its own origin (sessions, API, files) and to the
		// authority (discovery, token); it loads nothing else.
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'"+authority+"; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		if r.URL.Path == "/spa/config.json" {
			h.Set("Content-Type", "application/json")
			w.Write(config)
			return
		}
		rel, ok := spaFiles[r.URL.Path]
		if !ok {
			gatewayError(w, http.StatusNotFound, "Not Found")
			return
		}
		body, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("The example app needs " + rel + " from the repository: run `make node-deps` (npm ci) at its root.\n"))
			return
		}
		switch filepath.Ext(rel) {
		case ".html":
			h.Set("Content-Type", "text/html; charset=utf-8")
		case ".js":
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		case ".css":
			h.Set("Content-Type", "text/css; charset=utf-8")
		}
		w.Write(body)
	})
}

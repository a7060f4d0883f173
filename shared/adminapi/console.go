package adminapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// The admin console: static files embedded in the binary, served without
// the admin role (they hold no data; every call they make needs it).
//
//go:embed console/*
var consoleFiles embed.FS

// Console configures the console's sign-in: an OpenID Connect authorization
// code flow with PKCE at the issuer, then a session from the sessions API.
type Console struct {
	AuthorizeURL string `json:"authorizeUrl"`
	TokenURL     string `json:"tokenUrl"`
	ClientID     string `json:"clientId"`
	// SessionsURL is where the console starts its session; default
	// "../sessions", relative to the console's own address, so that a
	// console served under a stage's prefix signs in on that stage.
	SessionsURL string `json:"sessionsUrl"`
	// Issuers are the deployment's trusted issuers, for the console's
	// user lookups (filled in by the API).
	Issuers []string `json:"issuers"`
}

// contentTypes are the types of the console's files, by extension: the
// only files served, with the same type on every host (net/http would look
// the type up in the host's mime.types).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

// originOf is " <scheme>://<host>" of the issuer's token endpoint, the one
// other origin the console fetches from (it redeems its code there), or ""
// when there is none to allow.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(u.Host, " ;'\"") {
		return ""
	}
	return " " + u.Scheme + "://" + u.Host
}

// console serves the console's files, and its configuration as
// config.json, with the headers that confine the page.
func (a *API) console(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" {
		name = "index.html"
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'"+originOf(a.cfg.Console.TokenURL)+"; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "no-referrer")
	if name == "config.json" {
		c := a.cfg.Console
		if c.SessionsURL == "" {
			c.SessionsURL = "../sessions"
		}
		c.Issuers = a.cfg.Issuers
		h.Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(c)
		return
	}
	body, err := consoleFiles.ReadFile("console/" + path.Base(name))
	ct, ok := contentTypes[path.Ext(name)]
	if err != nil || !ok {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", ct)
	// net/http writes the file: its length and HEAD. Every GET gets the
	// whole file, as before: ranges and conditions are not served (a 412,
	// 304 or 416 of net/http's would also drop the no-cache above).
	for _, k := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		r.Header.Del(k)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// OpenAPI is the OpenAPI 3.1 description of the sessions and admin APIs.
//
//go:embed openapi.json
var OpenAPI []byte

// openapi serves the description; it is public (it describes, it grants
// nothing).
func (a *API) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(OpenAPI)
}

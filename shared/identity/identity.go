// Package identity says where a request carries its identity, the bearer
// token in Authorization and the session id in a header or a cookie, and
// reads them as net/http reads them for a handler, so the authorizer, the
// edge and the HTTP APIs find the same values.
package identity

import (
	"net/http"
	"strings"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// The default names of the session header and cookie (SESSION_HEADER,
// SESSION_COOKIE): every default of them is one of these.
const (
	DefaultSessionHeader = "X-Session-Id"
	DefaultSessionCookie = "__Host-sg_session"
)

// Sources names where a request carries its session id.
type Sources struct {
	SessionHeader string // default DefaultSessionHeader
	SessionCookie string // default DefaultSessionCookie
}

// WithDefaults returns s with each unset name set to its default.
func (s Sources) WithDefaults() Sources {
	if s.SessionHeader == "" {
		s.SessionHeader = DefaultSessionHeader
	}
	if s.SessionCookie == "" {
		s.SessionCookie = DefaultSessionCookie
	}
	return s
}

// BearerToken reads the token of an Authorization header value:
// token_missing when there is none, token_malformed when it is not Bearer.
func BearerToken(h string) (string, reason.Code) {
	const p = "bearer "
	switch {
	case h == "":
		return "", reason.TokenMissing
	case len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p):
		return "", reason.TokenMalformed
	}
	return strings.TrimSpace(h[len(p):]), reason.OK
}

// CookieValues reads the cookie name out of Cookie header lines (or the
// elements of an HTTP API's cookies) as net/http reads it for a handler:
// its first value, and how many times it occurs. A name is trimmed and a
// value checked as there, so the authorizer, the edge and a handler
// calling r.Cookie find the same cookies ("name =B" is name).
func CookieValues(lines []string, name string) (first string, n int) {
	if len(lines) == 0 {
		return "", 0
	}
	cs := (&http.Request{Header: http.Header{"Cookie": lines}}).CookiesNamed(name)
	if len(cs) == 0 {
		return "", 0
	}
	return cs[0].Value, len(cs)
}

// EqualFoldASCII reports whether a and b are the same header name: equal
// once ASCII letters are folded to one case, as HTTP compares names.
// Unlike strings.EqualFold it folds no other letter, so "X-Seſſion-Id"
// (long s) is not "X-Session-Id", as it is not to net/http either. The
// authorizer and the edge match identity headers with it.
func EqualFoldASCII[S string | []byte](a S, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

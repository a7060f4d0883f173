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

// Scheme is the Authorization scheme of a request.
type Scheme int

// The schemes sessionguard reads.
const (
	Bearer Scheme = iota + 1
	DPoP
)

func (s Scheme) String() string {
	switch s {
	case Bearer:
		return "Bearer"
	case DPoP:
		return "DPoP"
	}
	return "none"
}

// AccessToken reads an Authorization header value, for the authorizer,
// sign-in and the admin API alike: the scheme (Bearer, or DPoP for a
// token bound to a key, in any letter case) and the token.
// token_missing when there is none, token_malformed for any other
// scheme or an empty token.
func AccessToken(h string) (Scheme, string, reason.Code) {
	if h == "" {
		return 0, "", reason.TokenMissing
	}
	name, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return 0, "", reason.TokenMalformed
	}
	switch {
	case strings.EqualFold(name, "Bearer"):
		return Bearer, tok, reason.OK
	case strings.EqualFold(name, "DPoP"):
		return DPoP, tok, reason.OK
	}
	return 0, "", reason.TokenMalformed
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

package edge

import (
	"net/http"
	"strings"

	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// checkIdentity refuses an identity source sent more than once (see the
// package comment). headers is the event's single-value map, multi the
// REST multi-value one, cookies the HTTP API cookies.
func (c Config) checkIdentity(headers map[string]string, multi map[string][]string, cookies []string) *Refusal {
	type source struct {
		name string
		code reason.Code
	}
	sources := []source{{"Authorization", reason.TokenMalformed}, {c.Sources.SessionHeader, reason.SessionUnknown}, {"DPoP", reason.DPoPInvalid}}
	if c.EnvironmentHeader != "" {
		sources = append(sources, source{c.EnvironmentHeader, reason.EnvironmentUnknown})
	}
	sessionHeader := false
	for _, s := range sources {
		refuse := &Refusal{Status: int(reason.StatusOf(s.code)), Reason: s.code, Field: s.name, Message: "is sent more than once"}
		var names, values int
		for k, v := range headers {
			if identity.EqualFoldASCII(k, s.name) {
				names++
				if strings.Contains(v, ",") {
					return refuse
				}
				sessionHeader = sessionHeader || (s.code == reason.SessionUnknown && v != "")
			}
		}
		for k, vs := range multi {
			if identity.EqualFoldASCII(k, s.name) {
				values += len(vs)
				for _, v := range vs {
					if strings.Contains(v, ",") {
						return refuse
					}
					sessionHeader = sessionHeader || (s.code == reason.SessionUnknown && v != "")
				}
			}
		}
		if names > 1 || values > 1 {
			return refuse
		}
	}
	if sessionHeader {
		return nil // the session id comes from the header: cookies are not read
	}
	// The session cookie: a 2.0 event's cookies and Cookie headers
	// together; a REST event's headers and multiValueHeaders each (the
	// adapter hands the handler the latter, the authorizer reads the
	// former first).
	var lines, multiLines []string
	for k, v := range headers {
		if identity.EqualFoldASCII(k, "Cookie") {
			lines = append(lines, v)
		}
	}
	for k, vs := range multi {
		if identity.EqualFoldASCII(k, "Cookie") {
			multiLines = append(multiLines, vs...)
		}
	}
	name := c.Sources.SessionCookie
	v, ok := sessionCookie(cookies, lines, name)
	w, okMulti := sessionCookie(nil, multiLines, name)
	if !ok || !okMulti || v != "" && w != "" && v != w {
		return &Refusal{Status: http.StatusUnauthorized, Reason: reason.SessionUnknown, Field: "Cookie", Message: "carries the session cookie more than once, or in a form read two ways"}
	}
	return nil
}

// sessionCookie reads the cookie name as net/http reads it
// (identity.CookieValues) out of cookies elements and Cookie header
// lines twice: as they are, which is how the authorizer reads the event,
// and with the lines split at commas, which is how the adapter hands a
// 2.0 event's headers to the handler. ok is false if either reading finds
// it more than once, or the two find different values: then the
// authorizer and the handler could judge two different sessions.
func sessionCookie(cookies, lines []string, name string) (value string, ok bool) {
	asIs := append(cookies[:len(cookies):len(cookies)], lines...)
	v, n := identity.CookieValues(asIs, name)
	split := cookies[:len(cookies):len(cookies)]
	for _, l := range lines {
		split = append(split, strings.Split(l, ",")...)
	}
	w, m := identity.CookieValues(split, name)
	return v, n <= 1 && m <= 1 && n == m && v == w
}

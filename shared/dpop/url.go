package dpop

import (
	"net"
	"net/url"
	"strings"
)

// Event is what an API Gateway event says of the request a client made:
// the fields a proof's htm and htu are held to.
type Event struct {
	// Version2: an HTTP API's payload 2.0; else a REST API's event or an
	// HTTP API's payload 1.0.
	Version2 bool
	// Method: requestContext.http.method (2.0); httpMethod (REST, 1.0).
	Method string
	// DomainName is requestContext.domainName: the host API Gateway was
	// called on (its execute-api host, or the custom domain).
	DomainName string
	// RawPath and HTTPPath (2.0): rawPath, as the client escaped it, and
	// requestContext.http.path, decoded. Both keep a named stage.
	RawPath, HTTPPath string
	// ContextPath (REST, 1.0): requestContext.path, which keeps the stage
	// or the custom domain's base path (the top-level path may not).
	ContextPath string
}

// Called is the request ev describes, as a proof must name it: the one
// rule for the authorizer and the sessions and admin functions' edge.
// The host is requestContext.domainName only, never the Host header,
// which the client chooses: an event without it names no URL, and every
// proof fails htu. The path is, for payload 2.0, rawPath (else
// requestContext.http.path); for REST and payload 1.0,
// requestContext.path.
func Called(ev Event) Request {
	req := Request{Method: ev.Method, Host: ev.DomainName, Path: ev.ContextPath}
	if ev.Version2 {
		req.Path = ev.RawPath
		if req.Path == "" {
			req.Path = ev.HTTPPath
		}
	}
	return req
}

// URLOf is the URL a request was made to, as a proof's htu must name it:
// https://, the host, the path.
func URLOf(req Request) string { return "https://" + req.Host + req.Path }

// SameURL reports whether htu names req's URL: scheme https (or http when
// the host is a loopback one: the local stack), the host equal in any
// letter case with the scheme's default port optional, and the path equal
// once both are in canonical percent-encoding (pathKey). htu's query and
// fragment are ignored; user information in it is refused.
func SameURL(htu string, req Request) bool {
	if req.Host == "" || req.Path == "" || req.Path[0] != '/' {
		return false
	}
	u, err := url.Parse(htu)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	port := ""
	switch {
	case scheme == "https":
		port = ":443"
	case scheme == "http" && loopback(req.Host):
		port = ":80"
	default:
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Host), port)
	want := strings.TrimSuffix(strings.ToLower(req.Host), port)
	if host != want {
		return false
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	got, ok := pathKey(p)
	if !ok {
		return false
	}
	exp, ok := pathKey(req.Path)
	return ok && got == exp
}

// loopback reports whether host (with or without a port) is a loopback
// host: localhost, or a loopback address.
func loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pathKey is a path in one canonical percent-encoding, so that a path the
// gateway delivers decoded (REST) and the same path escaped by a client
// compare equal: an escape of an unreserved character (letters, digits,
// "-", ".", "_", "~") decoded, every other escape kept, in upper-case hex,
// and every byte that may not stand bare in a path segment escaped, in
// upper-case hex. An escaped reserved character is never its bare self:
// "%3B" is not ";" and "%2F" is not "/", which a server may read as
// another path. A malformed escape is not a path (false).
func pathKey(p string) (string, bool) {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if i+2 >= len(p) {
				return "", false
			}
			v, ok := unhex(p[i+1], p[i+2])
			if !ok {
				return "", false
			}
			i += 2
			if unreserved(v) {
				b.WriteByte(v)
				continue
			}
			b.WriteByte('%')
			b.WriteByte(hex[v>>4])
			b.WriteByte(hex[v&15])
			continue
		}
		if !pathByte(c) && c != '/' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// unreserved reports whether c is an unreserved character: one whose
// escape means the same as the character.
func unreserved(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~'
}

// pathByte reports whether c may stand unescaped in a path segment:
// unreserved, a sub-delimiter, ":" or "@".
func pathByte(c byte) bool {
	return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}

func unhex(a, b byte) (byte, bool) {
	x, ok1 := hexVal(a)
	y, ok2 := hexVal(b)
	return x<<4 | y, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

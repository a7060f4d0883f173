// Package edge is where every HTTP function meets API Gateway. It reads
// the proxy event itself and refuses what a router or the adapter would
// misread, before either sees it; only then does aws-lambda-go-api-proxy
// turn the event into an http.Request for the function's handler.
//
// API Gateway may hand a function a percent-decoded path, and headers in
// any letter case. The edge refuses, with an application/problem+json
// answer that names the field:
//   - a path that is not canonical once percent-decoded, which is how the
//     handler sees it: a control character, invalid UTF-8, a "." or ".."
//     segment, an empty segment ("//"), a backslash, a malformed
//     percent-escape, or a "?" or "#" the gateway decoded (400, "path").
//     Go's ServeMux would answer such a path with a redirect to the path
//     it cleaned, and the adapter fails on a control character;
//   - a method that is not an HTTP token, a query with a control character
//     or "#", a host that is not a host name, a body marked base64 that is
//     not, an event that is not strict JSON (a member name twice, invalid
//     UTF-8) (400, the field named);
//   - an identity source sent more than once, as the authorizer does:
//     the Authorization header, the session header or the environment
//     header under two names that differ only in ASCII letter case, with
//     more than one value, or with values joined by commas (which the
//     adapter splits again); or, when no session header is sent, the
//     session cookie more than once, the cookies read as net/http reads
//     them for the handler (401 token_malformed, 401 session_unknown, 403
//     environment_unknown).
//
// The adapter prints a request's method and path as plain text to stdout
// when it cannot convert an event; the checks leave it nothing it cannot
// convert. A refusal is logged through slog, which escapes what the
// request carried.
package edge

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// Config names the identity sources the edge holds to one value.
type Config struct {
	// Sources name the session header and cookie; unset names take their
	// defaults.
	Sources authorizer.Sources
	// EnvironmentHeader is the header the environment is read from, when
	// the deployment reads it from one.
	EnvironmentHeader string
	// Log receives one line per refusal; nil logs nothing.
	Log *slog.Logger
}

// Refusal is why the edge refused a request.
type Refusal struct {
	Status  int
	Reason  reason.Code // for an identity source; "" otherwise
	Field   string      // "path", "method", "query", "host", "body", "event", or the header's name
	Message string      // the rule the field broke
}

func (x *Refusal) Error() string { return fmt.Sprintf("edge: %s %s", x.Field, x.Message) }

// Write answers x as problem+json.
func (x *Refusal) Write(w http.ResponseWriter) {
	p := problem.Details{Status: x.Status, Reason: x.Reason, Errors: []problem.FieldError{{Field: x.Field, Message: x.Message}}}
	if x.Reason == "" {
		p.Title = "Invalid request"
		p.Detail = "the request is not in a form this API accepts"
	} else {
		p.Detail = "send each identity header, and the session cookie, once"
	}
	if x.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	problem.Write(w, p)
}

func invalid(field, message string) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Field: field, Message: message}
}

// V2 serves HTTP API (payload 2.0) proxy events: it implements
// lambda.Handler.
type V2 struct {
	cfg     Config
	adapter *httpadapter.HandlerAdapterV2
}

// NewV2 returns h behind the edge, for HTTP API events.
func NewV2(h http.Handler, c Config) *V2 {
	c.Sources = c.Sources.WithDefaults()
	return &V2{cfg: c, adapter: httpadapter.NewV2(h)}
}

// Invoke answers one event.
func (f *V2) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	x := readEvent(payload, &ev)
	if x == nil {
		x = f.cfg.checkV2(&ev)
	}
	if x != nil {
		f.cfg.logRefusal(ctx, x, ev.RequestContext.RequestID, firstNonEmpty(ev.RawPath, ev.RequestContext.HTTP.Path))
		w := core.NewProxyResponseWriterV2()
		x.Write(w)
		resp, err := w.GetProxyResponse()
		if err != nil {
			return nil, err
		}
		return encode(resp)
	}
	resp, err := f.adapter.ProxyWithContext(ctx, ev)
	if err != nil {
		return nil, err
	}
	return encode(resp)
}

// REST serves REST API proxy events: it implements lambda.Handler.
type REST struct {
	cfg     Config
	adapter *httpadapter.HandlerAdapter
}

// NewREST returns h behind the edge, for REST API events.
func NewREST(h http.Handler, c Config) *REST {
	c.Sources = c.Sources.WithDefaults()
	return &REST{cfg: c, adapter: httpadapter.New(h)}
}

// Invoke answers one event.
func (f *REST) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayProxyRequest
	x := readEvent(payload, &ev)
	if x == nil {
		x = f.cfg.checkREST(&ev)
	}
	if x != nil {
		f.cfg.logRefusal(ctx, x, ev.RequestContext.RequestID, ev.Path)
		w := core.NewProxyResponseWriter()
		x.Write(w)
		resp, err := w.GetProxyResponse()
		if err != nil {
			return nil, err
		}
		return encode(resp)
	}
	resp, err := f.adapter.ProxyWithContext(ctx, ev)
	if err != nil {
		return nil, err
	}
	return encode(resp)
}

// Gateway applies the request checks (method, path, query) to the
// requests a gateway receives over HTTP, before its router sees them (the
// local stack's gateway; headers are checked by each function's edge, on
// the event the gateway builds).
func Gateway(next http.Handler, log *slog.Logger) http.Handler {
	c := Config{Log: log}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if x := CheckRequest(r); x != nil {
			c.logRefusal(r.Context(), x, "", r.URL.EscapedPath())
			x.Write(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CheckRequest checks the method, path and query of a request received
// over HTTP.
func CheckRequest(r *http.Request) *Refusal {
	if x := checkPath(r.URL.EscapedPath()); x != nil {
		return x
	}
	if x := checkMethod(r.Method); x != nil {
		return x
	}
	return checkQuery(r.URL.RawQuery)
}

// readEvent decodes an event strictly: a member name twice in one object,
// or invalid UTF-8, makes it unreadable (encoding/json would keep the last
// of two names, and mangle invalid UTF-8). Member names match exactly.
func readEvent(payload []byte, ev any) *Refusal {
	if err := jsonv2.Unmarshal(payload, ev); err != nil {
		return invalid("event", "is not a readable proxy event")
	}
	return nil
}

func (c Config) checkV2(ev *events.APIGatewayV2HTTPRequest) *Refusal {
	// The adapter routes on rawPath, else on requestContext.http.path (and
	// prints the latter when it fails).
	if ev.RawPath == "" && ev.RequestContext.HTTP.Path == "" {
		return invalid("path", "is missing")
	}
	for _, p := range []string{ev.RawPath, ev.RequestContext.HTTP.Path} {
		if p == "" {
			continue
		}
		if x := checkPath(p); x != nil {
			return x
		}
	}
	if x := checkMethod(ev.RequestContext.HTTP.Method); x != nil {
		return x
	}
	if x := checkQuery(ev.RawQueryString); x != nil {
		return x
	}
	if x := checkHost(ev.RequestContext.DomainName); x != nil {
		return x
	}
	if x := decodeBody(&ev.Body, &ev.IsBase64Encoded); x != nil {
		return x
	}
	return c.checkIdentity(ev.Headers, nil, ev.Cookies)
}

func (c Config) checkREST(ev *events.APIGatewayProxyRequest) *Refusal {
	if x := checkPath(ev.Path); x != nil {
		return x
	}
	if x := checkMethod(ev.HTTPMethod); x != nil {
		return x
	}
	if x := checkHost(ev.RequestContext.DomainName); x != nil {
		return x
	}
	if x := decodeBody(&ev.Body, &ev.IsBase64Encoded); x != nil {
		return x
	}
	return c.checkIdentity(ev.Headers, ev.MultiValueHeaders, nil)
}

// checkMethod: a method is an HTTP token.
func checkMethod(m string) *Refusal {
	if m == "" || len(m) > 32 {
		return invalid("method", "is not an HTTP method")
	}
	for i := 0; i < len(m); i++ {
		if !isTokenChar(m[i]) {
			return invalid("method", "is not an HTTP method")
		}
	}
	return nil
}

func isTokenChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// maxPath caps a path; API Gateway's own limit on a request line is lower.
const maxPath = 8 << 10

// checkPath checks a path as the gateway delivered it, escaped or already
// decoded. The handler sees it percent-decoded, so that form must be
// canonical: Go's ServeMux answers any other with a redirect to the path
// it cleaned, which need not be the route the client asked for.
func checkPath(raw string) *Refusal {
	switch {
	case raw == "" || raw[0] != '/':
		return invalid("path", "does not start with /")
	case len(raw) > maxPath:
		return invalid("path", "is too long")
	case strings.ContainsAny(raw, "?#"):
		// A literal "?" or "#" cannot be part of a path: the gateway
		// decoded "%3F" or "%23", which the adapter would split off.
		return invalid("path", `holds a decoded "?" or "#"`)
	}
	p, err := url.PathUnescape(raw)
	if err != nil {
		return invalid("path", "holds a malformed percent-escape")
	}
	if !utf8.ValidString(p) {
		return invalid("path", "is not valid UTF-8")
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return invalid("path", "holds a control character")
		}
	}
	if strings.ContainsRune(p, '\\') {
		return invalid("path", "holds a backslash")
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return invalid("path", `holds a "." or ".." segment`)
		case s == "" && i < len(segs)-1:
			return invalid("path", `holds an empty segment ("//")`)
		}
	}
	return nil
}

// checkQuery: the adapter fails on a control character in the query, and
// a "#" (decoded by the gateway) would end it.
func checkQuery(q string) *Refusal {
	for i := 0; i < len(q); i++ {
		if q[i] < 0x20 || q[i] == 0x7f || q[i] == '#' {
			return invalid("query", `holds a control character or "#"`)
		}
	}
	return nil
}

// checkHost: the adapter puts the domain name before the path of the URL
// it parses; anything but a host name (and port) would move the path.
func checkHost(h string) *Refusal {
	for i := 0; i < len(h); i++ {
		b := h[i]
		ok := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte(".-_:[]", b) >= 0
		if !ok {
			return invalid("host", "is not a host name")
		}
	}
	return nil
}

// decodeBody decodes a base64 body in place, so the adapter (which would
// fail on bad base64) gets it decoded.
func decodeBody(body *string, isBase64 *bool) *Refusal {
	if !*isBase64 {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(*body)
	if err != nil {
		return invalid("body", "is not valid base64")
	}
	*body, *isBase64 = string(b), false
	return nil
}

// checkIdentity refuses an identity source sent more than once (see the
// package comment). headers is the event's single-value map, multi the
// REST multi-value one, cookies the HTTP API cookies.
func (c Config) checkIdentity(headers map[string]string, multi map[string][]string, cookies []string) *Refusal {
	type source struct {
		name string
		code reason.Code
	}
	sources := []source{{"Authorization", reason.TokenMalformed}, {c.Sources.SessionHeader, reason.SessionUnknown}}
	if c.EnvironmentHeader != "" {
		sources = append(sources, source{c.EnvironmentHeader, reason.EnvironmentUnknown})
	}
	sessionHeader := false
	for _, s := range sources {
		refuse := &Refusal{Status: int(reason.StatusOf(s.code)), Reason: s.code, Field: s.name, Message: "is sent more than once"}
		var names, values int
		for k, v := range headers {
			if authorizer.EqualFoldASCII(k, s.name) {
				names++
				if strings.Contains(v, ",") {
					return refuse
				}
				sessionHeader = sessionHeader || (s.code == reason.SessionUnknown && v != "")
			}
		}
		for k, vs := range multi {
			if authorizer.EqualFoldASCII(k, s.name) {
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
		if authorizer.EqualFoldASCII(k, "Cookie") {
			lines = append(lines, v)
		}
	}
	for k, vs := range multi {
		if authorizer.EqualFoldASCII(k, "Cookie") {
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
// (authorizer.CookieValues) out of cookies elements and Cookie header
// lines twice: as they are, which is how the authorizer reads the event,
// and with the lines split at commas, which is how the adapter hands a
// 2.0 event's headers to the handler. ok is false if either reading finds
// it more than once, or the two find different values: then the
// authorizer and the handler could judge two different sessions.
func sessionCookie(cookies, lines []string, name string) (value string, ok bool) {
	asIs := append(cookies[:len(cookies):len(cookies)], lines...)
	v, n := authorizer.CookieValues(asIs, name)
	split := cookies[:len(cookies):len(cookies)]
	for _, l := range lines {
		split = append(split, strings.Split(l, ",")...)
	}
	w, m := authorizer.CookieValues(split, name)
	return v, n <= 1 && m <= 1 && n == m && v == w
}

func (c Config) logRefusal(ctx context.Context, x *Refusal, requestID, path string) {
	if c.Log == nil {
		return
	}
	const maxLogged = 256
	if len(path) > maxLogged {
		path = path[:maxLogged]
	}
	attrs := []slog.Attr{slog.String("decision", "refuse"), slog.Int("status", x.Status),
		slog.String("field", x.Field), slog.String("rule", x.Message)}
	if x.Reason != "" {
		attrs = append(attrs, slog.String("reason", string(x.Reason)))
	}
	if requestID != "" {
		attrs = append(attrs, slog.String("apiRequestId", requestID))
	}
	// slog's JSON handler escapes control characters and invalid UTF-8.
	attrs = append(attrs, slog.String("path", path))
	c.Log.LogAttrs(ctx, slog.LevelInfo, "edge", attrs...)
}

func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as the Lambda runtime encodes a handler's answer
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

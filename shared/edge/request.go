package edge

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

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

// checkV2 checks an HTTP API (payload 2.0) event: its paths, method,
// query, host and body, then its identity sources.
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
	if x := stripStage(ev); x != nil {
		return x
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

// stageName is the shape of an API Gateway stage name.
var stageName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// stripStage takes a named stage's name off the front of the path: an
// HTTP API delivers a request to the stage staging with the path
// /staging/sessions, and the handler's routes have no stage in them. The
// $default stage has no prefix. A path that does not start with its
// stage's segment is refused, so no route is reached by another path.
func stripStage(ev *events.APIGatewayV2HTTPRequest) *Refusal {
	stage := ev.RequestContext.Stage
	if stage == "" || stage == "$default" {
		return nil
	}
	if !stageName.MatchString(stage) {
		return invalid("stage", "is not a stage name")
	}
	prefix := "/" + stage
	for _, p := range []*string{&ev.RawPath, &ev.RequestContext.HTTP.Path} {
		switch {
		case *p == "":
		case *p == prefix:
			*p = "/"
		case strings.HasPrefix(*p, prefix+"/"):
			*p = strings.TrimPrefix(*p, prefix)
		default:
			return invalid("path", fmt.Sprintf("is not under its stage %q", stage))
		}
	}
	return nil
}

// checkREST checks a REST API event: its path, method, host and body,
// then its identity sources.
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

// isTokenChar reports whether b may appear in an HTTP token.
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

package authorizer

import (
	"errors"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/jsonread"
)

// kind is the shape of an authorizer event, which fixes the response shape.
type kind int

const (
	httpAPIv2 kind = iota // HTTP API, payload 2.0: simple or IAM response
	iamOnly               // REST REQUEST, or HTTP API payload 1.0: IAM response
)

// event is what the handler reads of an authorizer event.
type event struct {
	kind      kind
	arn       string // routeArn or methodArn
	requestID string
	id        Identity
}

var errNotAuthorizerEvent = errors.New("event is not an API Gateway REQUEST authorizer event")

// readEvent reads an authorizer event without reflection. Header names are
// matched case-insensitively (REST keeps the client's case; HTTP APIs
// lower-case them). A member name twice in one object, or invalid UTF-8,
// makes the event unreadable.
//
// An identity source sent more than once is marked repeated, and refused,
// because which value the client meant is unknowable: an identity header
// under two names that differ only in letter case ("Authorization" and
// "authorization") in headers or multiValueHeaders, more than one value
// for it in multiValueHeaders ("headers" holds only the last), or, when
// the session id comes from the cookie, the session cookie more than once.
// A repeated environment header reads as no environment. The DPoP header
// is an identity header too: sent more than once, or with values joined
// by a comma (a proof has none), it is refused.
//
// What a DPoP proof must name is read too (Identity.Request, by
// dpop.Called, as the edge reads it): the method
// (requestContext.http.method; REST and payload 1.0: httpMethod), the
// host (requestContext.domainName; never the Host header) and the path as
// the client sent it (payload 2.0: rawPath, else requestContext.http.path;
// REST and payload 1.0: requestContext.path, which keeps the stage or the
// custom domain's base path).
func readEvent(data []byte, src identity.Sources, envs environment.Config) (event, error) {
	var ev event
	var version, typ string
	var cookies []string
	// What a proof names, kept raw (slices of data, no copy) and read as
	// strings only when the request carries a proof: most requests do not.
	var rawPath, httpPath, method, rcPath, rcMethod, domain jsontext.Value
	// How often each identity header occurs: names in headers, values in
	// multiValueHeaders (any letter case).
	var authNames, sidNames, envNames, authValues, sidValues, envValues, dpopNames, dpopValues int
	var cookieHeaders, cookieMulti []string // Cookie headers: in headers; in multiValueHeaders
	r := jsonread.New(data)
	defer r.Release()
	if !r.Object() {
		return ev, r.Err()
	}
	for r.Next() {
		switch string(r.Name()) {
		case "version":
			version, _ = r.String()
		case "type":
			typ, _ = r.String()
		case "routeArn", "methodArn":
			ev.arn, _ = r.String()
		case "rawPath":
			rawPath = r.Raw()
		case "httpMethod":
			method = r.Raw()
		case "cookies":
			if r.Kind() == '[' {
				cookies, _ = r.Strings()
			} else {
				r.Skip()
			}
		case "headers":
			if r.Kind() != '{' || !r.Object() {
				r.Skip()
				continue
			}
			for r.Next() {
				k := r.Name()
				switch {
				case identity.EqualFoldASCII(k, "authorization"):
					ev.id.Authorization, _ = r.String() // a copy: nothing aliases the payload
					authNames++
				case identity.EqualFoldASCII(k, src.SessionHeader):
					ev.id.SessionID, _ = r.String()
					sidNames++
				case identity.EqualFoldASCII(k, "cookie"):
					c, _ := r.String()
					cookieHeaders = append(cookieHeaders, c)
				case envs.Source == "header" && identity.EqualFoldASCII(k, envs.Name):
					ev.id.Environment, _ = r.String()
					envNames++
				case identity.EqualFoldASCII(k, "dpop"):
					ev.id.DPoP, _ = r.String()
					dpopNames++
				default:
					r.Skip()
				}
			}
		case "multiValueHeaders":
			if r.Kind() != '{' || !r.Object() {
				r.Skip()
				continue
			}
			for r.Next() {
				k := r.Name()
				switch {
				case identity.EqualFoldASCII(k, "authorization"):
					authValues += len(values(r))
				case identity.EqualFoldASCII(k, src.SessionHeader):
					sidValues += len(values(r))
				case identity.EqualFoldASCII(k, "cookie"):
					cookieMulti = append(cookieMulti, values(r)...)
				case envs.Source == "header" && identity.EqualFoldASCII(k, envs.Name):
					envValues += len(values(r))
				case identity.EqualFoldASCII(k, "dpop"):
					dpopValues += len(values(r))
				default:
					r.Skip()
				}
			}
		case "stageVariables":
			if envs.Source != "stage" || r.Kind() != '{' || !r.Object() {
				r.Skip()
				continue
			}
			for r.Next() {
				if r.Is(envs.Name) {
					ev.id.Environment, _ = r.String()
				} else {
					r.Skip()
				}
			}
		case "requestContext":
			if r.Kind() != '{' || !r.Object() {
				r.Skip()
				continue
			}
			for r.Next() {
				switch {
				case r.Is("requestId"):
					ev.requestID, _ = r.String()
				case r.Is("domainName"):
					domain = r.Raw()
				case r.Is("path"):
					rcPath = r.Raw()
				case r.Is("httpMethod"):
					rcMethod = r.Raw()
				case r.Is("http") && r.Kind() == '{':
					r.Object()
					for r.Next() {
						switch {
						case r.Is("method"):
							rcMethod = r.Raw()
						case r.Is("path"):
							httpPath = r.Raw()
						default:
							r.Skip()
						}
					}
				default:
					r.Skip()
				}
			}
		default:
			r.Skip()
		}
	}
	if err := r.Err(); err != nil {
		return ev, err
	}
	if typ != "REQUEST" || ev.arn == "" {
		return ev, errNotAuthorizerEvent
	}
	if envs.Source == "host" {
		ev.id.Environment = rawString(domain)
	}
	ev.kind = iamOnly
	if version == "2.0" {
		ev.kind = httpAPIv2
	}
	if ev.id.DPoP != "" {
		m := rawString(rcMethod)
		if ev.kind != httpAPIv2 {
			if top := rawString(method); top != "" {
				m = top
			}
		}
		ev.id.Request = dpop.Called(dpop.Event{Version2: ev.kind == httpAPIv2, Method: m, DomainName: rawString(domain),
			RawPath: rawString(rawPath), HTTPPath: rawString(httpPath), ContextPath: rawString(rcPath)})
	}
	ev.id.DPoPRepeated = dpopNames > 1 || dpopValues > 1 || strings.IndexByte(ev.id.DPoP, ',') >= 0
	ev.id.AuthorizationRepeated = authNames > 1 || authValues > 1
	ev.id.SessionIDRepeated = sidNames > 1 || sidValues > 1
	if envNames > 1 || envValues > 1 {
		ev.id.Environment = ""
	}
	if ev.id.SessionID == "" {
		// HTTP APIs (2.0) send cookies in "cookies" (a hand-made event may
		// also carry Cookie headers); payload 1.0 and REST send the Cookie
		// header in headers (the last one) and in multiValueHeaders (all).
		first, n := identity.CookieValues(append(cookies[:len(cookies):len(cookies)], cookieHeaders...), src.SessionCookie)
		multi, m := identity.CookieValues(cookieMulti, src.SessionCookie)
		if ev.id.SessionID = first; first == "" {
			ev.id.SessionID = multi
		}
		ev.id.SessionIDRepeated = ev.id.SessionIDRepeated || n > 1 || m > 1
	}
	return ev, nil
}

// values reads a multiValueHeaders entry.
func values(r *jsonread.Reader) []string {
	if r.Kind() != '[' {
		r.Skip()
		return nil
	}
	vs, _ := r.Strings()
	return vs
}

// apiResource turns a route or method ARN into one that covers every
// route of the same API stage: API Gateway caches a policy per identity
// source values, so a policy naming only the first route would deny the
// cached caller's other routes.
//
//	arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items
//	-> arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*
func apiResource(arn string) string {
	slash := strings.IndexByte(arn, '/')
	if slash < 0 {
		return arn
	}
	stageEnd := strings.IndexByte(arn[slash+1:], '/')
	if stageEnd < 0 {
		return arn
	}
	return arn[:slash+1+stageEnd] + "/*"
}

// rawString is the string a raw JSON value holds; "" for any other value
// (as jsonread's String reads it).
func rawString(v jsontext.Value) string {
	if v.Kind() != '"' {
		return ""
	}
	b, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		return ""
	}
	return string(b)
}

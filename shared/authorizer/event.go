package authorizer

import (
	"errors"
	"strings"

	"github.com/sessionguard/sessionguard/shared/jsonread"
)

// Sources names where a request carries its identity.
type Sources struct {
	SessionHeader string // default X-Session-Id
	SessionCookie string // default __Host-sg_session
}

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
// makes the event unreadable. In REST events, an identity header with more
// than one value in multiValueHeaders is marked repeated: "headers" holds
// only the last of them, and which one a client meant is unknowable.
func readEvent(data []byte, src Sources, envs Environments) (event, error) {
	var ev event
	var version, typ string
	var cookies []string
	var cookieHeader string
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
				case equalFold(k, "authorization"):
					ev.id.Authorization, _ = r.String() // a copy: nothing aliases the payload
				case equalFold(k, src.SessionHeader):
					ev.id.SessionID, _ = r.String()
				case equalFold(k, "cookie"):
					cookieHeader, _ = r.String()
				case envs.Source == "header" && equalFold(k, envs.Name):
					ev.id.Environment, _ = r.String()
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
				case equalFold(k, "authorization"):
					ev.id.AuthorizationRepeated = repeated(r)
				case equalFold(k, src.SessionHeader):
					ev.id.SessionIDRepeated = repeated(r)
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
				case r.Is("domainName") && envs.Source == "host":
					ev.id.Environment, _ = r.String()
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
	if version == "2.0" {
		ev.kind = httpAPIv2
	} else {
		ev.kind = iamOnly
	}
	if ev.id.SessionID == "" {
		for _, c := range cookies {
			if ev.id.SessionID = cookieValue(c, src.SessionCookie); ev.id.SessionID != "" {
				break
			}
		}
		if ev.id.SessionID == "" && cookieHeader != "" {
			ev.id.SessionID = cookieValue(cookieHeader, src.SessionCookie)
		}
	}
	return ev, nil
}

// repeated reads a multiValueHeaders entry: true when it holds more than
// one value.
func repeated(r *jsonread.Reader) bool {
	if r.Kind() != '[' {
		r.Skip()
		return false
	}
	vs, _ := r.Strings()
	return len(vs) > 1
}

// cookieValue finds name's value in a Cookie header or a cookies element.
func cookieValue(header, name string) string {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ";")
		part = strings.TrimSpace(part)
		if k, v, ok := strings.Cut(part, "="); ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func equalFold(raw []byte, name string) bool {
	if len(raw) != len(name) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		a, b := raw[i], name[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
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

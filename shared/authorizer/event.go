package authorizer

import (
	"errors"
	"strings"

	"github.com/sessionguard/sessionguard/shared/jsonlite"
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
// lower-case them).
func readEvent(data []byte, src Sources, envs Environments) (event, error) {
	var ev event
	var version, typ string
	var cookies []byte
	var cookieHeader string
	it := jsonlite.NewObject(data)
	for it.Next() {
		// Objects are read through Nested without Value first, so that
		// each is scanned once.
		switch {
		case it.KeyIs("version"):
			version, _ = jsonlite.String(it.Value())
		case it.KeyIs("type"):
			typ, _ = jsonlite.String(it.Value())
		case it.KeyIs("routeArn"), it.KeyIs("methodArn"):
			ev.arn, _ = jsonlite.String(it.Value())
		case it.KeyIs("cookies"):
			cookies = it.Value()
		case it.KeyIs("headers"):
			if it.IsNull() {
				continue
			}
			h := it.Nested()
			for h.Next() {
				k := h.Key()
				switch {
				case equalFold(k, "authorization"):
					// The token is ~1 KB: read in place. It lives only
					// for this invocation (see Identity.Authorization).
					ev.id.Authorization, _ = jsonlite.StringView(h.Value())
				case equalFold(k, src.SessionHeader):
					ev.id.SessionID, _ = jsonlite.String(h.Value())
				case equalFold(k, "cookie"):
					cookieHeader, _ = jsonlite.String(h.Value())
				case envs.Source == "header" && equalFold(k, envs.Name):
					ev.id.Environment, _ = jsonlite.String(h.Value())
				}
			}
			if err := h.Err(); err != nil {
				return ev, err
			}
		case it.KeyIs("stageVariables"):
			if envs.Source != "stage" || it.IsNull() {
				continue
			}
			sv := it.Nested()
			for sv.Next() {
				if sv.KeyIs(envs.Name) {
					ev.id.Environment, _ = jsonlite.String(sv.Value())
				}
			}
			if err := sv.Err(); err != nil {
				return ev, err
			}
		case it.KeyIs("requestContext"):
			rc := it.Nested()
			for rc.Next() {
				switch {
				case rc.KeyIs("requestId"):
					ev.requestID, _ = jsonlite.String(rc.Value())
				case rc.KeyIs("domainName") && envs.Source == "host":
					ev.id.Environment, _ = jsonlite.String(rc.Value())
				}
			}
			if err := rc.Err(); err != nil {
				return ev, err
			}
		}
	}
	if err := it.Err(); err != nil {
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
		if cookies != nil && !jsonlite.IsNull(cookies) {
			_ = jsonlite.Array(cookies, func(c []byte) bool {
				s, _ := jsonlite.String(c)
				ev.id.SessionID = cookieValue(s, src.SessionCookie)
				return ev.id.SessionID == ""
			})
		}
		if ev.id.SessionID == "" && cookieHeader != "" {
			ev.id.SessionID = cookieValue(cookieHeader, src.SessionCookie)
		}
	}
	return ev, nil
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

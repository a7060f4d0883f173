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
//     environment_unknown); the DPoP header likewise (401 dpop_invalid).
//
// The edge hands the handler, in the request's context, the URL the
// client called as API Gateway describes it (dpop.Called, dpop.RequestFrom):
// the domain name and the path before a stage is taken off, what a DPoP
// proof must name.
//
// The adapter prints a request's method and path as plain text to stdout
// when it cannot convert an event; the checks leave it nothing it cannot
// convert. A refusal is logged through slog, which escapes what the
// request carried.
package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/problem"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// Config names the identity sources the edge holds to one value.
type Config struct {
	// Sources name the session header and cookie; unset names take their
	// defaults.
	Sources identity.Sources
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

// Error names the field and the rule it broke.
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

// invalid is a 400 refusal of field.
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
	// The URL as the client called it, before the stage is taken off the
	// path: what a DPoP proof names.
	called := dpop.Called(dpop.Event{Version2: true, Method: ev.RequestContext.HTTP.Method, DomainName: ev.RequestContext.DomainName,
		RawPath: ev.RawPath, HTTPPath: ev.RequestContext.HTTP.Path})
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
	resp, err := f.adapter.ProxyWithContext(dpop.WithRequest(ctx, called), ev)
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
	called := dpop.Called(dpop.Event{Method: ev.HTTPMethod, DomainName: ev.RequestContext.DomainName, ContextPath: ev.RequestContext.Path})
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
	resp, err := f.adapter.ProxyWithContext(dpop.WithRequest(ctx, called), ev)
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

// readEvent decodes an event strictly: a member name twice in one object,
// or invalid UTF-8, makes it unreadable (encoding/json would keep the last
// of two names, and mangle invalid UTF-8). Member names match exactly.
func readEvent(payload []byte, ev any) *Refusal {
	if err := jsonv2.Unmarshal(payload, ev); err != nil {
		return invalid("event", "is not a readable proxy event")
	}
	return nil
}

// logRefusal logs one line for a refusal, with the path cut to 256 bytes.
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

// encode writes a proxy response as the Lambda runtime would.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as the Lambda runtime encodes a handler's answer
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// firstNonEmpty is a, or b when a is empty.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// gatewayRoute is one pattern of the gateway: the function it forwards
// to (or "" for the stack's own handlers) and whether the authorizer runs.
type gatewayRoute struct {
	pattern, fn string
	guarded     bool
}

// routes registers the gateway's patterns on mux and lists them: the
// functions' routes from the one route table, then the stack's own
// (the example app, the demo route, its local controls).
func (s *Stack) routes(mux *http.ServeMux) []gatewayRoute {
	var out []gatewayRoute
	handle := func(pattern, fn string, guarded bool, h http.Handler) {
		mux.Handle(pattern, h)
		out = append(out, gatewayRoute{pattern, fn, guarded})
	}
	// The stack's function for each HTTP row of the table. A row missing
	// here is not served (TestGatewayIsTheRouteTable and
	// TestGatewayServesNothingOutsideTheTable fail), rather than forwarded
	// to a nil function.
	fns := map[string]*function{"sessions": s.sessions, "settings": s.admin, "signals": s.signals}
	for name, routes := range wiring.Routes() {
		if fns[name] == nil {
			s.log.Error("gateway: the table's HTTP function has no local function; its routes are not served", "function", name)
			continue
		}
		seen := map[string]bool{}
		for _, r := range routes {
			if !seen[r.Path] {
				seen[r.Path] = true
				handle(r.Path, name, !r.Public, s.route(fns[name], !r.Public))
			}
		}
	}
	// The example app (examples/): an API of its own in AWS, here under
	// /example/, behind the same authorizer.
	handle("/example/", "example", true, http.StripPrefix("/example", s.route(s.example, true)))
	handle("/demo", "demo", true, s.route(s.demo, true))
	handle("/demo/", "demo", true, s.route(s.demo, true))
	handle("GET /app", "", false, http.HandlerFunc(serveApp))
	handle("GET /spa/", "", false, s.spa)
	handle("/directory/", "", false, http.StripPrefix("/directory", s.Directory))
	handle("POST /local/run-checks", "", false, http.HandlerFunc(s.runChecksHandler))
	handle("POST /local/poll", "", false, http.HandlerFunc(s.pollHandler))
	handle("GET /local/dpop/", "", false, &s.dpopKeys) // devices' DPoP keys, for the quick-start (dpopdemo.go)
	if s.cloudtrail != nil {
		handle("POST /local/cloudtrail", "", false, http.HandlerFunc(s.cloudtrailHandler))
	}
	// A second stage of the same API, as API Gateway serves a named stage:
	// every route again under /staging/, with the stage variable
	// environment=staging, so two apps (or one app's two environments)
	// share one deployment. The functions get the path with the stage's
	// name in front and the stage's name, as an HTTP API sends them; their
	// edge takes the prefix off (shared/edge).
	handle("/"+StagingEnvironment+"/", "stage "+StagingEnvironment, false, http.StripPrefix("/"+StagingEnvironment, onStage(StagingEnvironment, mux)))
	handle("/", "", false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gatewayError(w, http.StatusNotFound, "Not Found") }))
	return out
}

// stageKey carries the stage variable environment of a request that came
// in through a named stage.
type stageKey struct{}

// onStage serves h as the stage whose variable environment is env; a
// stage is never nested in another.
func onStage(env string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, nested := r.Context().Value(stageKey{}).(string); nested {
			gatewayError(w, http.StatusNotFound, "Not Found")
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stageKey{}, env)))
	})
}

// stageOf is the stage r came in through: $default, or a named stage.
func stageOf(r *http.Request) string {
	if stage, ok := r.Context().Value(stageKey{}).(string); ok {
		return stage
	}
	return "$default"
}

// stagePrefix is what a named stage puts in front of the path an HTTP API
// sends its functions: "/<stage>" ("" for $default).
func stagePrefix(r *http.Request) string {
	if stage := stageOf(r); stage != "$default" {
		return "/" + stage
	}
	return ""
}

// stageVariables are the stage variables of r's stage: environment is the
// local stack's default environment, or the named stage's.
func stageVariables(r *http.Request) map[string]string {
	env := Environment
	if stage := stageOf(r); stage != "$default" {
		env = stage // a named stage is named after its environment
	}
	return map[string]string{"environment": env}
}

// route forwards a request to a function, behind the authorizer if guarded.
func (s *Stack) route(fn *function, guarded bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			gatewayError(w, http.StatusBadRequest, "Bad Request")
			return
		}
		reqID := newRequestID()
		var authCtx map[string]any
		if guarded {
			var status int
			var why reason.Code
			if authCtx, status, why = s.authorize(r, reqID); status != http.StatusOK {
				// Local mode only: the reason API Gateway never shows.
				w.Header().Set("X-Sessionguard-Reason", string(why))
				gatewayError(w, status, http.StatusText(status))
				return
			}
		}
		ev := proxyEvent(r, body, reqID, authCtx)
		payload, _ := json.Marshal(ev)
		out, err := fn.Invoke(r.Context(), payload)
		if err != nil {
			s.log.Error("gateway: function failed", "path", r.URL.Path, "error", err)
			gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			gatewayError(w, http.StatusBadGateway, "Bad Gateway")
			return
		}
		writeResponse(w, resp)
	}
}

// reasonKey carries, through the authorizer's context, where its decision
// hook puts the reason.
type reasonKey struct{}

// authorize builds the HTTP API payload 2.0 authorizer event and calls the
// authorizer; it returns the context and 200, or the gateway's status,
// with the authorizer's reason.
func (s *Stack) authorize(r *http.Request, reqID string) (map[string]any, int, reason.Code) {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version:        "2.0",
		Type:           "REQUEST",
		RouteArn:       "arn:aws:execute-api:local:000000000000:local/" + stageOf(r) + "/" + r.Method + r.URL.Path,
		IdentitySource: []string{r.Header.Get("Authorization"), r.Header.Get(identity.DefaultSessionHeader)},
		RouteKey:       "$default",
		RawPath:        calledPath(r),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookiesOf(r),
		Headers:        headersOf(r),
		RequestContext: requestContext(r, reqID),
		StageVariables: stageVariables(r),
	}
	payload, _ := json.Marshal(ev)
	var why reason.Code
	out, err := s.authorizer.Invoke(context.WithValue(r.Context(), reasonKey{}, &why), payload)
	switch {
	case errors.Is(err, authorizer.ErrUnauthorized):
		return nil, http.StatusUnauthorized, why
	case err != nil:
		return nil, http.StatusInternalServerError, why
	}
	var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
	if err := json.Unmarshal(out, &resp); err != nil || !resp.IsAuthorized {
		return nil, http.StatusForbidden, why
	}
	return resp.Context, http.StatusOK, why
}

// calledPath is the path the client called, escaped, as an HTTP API's
// authorizer event has it in rawPath: with the stage's prefix, and with
// the /example/ prefix under which the local stack serves the example app
// (in AWS an API of its own), which a DPoP proof's htu names.
func calledPath(r *http.Request) string {
	if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		return p
	}
	return stagePrefix(r) + r.URL.EscapedPath()
}

func proxyEvent(r *http.Request, body []byte, reqID string, authCtx map[string]any) events.APIGatewayV2HTTPRequest {
	rc := requestContext(r, reqID)
	if authCtx != nil {
		rc.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: authCtx}
	}
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = strings.Join(v, ",")
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: stagePrefix(r) + r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookiesOf(r), Headers: headersOf(r), QueryStringParameters: q, RequestContext: rc,
		StageVariables: stageVariables(r),
		Body:           base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
	}
}

func requestContext(r *http.Request, reqID string) events.APIGatewayV2HTTPRequestContext {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	return events.APIGatewayV2HTTPRequestContext{
		AccountID: "000000000000", APIID: "local", DomainName: r.Host, DomainPrefix: "local",
		RequestID: reqID, RouteKey: "$default", Stage: stageOf(r),
		Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: r.Method, Path: stagePrefix(r) + r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
		},
	}
}

// headersOf lower-cases names and joins repeated values with commas, as
// HTTP APIs do; cookies travel separately.
func headersOf(r *http.Request) map[string]string {
	h := map[string]string{"host": r.Host}
	for k, v := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		h[strings.ToLower(k)] = strings.Join(v, ",")
	}
	return h
}

func cookiesOf(r *http.Request) []string {
	var out []string
	for _, c := range r.Cookies() {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
}

// gatewayError answers as API Gateway does for its own errors.
func gatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"message\":%q}\n", msg)
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

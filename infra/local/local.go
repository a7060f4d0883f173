// Package local is the embedded local stack of `make run`: a development
// OIDC issuer, the real authorizer, sessions and admin handlers on the
// in-memory store (or on a DynamoDB server, when given one), and a gateway that turns HTTP requests into the same events API
// Gateway would send (HTTP API, payload 2.0) and calls the handlers through
// the Lambda runtime's own decode/encode path. No AWS, no Docker, no
// network beyond loopback.
package local

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/sessionguard/sessionguard/examples/app"
	"github.com/sessionguard/sessionguard/infra/local/devdir"
	"github.com/sessionguard/sessionguard/infra/local/devidp"
	"github.com/sessionguard/sessionguard/shared/adminapi"
	"github.com/sessionguard/sessionguard/shared/auditor"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/backchannel"
	"github.com/sessionguard/sessionguard/shared/cognitoevents"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/edge"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/token"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// Environment is the local stack's one environment.
const Environment = "demo"

// Options configure the stack.
type Options struct {
	Addr string           // listen address; default 127.0.0.1:8080
	Log  io.Writer        // JSON logs; default os.Stdout
	Now  func() time.Time // default time.Now
	// DynamoDB is the endpoint of a DynamoDB server (e.g. a local one) to
	// keep state in, in table Table (default sessionguard-local, created
	// if missing). Empty: the in-memory store.
	DynamoDB string
	Table    string
	// Issuers are trusted beside the development issuer (a test's real
	// OpenID Provider, say).
	Issuers []token.Issuer
	// Console, when set, is where the admin console signs in instead of
	// the development issuer.
	Console *config.Console
	// Cognito, when set, is the endpoint of a server speaking Cognito's
	// protocol (moto): the stack creates a user pool there with an app
	// client and two users, trusts its tokens (profile cognito) and
	// receives its CloudTrail-shaped events at POST /local/cloudtrail.
	Cognito string
	// CheckEvery is how often the policy checks (refresher) and the audit
	// run in the background; default 30s; negative: never (only
	// POST /local/run-checks).
	CheckEvery time.Duration
}

// Store is what the stack's functions need of storage.
type Store interface {
	authorizer.Store
	sessionapi.Store
	adminapi.Store
	wiring.RefresherStore
	auditor.Store
	signals.Store
	cognitoevents.Store
	backchannel.Store
	wiring.SignalsStore
	wiring.AdminStore
	ssf.StreamStore
	// ScheduleCheck makes a user due (POST /local/run-checks).
	ScheduleCheck(ctx context.Context, env string, user session.UserKey, at time.Time) error
}

// AdminRole is the role the quick-start's admin token carries.
const AdminRole = "sessionguard-admin"

// Stack is a running local stack.
type Stack struct {
	URL       string
	IdP       *devidp.Issuer
	Store     Store
	Storage   string // "in-memory store" or "DynamoDB at <endpoint>, table <t>"
	Directory *devdir.Directory
	// Cognito is the local user pool (with -cognito), its app client and
	// the endpoint it is served at.
	Cognito *LocalPool

	srv        *http.Server
	authorizer *function
	sessions   *function
	admin      *function
	signals    *function
	demo       *function
	cloudtrail *function // the user pool's events, as EventBridge delivers them
	receiver   *signals.Receiver
	streams    *ssf.Manager
	example    *function // the example app of examples/app, as its own API would serve it
	refresher  *refresher.Refresher
	auditor    *auditor.Auditor
	stop       chan struct{}
	done       chan struct{}
	now        func() time.Time
	log        *slog.Logger
}

// Start listens on o.Addr and serves the stack until Close.
func Start(o Options) (*Stack, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = 30 * time.Second
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("local: address %q: %w", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("local: address %q is not loopback: the development issuer mints tokens for anyone", o.Addr)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("local: listen on %s: %w", o.Addr, err)
	}
	base := "http://" + ln.Addr().String()
	log := obs.NewLogger(o.Log)
	idp, err := devidp.New(base+"/idp", o.Now)
	if err != nil {
		ln.Close()
		return nil, err
	}
	// The issuer is served first: the functions fetch its keys as they
	// start, as deployed functions do at cold start.
	mux := http.NewServeMux()
	mux.Handle("/idp/", http.StripPrefix("/idp", idp))
	// The gateway refuses a request whose method, path or query a router
	// would misread before its router sees it, as each function's edge
	// does; the server's own errors go to the JSON log, escaped.
	srv := &http.Server{Handler: edge.Gateway(mux, log), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go srv.Serve(ln)
	d := wiring.Deps{Log: log, Now: o.Now, Config: config.Config{
		Token: token.Config{
			Issuers: append(trustedIssuers(idp), o.Issuers...),
			Now:     o.Now,
		},
		Environments: authorizer.Environments{Source: "stage", Name: "environment", Known: []string{Environment}},
		// The background checks are the stack's policy checks: with them,
		// a session whose user was not checked in time is stale, as in a
		// deployment with a directory, and the budget counts them.
		Enforcement:     policy.Enforcement{PolicyChecks: o.CheckEvery >= 0, CheckSlack: o.CheckEvery},
		SimpleResponses: true,
		AdminRole:       AdminRole,
		Signals:         []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.SETAudience}, Algorithms: []string{"RS256", "ES256", "EdDSA"}}},
		// The development issuer is also the Shared Signals transmitter; its
		// stream credential is given as is (a deployment names a secret).
		// It revokes only its own users.
		SignalsCredentials:    map[string]string{idp.URL(): devidp.TransmitterCredential},
		SignalsSubjectIssuers: map[string][]string{idp.URL(): {idp.URL()}},
		SignalsURL:            base + "/signals",
		Console:               config.Console{AuthorizeURL: idp.URL() + "/authorize", TokenURL: idp.URL() + "/token", ClientID: "sessionguard-console"},
	}}
	if o.Console != nil {
		d.Config.Console = *o.Console
	}
	var lp *LocalPool
	if o.Cognito != "" {
		if lp, err = newLocalPool(context.Background(), o.Cognito); err != nil {
			srv.Close()
			return nil, err
		}
		d.Config.Token.Issuers = append(d.Config.Token.Issuers, token.Issuer{Issuer: lp.Pool.Issuer(), JWKSURL: lp.Pool.JWKSURL(),
			Profile: "cognito", ClientIDs: []string{lp.ClientID}, GrantsAdmin: true}) // its group sessionguard-admin
		d.Config.Directory.UserPoolID = lp.Pool.ID
	}
	ctx := context.Background()
	v, err := d.Config.Verifier(ctx, log)
	if err != nil {
		srv.Close()
		return nil, err
	}
	adminV, err := wiring.AdminVerifier(ctx, d)
	if err != nil {
		srv.Close()
		return nil, err
	}
	signalsV, err := wiring.SignalsVerifier(ctx, d)
	if err != nil {
		srv.Close()
		return nil, err
	}
	store, storage, err := openStore(o)
	if err != nil {
		srv.Close()
		return nil, err
	}
	dir := devdir.New()
	dir.DefaultActive = true // any name can sign in locally
	_, authz := wiring.Authorizer(d, v, store, func(ctx context.Context, r authorizer.Result) {
		if p, ok := ctx.Value(reasonKey{}).(*reason.Code); ok {
			*p = r.Reason
		}
	})
	var cloudtrail *function
	if lp != nil {
		rc, err := wiring.CognitoEvents(d, store)
		if err != nil {
			srv.Close()
			return nil, err
		}
		cloudtrail = newFunction(rc.Handle)
	}
	quiet := d // the scheduled runs log only when something happened
	quiet.Log = slog.New(newQuietHandler(log.Handler()))
	receiver := wiring.Signals(d, signalsV, store)
	streams := wiring.Streams(d, store, func(_ context.Context, credential string) (string, error) { return credential, nil })
	s := &Stack{
		URL: base, IdP: idp, Store: store, Storage: storage, Directory: dir, log: log,
		receiver: receiver, streams: streams,
		signals:   newFunction(wiring.Proxy(d, receiver)),
		refresher: wiring.Refresher(quiet, &directory.HTTPJSON{BaseURL: base + "/directory"}, store, nil),
		auditor:   wiring.Auditor(quiet, store),
		stop:      make(chan struct{}), done: make(chan struct{}), now: o.Now,
		authorizer: newFunction(authz),
		sessions:   newFunction(wiring.Proxy(d, wiring.Sessions(d, v, store))),
		admin:      newFunction(wiring.Proxy(d, wiring.Admin(d, adminV, store, streams))),
		demo:       newFunction(wiring.Proxy(d, http.HandlerFunc(demo))),
		cloudtrail: cloudtrail, Cognito: lp,
		example: newFunction(wiring.Proxy(d, app.Handler())),
	}
	// The functions' routes, from the one route table the template is
	// held to: behind the authorizer unless public. A path takes every
	// method, as the template's catch-all routes do: the function answers
	// a method it does not serve.
	fns := map[string]*function{"sessions": s.sessions, "settings": s.admin, "signals": s.signals}
	for name, routes := range wiring.Routes() {
		seen := map[string]bool{}
		for _, r := range routes {
			if !seen[r.Path] {
				seen[r.Path] = true
				mux.HandleFunc(r.Path, s.route(fns[name], !r.Public))
			}
		}
	}
	// The example app (examples/): an API of its own in AWS, here under
	// /example/, behind the same authorizer.
	mux.Handle("/example/", http.StripPrefix("/example", s.route(s.example, true)))
	mux.HandleFunc("/demo", s.route(s.demo, true))
	mux.HandleFunc("/demo/", s.route(s.demo, true))
	mux.HandleFunc("GET /app", serveApp)
	mux.Handle("/directory/", http.StripPrefix("/directory", dir))
	mux.HandleFunc("POST /local/run-checks", s.runChecksHandler)
	mux.HandleFunc("POST /local/poll", s.pollHandler)
	if s.cloudtrail != nil {
		mux.HandleFunc("POST /local/cloudtrail", s.cloudtrailHandler)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { gatewayError(w, http.StatusNotFound, "Not Found") })
	s.srv = srv
	go s.background(o.CheckEvery)
	return s, nil
}

// trustedIssuers are the development issuer itself (profile oidc) and
// one entry per profile for the tokens it mints in that profile's shape
// (/idp/token?profile=…), all served from its one key set.
func trustedIssuers(idp *devidp.Issuer) []token.Issuer {
	algs := []string{"RS256", "ES256", "EdDSA"}
	out := []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}, Algorithms: algs, GrantsAdmin: true}}
	for _, p := range devidp.Profiles {
		out = append(out, token.Issuer{Issuer: idp.ProfileIssuer(p), JWKSURL: idp.URL() + "/jwks.json", Profile: p,
			Audiences: []string{devidp.DefaultAudience}, ClientIDs: []string{devidp.DefaultClientID}, Algorithms: algs})
	}
	return out
}

func openStore(o Options) (Store, string, error) {
	if o.DynamoDB == "" {
		return memstore.New(o.Now), "in-memory store", nil
	}
	if o.Table == "" {
		o.Table = "sessionguard-local"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	db, err := dynamostore.NewClient(ctx, dynamostore.ClientOptions{Endpoint: o.DynamoDB, Region: region, LocalCredentials: true})
	if err != nil {
		return nil, "", err
	}
	if err := dynamostore.CreateTable(ctx, db, o.Table); err != nil {
		return nil, "", fmt.Errorf("local: DynamoDB at %s: %w", o.DynamoDB, err)
	}
	return dynamostore.New(db, o.Table, o.Now), fmt.Sprintf("DynamoDB at %s, table %s", o.DynamoDB, o.Table), nil
}

// background runs the policy checks and the audit every `every`, as the
// schedules do in AWS.
func (s *Stack) background(every time.Duration) {
	defer close(s.done)
	if every < 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.runChecks(context.Background(), false)
		}
	}
}

// checksResult is what a run of the checks and the audit reports.
type checksResult struct {
	Refresher map[string]refresher.Report `json:"refresher"`
	Audits    []auditor.Report            `json:"audits"`
}

// runChecks runs the refresher and the auditor; with force, every user is
// made due first (the quick-start cannot wait an hour).
func (s *Stack) runChecks(ctx context.Context, force bool) (checksResult, error) {
	if force {
		now := s.now()
		users, _, err := s.Store.Users(ctx, Environment, session.Page{Limit: 100})
		if err != nil {
			return checksResult{}, err
		}
		for _, u := range users {
			if err := s.Store.ScheduleCheck(ctx, Environment, u.Key, now); err != nil {
				return checksResult{}, err
			}
		}
	}
	var res checksResult
	var err error
	if res.Refresher, err = s.refresher.Run(ctx); err != nil {
		s.log.Error("local: policy checks", "err", err)
		return res, err
	}
	if res.Audits, err = s.auditor.Run(ctx); err != nil {
		s.log.Error("local: audit", "err", err)
	}
	return res, err
}

func (s *Stack) runChecksHandler(w http.ResponseWriter, r *http.Request) {
	res, err := s.runChecks(r.Context(), true)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "checks failed: "+err.Error())
		return
	}
	json.NewEncoder(w).Encode(res)
}

// Close stops the stack.
// pollHandler runs the Shared Signals poll (the signalspoll function's
// job, on a schedule in AWS) now.
func (s *Stack) pollHandler(w http.ResponseWriter, r *http.Request) {
	rep, err := s.streams.Poll(r.Context(), s.receiver)
	if err != nil {
		gatewayError(w, http.StatusBadGateway, "Bad Gateway")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rep)
}

// cloudtrailHandler hands an "AWS API Call via CloudTrail" event to the
// Cognito events function, as the template's EventBridge rule does (moto
// emits no CloudTrail events: the quick-start posts the one AWS would).
func (s *Stack) cloudtrailHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
	if err != nil {
		gatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	out, err := s.cloudtrail.Invoke(r.Context(), body)
	if err != nil {
		gatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(out, '\n'))
}

func (s *Stack) Close() error {
	close(s.stop)
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// appPage is a demo app page: it signs in (?user=, default alice) with a
// development token, calls the protected route, and includes the expiry
// warning snippet (?poll= seconds between its checks, default 30).
//
//go:embed app.html
var appPage []byte

func serveApp(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(appPage)
}

// demo is the protected demo route: it echoes the authorizer context.
func demo(w http.ResponseWriter, r *http.Request) {
	rc, _ := core.GetAPIGatewayV2ContextFromContext(r.Context())
	var ctx map[string]any
	if rc.Authorizer != nil {
		ctx = rc.Authorizer.Lambda
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"message": "hello from the protected demo route", "authorizer": ctx})
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
			s.log.Error("gateway: function failed", "path", r.URL.Path, "err", err)
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

// authorize builds the HTTP API payload 2.0 authorizer event and calls the
// authorizer; it returns the context and 200, or the gateway's status.
// reasonKey carries, through the authorizer's context, where its decision
// hook puts the reason.
type reasonKey struct{}

func (s *Stack) authorize(r *http.Request, reqID string) (map[string]any, int, reason.Code) {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version:        "2.0",
		Type:           "REQUEST",
		RouteArn:       "arn:aws:execute-api:local:000000000000:local/$default/" + r.Method + r.URL.Path,
		IdentitySource: []string{r.Header.Get("Authorization"), r.Header.Get("X-Session-Id")},
		RouteKey:       "$default",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Cookies:        cookiesOf(r),
		Headers:        headersOf(r),
		RequestContext: requestContext(r, reqID),
		StageVariables: map[string]string{"environment": Environment},
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
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookiesOf(r), Headers: headersOf(r), QueryStringParameters: q, RequestContext: rc,
		StageVariables: map[string]string{"environment": Environment},
		Body:           base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
	}
}

func requestContext(r *http.Request, reqID string) events.APIGatewayV2HTTPRequestContext {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	return events.APIGatewayV2HTTPRequestContext{
		AccountID: "000000000000", APIID: "local", DomainName: r.Host, DomainPrefix: "local",
		RequestID: reqID, RouteKey: "$default", Stage: "$default",
		Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
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

// QuickStart is the copy-pasteable walk-through printed by `make run`.
func (s *Stack) QuickStart() string {
	u := s.URL
	return fmt.Sprintf(`sessionguard local stack on %[1]s
  environment %[2]q, %[3]s, development issuer at %[1]s/idp (it mints tokens for anyone: loopback only)
  admin console: %[1]s/console/    demo app with the expiry warning: %[1]s/app?user=alice
  the example app of examples/ (its own API in AWS): %[1]s/example/hello and /example/items, behind the authorizer

Quick start (copy and paste into another shell):

# 1. Mint an access token for alice at the development issuer
TOKEN=$(curl -s '%[1]s/idp/token?user=alice')

# 2. Sign in: a session bound to alice, its id in the JSON body and a cookie
SID=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -d '{"staySignedIn":false}' %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')

# 3. Call the protected route: the authorizer allows it; the route echoes the authorizer context
curl -s -i -H "Authorization: Bearer $TOKEN" -H "X-Session-Id: $SID" %[1]s/demo

# 4. Another user's token on alice's session is refused: 403 (binding_user)
MALLORY=$(curl -s '%[1]s/idp/token?user=mallory')
curl -s -i -H "Authorization: Bearer $MALLORY" -H "X-Session-Id: $SID" %[1]s/demo

# 5. Sign out (204), then call again with the same token and session: refused, 401 (session_revoked)
curl -s -i -X DELETE -H "X-Session-Id: $SID" %[1]s/sessions/current
curl -s -i -H "Authorization: Bearer $TOKEN" -H "X-Session-Id: $SID" %[1]s/demo

# 6. The old token cannot start a new session: sign in again with credentials (401)
curl -s -i -X POST -H "Authorization: Bearer $TOKEN" %[1]s/sessions

# 7. An admin (a token with the %[4]s role) signs in and reads the settings (the first time: defaults, ETag "0"), keeping the ETag
ADMIN=$(curl -s '%[1]s/idp/token?user=root&role=%[4]s')
ASID=$(curl -s -X POST -H "Authorization: Bearer $ADMIN" %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
SETTINGS=$(curl -s -i -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" %[1]s/environments/%[2]s/settings); echo "$SETTINGS"
ETAG=$(echo "$SETTINGS" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')

# 8. ...and sets an 8-hour session lifetime (If-Match carries the ETag read; a stale one gets 412)
curl -s -i -X PUT -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" -H "If-Match: $ETAG" \
  -d '{"sessionExpiration":{"enabled":true,"maxSessionMinutes":480}}' %[1]s/environments/%[2]s/settings

# 9. A new sign-in gets the new settings: expiresAt 8 hours from now, warnAt 20 minutes before
BOB=$(curl -s '%[1]s/idp/token?user=bob')
BOB_SIGNIN=$(curl -s -X POST -H "Authorization: Bearer $BOB" %[1]s/sessions); echo "$BOB_SIGNIN"
BSID=$(echo "$BOB_SIGNIN" | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')

# 10. The change is in the history: who, when, old and new values, version
curl -s -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" %[1]s/environments/%[2]s/settings/history; echo

# 11. bob is disabled in the development directory; a policy-check run (every 30 s, or now) revokes his sessions: 401
curl -s -X PUT -d '{"enabled":false}' %[1]s/directory/admin/users/bob
curl -s -X POST %[1]s/local/run-checks; echo
curl -s -i -H "Authorization: Bearer $BOB" -H "X-Session-Id: $BSID" %[1]s/demo
# (bob is enabled again in the directory: the next check lets him sign in anew; the revoked session stays revoked)
curl -s -X PUT -d '{"enabled":true}' %[1]s/directory/admin/users/bob

# 12. The IdP pushes a session-revoked event (a Shared Signals SET) for carol: 202, and her session ends: 401
CAROL=$(curl -s '%[1]s/idp/token?user=carol')
CSID=$(curl -s -X POST -H "Authorization: Bearer $CAROL" %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
curl -s -i -X POST -H 'Content-Type: application/secevent+jwt' --data "$(curl -s '%[1]s/idp/set?user=carol&event=session-revoked')" %[1]s/signals
curl -s -i -H "Authorization: Bearer $CAROL" -H "X-Session-Id: $CSID" %[1]s/demo

# 13. The audit reports of the runs: active sessions, revocations by cause, users failing checks, settings changes
curl -s -X POST %[1]s/local/run-checks > /dev/null
curl -s -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" '%[1]s/environments/%[2]s/audits?limit=1'; echo

# 14. Shared Signals: set up a stream at the development transmitter (the console's "Shared Signals" panel does the same), verify it, push an event through it
curl -s -X PUT -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" -d '{"delivery":"push"}' '%[1]s/transmitters/stream?issuer=%[1]s/idp'; echo
curl -s -X POST -H "Authorization: Bearer $ADMIN" -H "X-Session-Id: $ASID" '%[1]s/transmitters/stream/verify?issuer=%[1]s/idp'; echo
DAVE=$(curl -s '%[1]s/idp/token?user=dave')
DSID=$(curl -s -X POST -H "Authorization: Bearer $DAVE" %[1]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
curl -s '%[1]s/idp/set?user=dave&event=session-revoked&deliver=1'
curl -s -i -H "Authorization: Bearer $DAVE" -H "X-Session-Id: $DSID" %[1]s/demo
%[5]s
Every decision is logged as one JSON line with its reason code. Ctrl-C stops the stack.
`, u, Environment, s.Storage, AdminRole, s.cognitoQuickStart())
}

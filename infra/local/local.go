// Package local is the embedded local stack of `make run`: a development
// OIDC issuer, the real authorizer, sessions and admin handlers on the
// in-memory store (or on a DynamoDB server, when given one), and a gateway
// that turns HTTP requests into the same events API Gateway would send
// (HTTP API, payload 2.0) and calls the handlers through the Lambda
// runtime's own decode/encode path. No AWS, no Docker, no network beyond
// loopback.
package local

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sessionguard/sessionguard/examples/app"
	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/adminapi"
	"github.com/sessionguard/sessionguard/shared/auditor"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/backchannel"
	"github.com/sessionguard/sessionguard/shared/cognitoevents"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/edge"
	"github.com/sessionguard/sessionguard/shared/environment"
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

// Environment is the local stack's default environment (its $default
// stage's); StagingEnvironment is its second, served under /staging/ as
// a named stage of the same API, and also named by the sessions API's
// environment parameter.
const (
	Environment        = "demo"
	StagingEnvironment = "staging"
)

// AdminRole is the role the quick-start's admin token carries.
const AdminRole = "sessionguard-admin"

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
	// SPA is where the example single-page app (/spa/) signs in; zero:
	// the development issuer.
	SPA SPA
}

// Store is what the stack's functions need of storage.
type Store interface {
	wiring.AuthorizerStore
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
	token.Snapshots
	// ScheduleCheck makes a user due (POST /local/run-checks).
	ScheduleCheck(ctx context.Context, env string, user session.UserKey, at time.Time) error
}

// Stack is a running local stack.
type Stack struct {
	dpopKeys  demoKeys       // devices' DPoP keys, for the quick-start
	gateway   []gatewayRoute // what the gateway serves, as registered
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

	spa http.Handler // the example single-page app of examples/spa
}

// Start listens on o.Addr and serves the stack until Close.
func Start(o Options) (_ *Stack, err error) {
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
	// The one cleanup path: what Start has opened is closed, last first,
	// when it fails.
	var opened []func() error
	defer func() {
		if err != nil {
			for i := len(opened) - 1; i >= 0; i-- {
				opened[i]()
			}
		}
	}()
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("local: listen on %s: %w", o.Addr, err)
	}
	opened = append(opened, ln.Close)
	base := "http://" + ln.Addr().String()
	log := obs.NewLogger(o.Log)
	idp, err := devidp.New(base+"/idp", o.Now)
	if err != nil {
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
	opened = append(opened, srv.Close)
	d := deps(o, base, idp, log)
	var lp *LocalPool
	if o.Cognito != "" {
		if lp, err = newLocalPool(context.Background(), o.Cognito); err != nil {
			return nil, err
		}
		d.Config.Token.Issuers = append(d.Config.Token.Issuers, token.Issuer{Issuer: lp.Pool.Issuer(), JWKSURL: lp.Pool.JWKSURL(),
			Profile: "cognito", ClientIDs: []string{lp.ClientID}, GrantsAdmin: true}) // its group sessionguard-admin
		d.Config.Directory.UserPoolID = lp.Pool.ID
	}
	ctx := context.Background()
	store, storage, err := openStore(o)
	if err != nil {
		return nil, err
	}
	v, err := wiring.Verifier(ctx, d, store)
	if err != nil {
		return nil, err
	}
	adminV, err := wiring.AdminVerifier(ctx, d, store)
	if err != nil {
		return nil, err
	}
	signalsV, err := wiring.SignalsVerifier(ctx, d, store)
	if err != nil {
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
		spa:     spaHandler(o.SPA, base, idp.URL()),
	}
	s.gateway = s.routes(mux)
	s.srv = srv
	go s.background(o.CheckEvery)
	return s, nil
}

// deps are the functions' configuration in the local stack: the
// development issuer (and o.Issuers) trusted, two environments, and the
// development issuer as the Shared Signals transmitter.
func deps(o Options, base string, idp *devidp.Issuer, log *slog.Logger) wiring.Deps {
	d := wiring.Deps{Log: log, Now: o.Now, Config: config.Config{
		Token: token.Config{
			Issuers: append(trustedIssuers(idp), o.Issuers...),
			Now:     o.Now,
		},
		Environments: environment.Config{Source: "stage", Name: "environment", Known: []string{Environment, StagingEnvironment}},
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
	return d
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

// openStore opens the store o names, and says which: a DynamoDB server's
// table (created if missing) with o.DynamoDB, else the in-memory store.
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

// Close stops the stack: the background checks, then the server.
func (s *Stack) Close() error {
	close(s.stop)
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

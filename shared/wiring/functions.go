package wiring

import (
	"context"
	"errors"
	"slices"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/adminapi"
	"github.com/sessionguard/sessionguard/shared/auditor"
	"github.com/sessionguard/sessionguard/shared/backchannel"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/globallogout"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/secrets"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
	"github.com/sessionguard/sessionguard/shared/shardqueue"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/ssf"
)

// A Function is one Lambda function of the stack: a row of Functions.
type Function struct {
	// Name is its folder under functions/, whose main is
	// lambdamain.Start with this row, and under events/ (its sample
	// events).
	Name string
	// LogicalID is its resource in template.yaml; sam build runs the
	// Makefile's build-<LogicalID>.
	LogicalID string
	// Variables are the variables of config.Variables it reads besides
	// the required ones, which every function reads.
	Variables []string
	// Routes are the HTTP routes it serves; none: it is not an HTTP
	// function.
	Routes []route.Route
	// Handler builds its handler, once per cold start, from the
	// configuration and the DynamoDB table; the Lambda runtime runs it
	// (lambda.Start).
	Handler func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error)
}

// Reads reports whether f reads v.
func (f Function) Reads(v config.Variable) bool {
	return v.Required || slices.Contains(f.Variables, v.Name)
}

// Functions is every Lambda function, one row each. The Makefile's
// build targets, the template (TestTableIsTheTemplate), the functions'
// folders, the variables each reads, the routes (Routes) and the
// emulator's sandbox (infra/lambdarun) all follow it. Each function's main
// starts its own row, as the row's constructor builds it; here the
// refresher's row has no queue (the table is read for its names,
// variables and routes, not run), so that this package does not import
// the SQS SDK and only the refresher's binary links it.
func Functions() []Function {
	return []Function{
		AuthorizerFunction(),
		SessionsFunction(),
		SettingsFunction(),
		SignalsFunction(),
		SignalsPollFunction(),
		RefresherFunction(nil),
		RefreshWorkerFunction(),
		CognitoEventsFunction(),
		AuditorFunction(),
	}
}

// LogicalIDs maps each function's name to its logical id.
func LogicalIDs() map[string]string {
	out := map[string]string{}
	for _, f := range Functions() {
		out[f.Name] = f.LogicalID
	}
	return out
}

// Routes are the HTTP routes each function serves, by function name: the
// one table that the template's events, the OpenAPI document and the
// local gateway are held to.
func Routes() map[string][]route.Route {
	out := map[string][]route.Route{}
	for _, f := range Functions() {
		if f.Routes != nil {
			out[f.Name] = f.Routes
		}
	}
	return out
}

// The groups of variables that several functions read: the token
// verifier's limits, the authorizer's enforcement (its cache and the
// policy checks it runs), where a request names its environment and
// carries its session, and the directory the policy checks read.
func tokenLimitVars() []string {
	return []string{"MAX_TOKEN_BYTES", "CLOCK_SKEW_SECONDS", "JWKS_MAX_AGE_SECONDS", "JWKS_UNKNOWN_KID_COOLDOWN_SECONDS", "JWKS_FETCH_TIMEOUT_MS", "TOKEN_CACHE", "JWKS_SNAPSHOT", "JWKS_SNAPSHOT_MAX_AGE_SECONDS"}
}
func enforcementVars() []string {
	return []string{"AUTHORIZER_CACHE_TTL_SECONDS", "POLICY_CHECKS", "POLICY_CHECK_SLACK_MINUTES"}
}
func requestSourceVars() []string {
	return []string{"ENVIRONMENT_SOURCE", "ENVIRONMENT_NAME", "ENVIRONMENT_HOSTS", "SESSION_HEADER", "SESSION_COOKIE",
		"DPOP_PROOF_MAX_AGE_SECONDS", "DPOP_PROOF_MAX_FUTURE_SECONDS"}
}
func directoryVars() []string {
	return []string{"DIRECTORY", "DIRECTORY_URL", "DIRECTORY_TOKEN_URL", "DIRECTORY_CLIENT_ID", "DIRECTORY_SECRET", "DIRECTORY_USER_POOL_ID",
		"DIRECTORY_CONCURRENCY", "MASS_REVOCATION_GUARD_PERCENT", "MASS_REVOCATION_GUARD_MIN_USERS"}
}

// AuthorizerFunction is the API Gateway Lambda authorizer.
func AuthorizerFunction() Function {
	return Function{Name: "authorizer", LogicalID: "AuthorizerFunction",
		Variables: slices.Concat(requestSourceVars(), enforcementVars(), tokenLimitVars(), []string{"AUTHORIZER_RESPONSE"}),
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			v, err := Verifier(ctx, d, store)
			if err != nil {
				return nil, err
			}
			_, h := Authorizer(d, v, store, nil)
			return h, nil
		}}
}

// SessionsFunction serves sign-in, the current session and sign-out,
// and receives back-channel logouts and global token revocation requests.
func SessionsFunction() Function {
	return Function{Name: "sessions", LogicalID: "SessionsFunction",
		Variables: slices.Concat(requestSourceVars(), enforcementVars(), tokenLimitVars(), []string{"CORS_ALLOWED_ORIGINS"}),
		Routes:    append(sessionapi.Routes(), backchannel.Route, globallogout.Route),
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			v, err := Verifier(ctx, d, store)
			if err != nil {
				return nil, err
			}
			return Proxy(d, Sessions(d, v, store)), nil
		}}
}

// SettingsFunction serves the admin API and console.
func SettingsFunction() Function {
	return Function{Name: "settings", LogicalID: "SettingsFunction",
		Variables: slices.Concat(enforcementVars(), tokenLimitVars(), []string{"ADMIN_ROLE", "SETTINGS_LIMITS",
			"CONSOLE_AUTHORIZE_URL", "CONSOLE_TOKEN_URL", "CONSOLE_CLIENT_ID", "SIGNALS_TRANSMITTERS", "SIGNALS_URL"}),
		Routes: adminapi.Routes(),
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			v, err := AdminVerifier(ctx, d, store)
			if err != nil {
				return nil, err
			}
			return Proxy(d, Admin(d, v, store, Streams(d, store, secrets.Get))), nil
		}}
}

// SignalsFunction receives the Security Event Tokens the transmitters
// push: one signed token per POST, answered 202 when applied and 400
// with an error code when refused.
func SignalsFunction() Function {
	return Function{Name: "signals", LogicalID: "SignalsFunction",
		Variables: slices.Concat(tokenLimitVars(), []string{"SIGNALS_TRANSMITTERS"}),
		Routes:    []route.Route{signals.Route},
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			v, err := SignalsVerifier(ctx, d, store)
			if err != nil {
				return nil, err
			}
			return Proxy(d, Signals(d, v, store)), nil
		}}
}

// SignalsPollFunction polls the transmitters whose streams deliver by
// poll, on a schedule (the receiver asks; the transmitter answers with
// the SETs waiting): each SET is verified and applied as a pushed one,
// then acknowledged in the next poll.
func SignalsPollFunction() Function {
	return Function{Name: "signalspoll", LogicalID: "SignalsPollFunction",
		Variables: slices.Concat(tokenLimitVars(), []string{"SIGNALS_TRANSMITTERS"}),
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			v, err := SignalsVerifier(ctx, d, store)
			if err != nil {
				return nil, err
			}
			receiver, streams := Signals(d, v, store), Streams(d, store, secrets.Get)
			return func(ctx context.Context) (map[string]ssf.PollReport, error) { return streams.Poll(ctx, receiver) }, nil
		}}
}

// RefresherFunction re-checks users at the directory, on a schedule;
// above REFRESHER_FANOUT_ABOVE due users it queues shards for
// RefreshWorkerFunction instead, on the queue at REFRESH_QUEUE_URL that
// open returns (its main passes sender.Open). With open nil, a
// configuration that sets REFRESH_QUEUE_URL does not start.
func RefresherFunction(open func(ctx context.Context, url string) (refresher.Queue, error)) Function {
	return Function{Name: "refresher", LogicalID: "RefresherFunction",
		Variables: slices.Concat(directoryVars(), []string{"DIRECTORY_CHANGES", "REFRESH_QUEUE_URL", "REFRESHER_FANOUT_ABOVE", "REFRESHER_SHARD_USERS"}),
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			dir, err := Directory(ctx, d, store, secrets.Get)
			if err != nil {
				return nil, err
			}
			var fan *refresher.FanOut
			if url := d.Config.Directory.QueueURL; url != "" {
				if open == nil {
					return nil, errors.New("wiring: REFRESH_QUEUE_URL is set, but this refresher was built without a queue")
				}
				q, err := open(ctx, url)
				if err != nil {
					return nil, err
				}
				fan = FanOut(d, store, q)
			}
			r := Refresher(d, dir, store, fan)
			return func(ctx context.Context) (map[string]refresher.Report, error) { return r.Run(ctx) }, nil
		}}
}

// RefreshWorkerFunction checks the shards the refresher queues: the
// refresh queue's event source, one shard per message; failed shards go
// back to the queue, then to its dead-letter queue.
func RefreshWorkerFunction() Function {
	return Function{Name: "refreshworker", LogicalID: "RefreshWorkerFunction",
		Variables: directoryVars(),
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			dir, err := Directory(ctx, d, store, secrets.Get)
			if err != nil {
				return nil, err
			}
			r := Refresher(d, dir, store, FanOut(d, store, nil))
			return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				return shardqueue.Handle(ctx, r, d.Log, ev), nil
			}, nil
		}}
}

// CognitoEventsFunction revokes sessions on an Amazon Cognito user
// pool's own management events (CloudTrail, through an EventBridge rule):
// a user disabled, deleted, signed out globally, a token revoked, a
// password reset.
func CognitoEventsFunction() Function {
	return Function{Name: "cognitoevents", LogicalID: "CognitoEventsFunction",
		Variables: []string{"DIRECTORY_USER_POOL_ID"},
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			r, err := CognitoEvents(d, store)
			if err != nil {
				return nil, err
			}
			return r.Handle, nil
		}}
}

// AuditorFunction writes the daily policy audit of each environment, on
// a schedule.
func AuditorFunction() Function {
	return Function{Name: "auditor", LogicalID: "AuditorFunction",
		Handler: func(ctx context.Context, d Deps, store *dynamostore.Store) (any, error) {
			a := Auditor(d, store)
			return func(ctx context.Context) ([]auditor.Report, error) { return a.Run(ctx) }, nil
		}}
}

// Command function is the example app's Lambda function: the routes of
// examples/app, through the edge's checks (shared/edge) and
// aws-lambda-go-api-proxy. APP_API_KIND=rest serves a REST API's proxy
// events; otherwise an HTTP API's (payload 2.0).
//
// The edge refuses an identity source sent more than once, so it must
// name them as the sessionguard stack's authorizer does: the app's stack
// sets SESSION_HEADER, SESSION_COOKIE, ENVIRONMENT_SOURCE and
// ENVIRONMENT_NAME as sessionguard's, and unset they take sessionguard's
// defaults. The example stands alone: it reads only these, not the rest of
// sessionguard's configuration.
package main

import (
	"cmp"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/examples/app"
	"github.com/sessionguard/sessionguard/shared/edge"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/obs"
)

func main() {
	lambda.Start(handler(os.Getenv, newLogger(os.Stdout)))
}

// newLogger returns the function's JSON logger, and makes it the standard
// library's default: what a library prints through package log (the
// adapter prints a request it cannot convert) becomes a JSON line whose
// message is escaped, so no input can forge a line of its own.
func newLogger(w io.Writer) *slog.Logger {
	log := obs.NewLogger(w)
	slog.SetDefault(log)
	return log
}

// handler is the app behind the edge, for the API kind APP_API_KIND names.
func handler(getenv func(string) string, log *slog.Logger) lambda.Handler {
	c := edgeConfig(getenv, log)
	if getenv("APP_API_KIND") == "rest" {
		return edge.NewREST(app.Handler(), c)
	}
	return edge.NewV2(app.Handler(), c)
}

// edgeConfig names the identity sources as sessionguard's functions read
// them (shared/config; a test holds the two equal).
func edgeConfig(getenv func(string) string, log *slog.Logger) edge.Config {
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := edge.Config{Log: log, Sources: identity.Sources{SessionHeader: env("SESSION_HEADER"), SessionCookie: env("SESSION_COOKIE")}.WithDefaults()}
	if env("ENVIRONMENT_SOURCE") == "header" {
		c.EnvironmentHeader = cmp.Or(env("ENVIRONMENT_NAME"), "environment")
	}
	return c
}

// Package lambdamain is every function's main: JSON logs, the
// configuration and the table, then the handler its row of
// wiring.Functions builds, which the Lambda runtime runs. A function that
// cannot start logs why and exits 1, so its cold start fails loudly rather
// than serving.
package lambdamain

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/version"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// Start builds fn's handler and runs it; it returns only if the function
// cannot start (then the process exits). Every line the function logs
// names it and the release (version.Version); the first says "start".
func Start(fn wiring.Function) {
	log := newLogger(os.Stdout).With("function", fn.Name, "version", version.Version)
	h, err := build(context.Background(), wiring.Deps{Log: log}, fn.Handler)
	if err != nil {
		log.Error("start", "error", err)
		os.Exit(1)
	}
	log.Info("start")
	lambda.Start(h)
}

// newLogger returns the function's JSON logger, and makes it the standard
// library's default: what a library prints through package log (the
// Lambda runtime, aws-lambda-go-api-proxy) becomes a JSON line whose
// message is escaped, so no input can forge a line of its own.
func newLogger(w io.Writer) *slog.Logger {
	log := obs.NewLogger(w)
	slog.SetDefault(log)
	return log
}

func build(ctx context.Context, d wiring.Deps, start func(context.Context, wiring.Deps, *dynamostore.Store) (any, error)) (any, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	d.Config = cfg
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return nil, err
	}
	return start(ctx, d, store)
}

// Command signalspoll polls the Shared Signals transmitters whose streams
// deliver by poll (RFC 8936), on a schedule: each SET is verified and
// applied exactly as a pushed one, then acknowledged.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/secrets"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	log := obs.NewLogger(nil)
	if err := run(context.Background(), log); err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	d := wiring.Deps{Config: cfg, Log: log}
	v, err := wiring.SignalsVerifier(ctx, d)
	if err != nil {
		return err
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	receiver, streams := wiring.Signals(d, v, store), wiring.Streams(d, store, secrets.Get)
	lambda.Start(func(ctx context.Context) (map[string]ssf.PollReport, error) { return streams.Poll(ctx, receiver) })
	return nil
}

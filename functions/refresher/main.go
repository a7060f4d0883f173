// Command refresher re-checks users at the directory (SPEC section 4), run
// by an EventBridge schedule; above REFRESHER_FANOUT_ABOVE due users it
// queues shards for the refreshworker function instead.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/shardqueue"
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
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	dir, err := cfg.NewDirectory(ctx, store)
	if err != nil {
		return err
	}
	var fan *refresher.FanOut
	if cfg.Directory.QueueURL != "" {
		client, err := shardqueue.NewClient(ctx, shardqueue.Options{})
		if err != nil {
			return err
		}
		fan = wiring.FanOut(d, store, &shardqueue.Queue{Client: client, URL: cfg.Directory.QueueURL})
	}
	r := wiring.Refresher(d, dir, store, fan)
	lambda.Start(func(ctx context.Context) (map[string]refresher.Report, error) { return r.Run(ctx) })
	return nil
}

// Command refreshworker checks the shards the refresher queues when one
// invocation is not enough (REFRESH_QUEUE_URL): the refresh queue's event
// source, one shard per message; failed shards go back to the queue, then
// to its dead-letter queue.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
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
	r := wiring.Refresher(d, dir, store, wiring.FanOut(d, store, nil))
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return shardqueue.Handle(ctx, r, log, ev), nil
	})
	return nil
}

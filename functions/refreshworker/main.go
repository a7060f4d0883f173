// Command refreshworker checks the shards the refresher queues when one
// invocation is not enough (REFRESH_QUEUE_URL): the refresh queue's event
// source, one shard per message; failed shards go back to the queue, then
// to its dead-letter queue.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/secrets"
	"github.com/sessionguard/sessionguard/shared/shardqueue"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		dir, err := wiring.Directory(ctx, d, store, secrets.Get)
		if err != nil {
			return nil, err
		}
		r := wiring.Refresher(d, dir, store, wiring.FanOut(d, store, nil))
		return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return shardqueue.Handle(ctx, r, d.Log, ev), nil
		}, nil
	})
}

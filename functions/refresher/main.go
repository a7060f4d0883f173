// Command refresher re-checks users at the directory (SPEC section 4), run
// by an EventBridge schedule; above REFRESHER_FANOUT_ABOVE due users it
// queues shards for the refreshworker function instead.
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/refresher"
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
		var fan *refresher.FanOut
		if url := d.Config.Directory.QueueURL; url != "" {
			client, err := shardqueue.NewClient(ctx, shardqueue.Options{})
			if err != nil {
				return nil, err
			}
			fan = wiring.FanOut(d, store, &shardqueue.Queue{Client: client, URL: url})
		}
		r := wiring.Refresher(d, dir, store, fan)
		return func(ctx context.Context) (map[string]refresher.Report, error) { return r.Run(ctx) }, nil
	})
}

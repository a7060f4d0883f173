// Command signalspoll polls the Shared Signals transmitters whose streams
// deliver by poll (RFC 8936), on a schedule: each SET is verified and
// applied exactly as a pushed one, then acknowledged.
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/secrets"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		v, err := wiring.SignalsVerifier(ctx, d)
		if err != nil {
			return nil, err
		}
		receiver, streams := wiring.Signals(d, v, store), wiring.Streams(d, store, secrets.Get)
		return func(ctx context.Context) (map[string]ssf.PollReport, error) { return streams.Poll(ctx, receiver) }, nil
	})
}

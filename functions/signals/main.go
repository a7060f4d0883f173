// Command signals receives Shared Signals / CAEP Security Event Tokens
// pushed by the identity provider (RFC 8935), through the
// edge's checks and aws-lambda-go-api-proxy (wiring.Proxy).
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		v, err := wiring.SignalsVerifier(ctx, d)
		if err != nil {
			return nil, err
		}
		return wiring.Proxy(d, wiring.Signals(d, v, store)), nil
	})
}

// Command signals receives Shared Signals / CAEP Security Event Tokens
// pushed by the identity provider (RFC 8935), through
// aws-lambda-go-api-proxy.
package main

import (
	"context"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
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
		return httpadapter.NewV2(wiring.Signals(d, v, store)).ProxyWithContext, nil
	})
}

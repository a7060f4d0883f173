// Command sessions serves sign-in, the current session and sign-out
// (SPEC section 3) through the edge's checks and aws-lambda-go-api-proxy
// (wiring.Proxy).
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		v, err := wiring.Verifier(ctx, d)
		if err != nil {
			return nil, err
		}
		return wiring.Proxy(d, wiring.Sessions(d, v, store)), nil
	})
}

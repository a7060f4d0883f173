// Command settings serves the admin API (SPEC section 7) through the
// edge's checks and aws-lambda-go-api-proxy (wiring.Proxy).
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/secrets"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		v, err := wiring.AdminVerifier(ctx, d)
		if err != nil {
			return nil, err
		}
		return wiring.Proxy(d, wiring.Admin(d, v, store, wiring.Streams(d, store, secrets.Get))), nil
	})
}

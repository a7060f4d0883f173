// Command settings serves the admin API (SPEC section 7) through
// aws-lambda-go-api-proxy.
package main

import (
	"context"

	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
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
		return httpadapter.NewV2(wiring.Admin(d, v, store, wiring.Streams(d, store, secrets.Get))).ProxyWithContext, nil
	})
}

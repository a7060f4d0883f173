// Command sessions serves sign-in, the current session and sign-out
// (SPEC section 3) through aws-lambda-go-api-proxy.
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
		v, err := d.Config.Verifier(ctx, d.Log)
		if err != nil {
			return nil, err
		}
		return httpadapter.NewV2(wiring.Sessions(d, v, store)).ProxyWithContext, nil
	})
}

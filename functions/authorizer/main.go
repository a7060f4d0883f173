// Command authorizer is the API Gateway Lambda authorizer (SPEC section 5).
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
		_, h := wiring.Authorizer(d, v, store, nil)
		return h, nil
	})
}

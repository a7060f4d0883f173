// Command cognitoevents revokes sessions on an Amazon Cognito user pool's
// own management events (CloudTrail, through an EventBridge rule): a user
// disabled, deleted, signed out globally, a token revoked, a password
// reset.
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		r, err := wiring.CognitoEvents(d, store)
		if err != nil {
			return nil, err
		}
		return r.Handle, nil
	})
}

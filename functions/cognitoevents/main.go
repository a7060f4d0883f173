// Command cognitoevents revokes sessions on an Amazon Cognito user pool's
// own management events (CloudTrail, through an EventBridge rule): a user
// disabled, deleted, signed out globally, a token revoked, a password
// reset.
// Its handler is built by its row of the function table,
// wiring.CognitoEventsFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.CognitoEventsFunction()) }

// Command sessions serves sign-in, the current session and sign-out, and
// receives back-channel logouts, through the edge's checks and
// aws-lambda-go-api-proxy (wiring.Proxy).
// Its handler is built by its row of the function table,
// wiring.SessionsFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.SessionsFunction()) }

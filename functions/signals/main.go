// Command signals receives Shared Signals / CAEP Security Event Tokens
// pushed by the identity provider (RFC 8935), through the edge's checks
// and aws-lambda-go-api-proxy (wiring.Proxy).
// Its handler is built by its row of the function table,
// wiring.SignalsFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.SignalsFunction()) }

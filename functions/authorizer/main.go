// Command authorizer is the API Gateway Lambda authorizer (docs/authorizer.md).
// Its handler is built by its row of the function table,
// wiring.AuthorizerFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.AuthorizerFunction()) }

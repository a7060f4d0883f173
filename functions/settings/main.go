// Command settings serves the admin API and console (docs/admin.md)
// through the edge's checks and aws-lambda-go-api-proxy (wiring.Proxy).
// Its handler is built by its row of the function table,
// wiring.SettingsFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.SettingsFunction()) }

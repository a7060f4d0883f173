// Command auditor writes the daily policy audit of each environment, run
// by an EventBridge schedule.
// Its handler is built by its row of the function table,
// wiring.AuditorFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.AuditorFunction()) }

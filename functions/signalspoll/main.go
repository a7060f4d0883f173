// Command signalspoll polls the Shared Signals transmitters whose streams
// deliver by poll (RFC 8936), on a schedule: each SET is verified and
// applied exactly as a pushed one, then acknowledged.
// Its handler is built by its row of the function table,
// wiring.SignalsPollFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.SignalsPollFunction()) }

// Command refresher re-checks users at the directory, run by an
// EventBridge schedule; above REFRESHER_FANOUT_ABOVE due users it queues
// shards for the refreshworker function instead.
// Its handler is built by its row of the function table,
// wiring.RefresherFunction, with the SQS queue of package
// shardqueue/sender, which only this function links.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/shardqueue/sender"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.RefresherFunction(sender.Open)) }

// Command refreshworker checks the shards the refresher queues when one
// invocation is not enough (REFRESH_QUEUE_URL): the refresh queue's event
// source, one shard per message; failed shards go back to the queue, then
// to its dead-letter queue.
// Its handler is built by its row of the function table,
// wiring.RefreshWorkerFunction.
package main

import (
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() { lambdamain.Start(wiring.RefreshWorkerFunction()) }

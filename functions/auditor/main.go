// Command auditor writes the daily policy audit of each environment (SPEC
// section 8), run by an EventBridge schedule.
package main

import (
	"context"

	"github.com/sessionguard/sessionguard/shared/auditor"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/lambdamain"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	lambdamain.Start(func(ctx context.Context, d wiring.Deps, store *dynamostore.Store) (any, error) {
		a := wiring.Auditor(d, store)
		return func(ctx context.Context) ([]auditor.Report, error) { return a.Run(ctx) }, nil
	})
}

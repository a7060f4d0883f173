// Command cognitoevents revokes sessions on an Amazon Cognito user pool's
// own management events (CloudTrail, through an EventBridge rule): a user
// disabled, deleted, signed out globally, a token revoked, a password
// reset.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	log := obs.NewLogger(nil)
	if err := run(context.Background(), log); err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	r, err := wiring.CognitoEvents(wiring.Deps{Config: cfg, Log: log}, store)
	if err != nil {
		return err
	}
	lambda.Start(r.Handle)
	return nil
}

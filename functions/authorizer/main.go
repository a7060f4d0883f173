// Command authorizer is the API Gateway Lambda authorizer (SPEC section 5).
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
	d := wiring.Deps{Config: cfg, Log: log}
	v, err := cfg.Verifier(ctx, log)
	if err != nil {
		return err
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	_, h := wiring.Authorizer(d, v, store, nil)
	lambda.Start(h)
	return nil
}

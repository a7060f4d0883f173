// Command authorizer is the API Gateway Lambda authorizer (SPEC section 5).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
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
	v, err := cfg.Verifier(ctx, log)
	if err != nil {
		return err
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	a := authorizer.New(v, store, cfg.Environments, cfg.Enforcement, nil)
	lambda.Start(authorizer.NewHandler(a, authorizer.HandlerOptions{SimpleResponses: cfg.SimpleResponses, Sources: cfg.Sources, Log: log}))
	return nil
}

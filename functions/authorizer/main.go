// Command authorizer is the API Gateway Lambda authorizer (SPEC section 5).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
)

func main() {
	log := obs.NewLogger(nil)
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	v, err := cfg.Verifier(context.Background(), log)
	if err != nil {
		log.Error("start", "err", err)
		os.Exit(1)
	}
	// The DynamoDB store replaces the memory store in the next milestone.
	a := authorizer.New(v, memstore.New(nil), cfg.Environments, cfg.Enforcement, nil)
	lambda.Start(authorizer.NewHandler(a, authorizer.HandlerOptions{SimpleResponses: cfg.SimpleResponses, Sources: cfg.Sources, Log: log}))
}

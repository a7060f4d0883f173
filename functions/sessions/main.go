// Command sessions serves sign-in, the current session and sign-out
// (SPEC section 3) through aws-lambda-go-api-proxy.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
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
	store := memstore.New(nil) // the DynamoDB store replaces it in the next milestone
	api := sessionapi.New(sessionapi.Config{
		Verifier: v, Store: store, Environments: cfg.Environments, Enforcement: cfg.Enforcement, Sources: cfg.Sources, Log: log,
		Authorizer: authorizer.New(v, store, cfg.Environments, cfg.Enforcement, nil),
	})
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}

// Command settings serves the admin API (SPEC section 7) through
// aws-lambda-go-api-proxy.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sessionguard/sessionguard/shared/adminapi"
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
	cfg.Token.Roles = true // the admin role is a claim
	v, err := cfg.Verifier(ctx, log)
	if err != nil {
		return err
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	api := adminapi.New(adminapi.Config{Verifier: v, Store: store, Environments: cfg.Environments.Known, Issuers: cfg.IssuerNames(),
		Limits: cfg.Limits, AdminRole: cfg.AdminRole, Log: log,
		Console: adminapi.Console{AuthorizeURL: cfg.Console.AuthorizeURL, TokenURL: cfg.Console.TokenURL, ClientID: cfg.Console.ClientID}})
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
	return nil
}

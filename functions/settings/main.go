// Command settings serves the admin API (SPEC section 7) through
// aws-lambda-go-api-proxy.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/secrets"
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
	v, err := wiring.AdminVerifier(ctx, d)
	if err != nil {
		return err
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	lambda.Start(httpadapter.NewV2(wiring.Admin(d, v, store, wiring.Streams(d, store, secrets.Get))).ProxyWithContext)
	return nil
}

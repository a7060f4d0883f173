// Command signals receives Shared Signals / CAEP Security Event Tokens
// pushed by the identity provider (RFC 8935), through
// aws-lambda-go-api-proxy.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/token"
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
	if len(cfg.Signals) == 0 {
		return errors.New("SIGNALS_TRANSMITTERS is required: the transmitters whose SETs are accepted")
	}
	tc := cfg.Token
	tc.Issuers = cfg.Signals
	v, err := token.NewVerifier(tc)
	if err != nil {
		return err
	}
	if err := v.Prefetch(ctx); err != nil {
		log.Warn("start: key sets not fetched; retrying on use", "err", err)
	}
	store, err := dynamostore.Open(ctx, cfg.TableName)
	if err != nil {
		return err
	}
	rc := signals.New(signals.Config{Verifier: v, Store: store, Environments: cfg.Environments.Known, UserIssuers: cfg.IssuerNames(), Log: log})
	lambda.Start(httpadapter.NewV2(rc).ProxyWithContext)
	return nil
}

package wiring

import (
	"context"
	"errors"
	"log/slog"

	"github.com/sessionguard/sessionguard/shared/token"
)

// Verifier is the token verifier of the trusted issuers (the authorizer's
// and the sessions function's), its key sets fetched as a cold start
// does.
func Verifier(ctx context.Context, d Deps) (*token.Verifier, error) {
	return newVerifier(ctx, d.Config.Token, d.Log)
}

// AdminVerifier is the admin API's verifier: it also reads role claims.
func AdminVerifier(ctx context.Context, d Deps) (*token.Verifier, error) {
	c := d.Config.Token
	c.Roles = true // the admin role is a claim
	return newVerifier(ctx, c, d.Log)
}

// SignalsVerifier verifies the SETs of the configured transmitters.
func SignalsVerifier(ctx context.Context, d Deps) (*token.Verifier, error) {
	if len(d.Config.Signals) == 0 {
		return nil, errors.New("SIGNALS_TRANSMITTERS is required: the transmitters whose SETs are accepted")
	}
	c := d.Config.Token
	c.Issuers = d.Config.Signals
	return newVerifier(ctx, c, d.Log)
}

// newVerifier builds a verifier and fetches its key sets; a failed fetch
// is logged and retried on use, not fatal.
func newVerifier(ctx context.Context, c token.Config, log *slog.Logger) (*token.Verifier, error) {
	v, err := token.NewVerifier(c)
	if err != nil {
		return nil, err
	}
	if err := v.Prefetch(ctx); err != nil {
		log.Warn("start: key sets not fetched; retrying on use", "error", err)
	}
	return v, nil
}

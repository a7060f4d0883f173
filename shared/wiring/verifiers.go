package wiring

import (
	"context"
	"errors"
	"log/slog"

	"github.com/sessionguard/sessionguard/shared/token"
)

// Verifier is the token verifier of the trusted issuers (the authorizer's
// and the sessions function's), its key sets read as a cold start does:
// from snapshots's copies when JWKS_SNAPSHOT is on and they are young
// enough, else from the IdPs (snapshots may be nil: none).
func Verifier(ctx context.Context, d Deps, snapshots token.Snapshots) (*token.Verifier, error) {
	return newVerifier(ctx, d, d.Config.Token, snapshots)
}

// AdminVerifier is the admin API's verifier: it also reads role claims.
func AdminVerifier(ctx context.Context, d Deps, snapshots token.Snapshots) (*token.Verifier, error) {
	c := d.Config.Token
	c.Roles = true // the admin role is a claim
	return newVerifier(ctx, d, c, snapshots)
}

// SignalsVerifier verifies the SETs of the configured transmitters.
func SignalsVerifier(ctx context.Context, d Deps, snapshots token.Snapshots) (*token.Verifier, error) {
	if len(d.Config.Signals) == 0 {
		return nil, errors.New("SIGNALS_TRANSMITTERS is required: the transmitters whose SETs are accepted")
	}
	c := d.Config.Token
	c.Issuers = d.Config.Signals
	return newVerifier(ctx, d, c, snapshots)
}

// newVerifier builds a verifier and gets its key sets; a failed fetch is
// logged and retried on use, not fatal. The start log line says where
// each issuer's keys came from.
func newVerifier(ctx context.Context, d Deps, c token.Config, snapshots token.Snapshots) (*token.Verifier, error) {
	if d.Config.KeySetSnapshots && snapshots != nil {
		c.Snapshots = loggedSnapshots{snapshots, d.Log}
	}
	v, err := token.NewVerifier(c)
	if err != nil {
		return nil, err
	}
	sources, err := v.Prefetch(ctx)
	if err != nil {
		d.Log.Warn("start: key sets not all read; retrying on use", "error", err, "keySources", sources)
	} else {
		d.Log.Info("start: key sets read", "keySources", sources)
	}
	return v, nil
}

// loggedSnapshots logs a snapshot that could not be stored: the verifier
// goes on with the keys it fetched, and the next cold start fetches too.
type loggedSnapshots struct {
	token.Snapshots
	log *slog.Logger
}

func (s loggedSnapshots) PutKeySetSnapshot(ctx context.Context, snap token.KeySetSnapshot) error {
	err := s.Snapshots.PutKeySetSnapshot(ctx, snap)
	if err != nil {
		s.log.Warn("key-set snapshot not stored", "issuer", snap.Issuer, "error", err)
	}
	return err
}

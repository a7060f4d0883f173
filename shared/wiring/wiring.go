// Package wiring is the composition root: it builds each function's
// handler from its configuration, a store and a logger (verifiers,
// directories, the APIs and receivers), the one place for the wiring that
// the Lambda mains (functions/*, through lambdamain) and the local stack
// (infra/local) share, so the local stack runs exactly what is deployed.
// Its function table (Functions) lists every Lambda function.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sessionguard/sessionguard/shared/adminapi"
	"github.com/sessionguard/sessionguard/shared/auditor"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/backchannel"
	"github.com/sessionguard/sessionguard/shared/cognitoevents"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/globallogout"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Deps is what every function is built from.
type Deps struct {
	Config config.Config
	Log    *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// AuthorizerStore is what the authorizer needs of a store: sessions and
// their users, and the records of DPoP proofs.
type AuthorizerStore interface {
	authorizer.Store
	dpop.ReplayStore
}

// Authorizer is the authorizer's decision core and its Lambda handler;
// onDecision, when not nil, is told each decision.
func Authorizer(d Deps, v *token.Verifier, store AuthorizerStore, onDecision func(context.Context, authorizer.Result)) (*authorizer.Authorizer, *authorizer.Handler) {
	c := d.Config
	a := authorizer.New(v, store, c.Environments, c.Enforcement, d.Now, authorizer.WithDPoP(Proofs(d, store)))
	return a, authorizer.NewHandler(a, authorizer.HandlerOptions{SimpleResponses: c.SimpleResponses, Sources: c.Sources, Log: d.Log, OnDecision: onDecision})
}

// Proofs is the DPoP proof checker of the authorizer and the sessions
// API: the configured window, its records in store.
func Proofs(d Deps, store dpop.ReplayStore) *dpop.Checker {
	return dpop.NewChecker(dpop.Config{MaxAge: d.Config.DPoPMaxAge, MaxFuture: d.Config.DPoPMaxFuture, Replay: store, Now: d.Now})
}

// SessionsStore is what the sessions function needs of a store: the
// sessions API's methods, the authorizer's (it judges the current
// session), the back-channel logout receiver's and the global token
// revocation receiver's.
type SessionsStore interface {
	sessionapi.Store
	AuthorizerStore
	backchannel.Store
	globallogout.Store
}

// Sessions is the sessions function: the sessions API, the back-channel
// logout receiver at backchannel.Path and the global token revocation
// receiver at globallogout.Path.
func Sessions(d Deps, v *token.Verifier, store SessionsStore) http.Handler {
	c := d.Config
	mux := http.NewServeMux()
	mux.Handle(backchannel.Path, backchannel.New(backchannel.Config{Verifier: v, Store: store, Environments: c.Environments.Known, Log: d.Log, Now: d.Now}))
	mux.Handle(globallogout.Path, GlobalLogout(d, store))
	proofs := Proofs(d, store)
	mux.Handle("/", sessionapi.New(sessionapi.Config{
		Verifier: v, Store: store, Environments: c.Environments, Enforcement: c.Enforcement, Sources: c.Sources, Log: d.Log, Now: d.Now,
		Authorizer: authorizer.New(v, store, c.Environments, c.Enforcement, d.Now, authorizer.WithDPoP(proofs)), Proofs: proofs, AllowedOrigins: c.AllowedOrigins,
	}))
	return mux
}

// GlobalLogout is the global token revocation receiver (Okta's Universal
// Logout) of the TRUSTED_ISSUERS entries with universalLogout. Its
// verifier trusts only their signers, for requests addressed to their
// endpoint URLs; it reads its key sets on first use, so that the sessions
// function's cold start does not wait for them. With no such entry, or a
// verifier that cannot be built (config.Load checks what it needs, so
// only a configuration that bypassed it), every request is refused.
// Its verifier keeps no key-set snapshots: the access-token verifiers
// trust a snapshot by its issuer and URL, and a copy of a signer's keys
// stored here must never become keys they trust.
func GlobalLogout(d Deps, store globallogout.Store) *globallogout.Receiver {
	c := d.Config
	cfg := globallogout.Config{Entries: c.UniversalLogout, Store: store, Environments: c.Environments.Known, Log: d.Log, Now: d.Now}
	signers, err := globallogout.Signers(c.UniversalLogout)
	if err == nil && len(signers) > 0 {
		tc := c.Token
		tc.Issuers, tc.Snapshots, tc.NoCache = signers, nil, true
		var v *token.Verifier
		if v, err = token.NewVerifier(tc); err == nil {
			cfg.Verifier = v
			d.Log.Info("start: universal logout accepted from these signers only", "signers", signerNames(signers))
		}
	}
	if err != nil {
		d.Log.Error("start: universal logout refuses every request: its verifier cannot be built", "error", err)
	}
	return globallogout.New(cfg)
}

func signerNames(issuers []token.Issuer) []string {
	out := make([]string, len(issuers))
	for i, is := range issuers {
		out[i] = is.Issuer
	}
	return out
}

// AdminStore is what the admin API needs of a store.
type AdminStore interface {
	adminapi.Store
	adminapi.StreamStore
}

// Admin is the admin API and console; streams manages the Shared Signals
// streams (nil without transmitters). The admin role is taken only from
// the issuers of config.Config.AdminIssuers; when there are none, it logs
// why the admin API refuses everyone.
func Admin(d Deps, v *token.Verifier, store AdminStore, streams *ssf.Manager) http.Handler {
	c := d.Config
	admins := c.AdminIssuers()
	if len(admins) == 0 {
		d.Log.Warn("start: the admin API refuses everyone: no TRUSTED_ISSUERS entry has grantsAdmin, and there is not exactly one single-tenant entry to take it from; mark the issuers whose admin role is trusted",
			"issuers", c.IssuerNames())
	} else {
		d.Log.Info("start: the admin role is taken from these issuers only", "adminIssuers", admins)
	}
	cfg := adminapi.Config{Verifier: v, Store: store, Environments: c.Environments.Known, Issuers: c.IssuerNames(), AdminIssuers: admins,
		Limits: c.Limits, AdminRole: c.AdminRole, Enforcement: c.Enforcement, Log: d.Log, Now: d.Now, StreamStore: store,
		Console: adminapi.Console{AuthorizeURL: c.Console.AuthorizeURL, TokenURL: c.Console.TokenURL, ClientID: c.Console.ClientID}}
	if streams != nil && len(streams.Transmitters) > 0 {
		cfg.Streams = streams
		for _, t := range streams.Transmitters {
			cfg.Transmitters = append(cfg.Transmitters, t.Issuer)
		}
	}
	return adminapi.New(cfg)
}

// Streams manages this receiver's Shared Signals stream at each
// configured transmitter; resolve reads a credential's secret (in
// Lambda: secrets.Get).
func Streams(d Deps, store ssf.StreamStore, resolve func(ctx context.Context, ref string) (string, error)) *ssf.Manager {
	c := d.Config
	m := &ssf.Manager{Store: store, PushURL: c.SignalsURL, Now: d.Now}
	for _, is := range c.Signals {
		t := ssf.Transmitter{Issuer: is.Issuer}
		if len(is.Audiences) > 0 {
			t.Audience = is.Audiences[0]
		}
		if ref := c.SignalsCredentials[is.Issuer]; ref != "" {
			t.Credential = func(ctx context.Context) (string, error) { return resolve(ctx, ref) }
		}
		m.Transmitters = append(m.Transmitters, t)
	}
	return m
}

// SignalsStore is what the signals receiver needs of a store.
type SignalsStore interface {
	signals.Store
	signals.Verifications
}

// Signals is the Shared Signals receiver (an http.Handler for pushes, and
// the processor of polled SETs); each transmitter revokes only users of
// its subject issuers (config.Config.SubjectIssuers).
func Signals(d Deps, v *token.Verifier, store SignalsStore) *signals.Receiver {
	c := d.Config
	return signals.New(signals.Config{Verifier: v, Store: store, Verifications: store, Environments: c.Environments.Known,
		SubjectIssuers: c.SubjectIssuers(), Log: d.Log, Now: d.Now})
}

// RefresherStore is what the refresher needs of a store.
type RefresherStore interface {
	refresher.Store
	refresher.Cursors
	refresher.RunCounter
}

// FanOut is the refresher's split into shards: with a queue (the
// scheduled run, REFRESH_QUEUE_URL set) it sends them; without one (the
// worker) it only counts the guard's totals.
func FanOut(d Deps, store refresher.RunCounter, queue refresher.Queue) *refresher.FanOut {
	c := d.Config.Directory
	return &refresher.FanOut{Queue: queue, Counter: store, Capacity: c.FanOutAbove, Size: c.ShardUsers}
}

// Refresher is the scheduled policy check (and, with a fan-out, the
// worker of its shards); with DIRECTORY_CHANGES on, a Graph directory is
// read through users/delta first, a SCIM one through its
// meta.lastModified filter.
func Refresher(d Deps, dir refresher.Directory, store RefresherStore, fan *refresher.FanOut) *refresher.Refresher {
	c := d.Config
	cfg := refresher.Config{Store: store, Directory: dir, Environments: c.Environments.Known, FanOut: fan,
		Concurrency: c.Directory.Concurrency, Guard: refresher.Guard{Share: c.Directory.GuardShare, Min: c.Directory.GuardMin}, Log: d.Log, Now: d.Now}
	if feed, ok := dir.(refresher.ChangeFeed); ok && c.Directory.Changes {
		name := c.Directory.Kind + " " + c.Directory.URL
		if c.Directory.Kind == "graph" {
			name = "graph " + c.Directory.TokenURL // one tenant
		}
		cfg.Changes = &refresher.Changes{Feed: feed, Cursors: store, Name: name, Keys: directoryKeys(c)}
	}
	return refresher.New(cfg)
}

// Auditor is the scheduled audit.
func Auditor(d Deps, store auditor.Store) *auditor.Auditor {
	return auditor.New(auditor.Config{Store: store, Environments: d.Config.Environments.Known, Log: d.Log, Now: d.Now})
}

// CognitoEvents is the receiver of the user pool's CloudTrail events.
func CognitoEvents(d Deps, store cognitoevents.Store) (*cognitoevents.Receiver, error) {
	c := d.Config
	pool := c.Directory.UserPoolID
	if pool == "" {
		return nil, errors.New("DIRECTORY_USER_POOL_ID is required: the user pool whose events end sessions")
	}
	iss, ok := c.UserPoolIssuer()
	if !ok {
		return nil, fmt.Errorf("DIRECTORY_USER_POOL_ID=%q: no TRUSTED_ISSUERS entry is that user pool's issuer", pool)
	}
	return cognitoevents.New(cognitoevents.Config{Store: store, Environments: c.Environments.Known, UserPoolID: pool, Issuer: iss, Log: d.Log, Now: d.Now}), nil
}

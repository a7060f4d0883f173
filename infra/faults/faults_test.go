// Package faults injects faults into the real parts around the functions —
// DynamoDB (moto behind a proxy), the issuer's JWKS endpoint, the
// directory — and records, for each, the decision, how long it took
// (API Gateway gives an authorizer 10 s), and that nothing was lost or
// wrongly revoked.
package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

var dynamo *dynamotest.Server

func TestMain(m *testing.M) { dynamotest.Main(m, func(s *dynamotest.Server) { dynamo = s }) }

// Budget is the time a decision must take at most under any fault: API
// Gateway's 10 s authorizer limit, with margin.
const Budget = 6 * time.Second

type world struct {
	idp       *devidp.Issuer
	jwks, ddb *dynamotest.Proxy
	store     *dynamostore.Store
	auth      *authorizer.Authorizer
	id        session.ID
	clock     *devidp.Clock // the verifier's
}

var tables int

// newWorld builds the authorizer as the functions do (default timeouts and
// retries) with its key set and its table behind fault proxies.
func newWorld(t *testing.T, warm bool) *world {
	t.Helper()
	ctx := context.Background()
	idp, stop, err := devidp.NewServer(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	jwks, ddb := dynamotest.NewProxy(idp.URL()), dynamotest.NewProxy(dynamo.Endpoint)
	t.Cleanup(jwks.Close)
	t.Cleanup(ddb.Close)
	jwksURL, ddbURL := jwks.URL, ddb.URL
	clock := devidp.NewClock(time.Now())
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), JWKSURL: jwksURL + "/jwks.json",
		Audiences: []string{devidp.DefaultAudience}, Algorithms: []string{"RS256", "ES256", "EdDSA"}}}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	db, err := dynamostore.NewClient(ctx, dynamostore.ClientOptions{Endpoint: ddbURL, Region: "eu-west-1", LocalCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	tables++
	table := fmt.Sprintf("faults-%d", tables)
	if err := dynamostore.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	st := dynamostore.New(db, table, nil)
	id, _ := session.NewID()
	now := time.Now()
	s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: idp.URL(), Subject: "alice"},
		ClientID: devidp.DefaultClientID, CreatedAt: now, AuthTime: now, Settings: policy.Defaults()}
	if _, err := st.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	w := &world{idp: idp, jwks: jwks, ddb: ddb, store: st, id: id, clock: clock,
		auth: authorizer.New(v, st, environment.Config{Source: "fixed", Name: "prod", Known: []string{"prod"}}, policy.Enforcement{}, nil)}
	if warm {
		if r := w.decide(t, jwa.RS256); !r.Allowed() {
			t.Fatalf("warm-up decision = %s", r.Reason)
		}
	}
	return w
}

func (w *world) decide(t *testing.T, alg jwa.SignatureAlgorithm) authorizer.Result {
	t.Helper()
	tok, err := w.idp.Mint(devidp.Token{User: "alice", Alg: alg})
	if err != nil {
		t.Fatal(err)
	}
	return w.auth.Check(context.Background(), authorizer.Identity{Authorization: "Bearer " + tok, SessionID: w.id.Reveal()})
}

// TestDecisionsUnderFaults: for each fault, the decision, its time, and
// that the session works again once the fault is gone.
func TestDecisionsUnderFaults(t *testing.T) {
	needs.Parts(t, needs.Moto)
	for _, c := range []struct {
		name  string
		warm  bool
		fault func(w *world)
		want  reason.Code
	}{
		{"DynamoDB fails (500)", true, func(w *world) { w.ddb.Set(dynamotest.Fail, 0) }, reason.DependencyUnavailable},
		{"DynamoDB throttles", true, func(w *world) { w.ddb.Set(dynamotest.Throttle, 0) }, reason.DependencyUnavailable},
		{"DynamoDB hangs", true, func(w *world) { w.ddb.Set(dynamotest.Hang, 0) }, reason.DependencyUnavailable},
		{"JWKS fails, keys cached", true, func(w *world) { w.jwks.Set(dynamotest.Fail, 0) }, reason.OK},
		{"JWKS hangs, keys cached", true, func(w *world) { w.jwks.Set(dynamotest.Hang, 0) }, reason.OK},
		{"JWKS hangs, key set stale (refreshed on use)", true, func(w *world) { w.clock.Add(16 * time.Minute); w.jwks.Set(dynamotest.Hang, 0) }, reason.OK},
		{"JWKS fails, cold start", false, func(w *world) { w.jwks.Set(dynamotest.Fail, 0) }, reason.DependencyUnavailable},
		{"JWKS hangs, cold start", false, func(w *world) { w.jwks.Set(dynamotest.Hang, 0) }, reason.DependencyUnavailable},
		{"JWKS rotates keys", true, func(w *world) {
			if _, err := w.idp.AddKey(jwa.RS256); err != nil {
				panic(err)
			}
			for _, k := range []string{w.idp.KeyFor(jwa.ES256).Kid} { // an old key leaves the set
				w.idp.RemoveKey(k)
			}
		}, reason.OK},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, c.warm)
			c.fault(w)
			start := time.Now()
			r := w.decide(t, jwa.RS256) // after a rotation: signed with the new key
			took := time.Since(start)
			if r.Reason != c.want {
				t.Errorf("decision = %s (%v); want %s", r.Reason, r.Err, c.want)
			}
			if took > Budget {
				t.Errorf("decision took %v; want within %v (API Gateway allows 10 s)", took, Budget)
			}
			t.Logf("%s: %s in %v", c.name, r.Reason, took.Round(time.Millisecond))
			w.ddb.Set(dynamotest.Pass, 0)
			w.jwks.Set(dynamotest.Pass, 0)
			w.clock.Add(11 * time.Second) // past the key set's back-off after a failed fetch (10 s)
			if r := w.decide(t, jwa.RS256); !r.Allowed() {
				t.Errorf("after the fault: %s (%v); want the session to work again (nothing lost)", r.Reason, r.Err)
			}
		})
	}
}

// A directory that hangs: the run stops before its deadline, revokes
// nobody, and keeps everyone's last good check.
func TestDirectoryHangs(t *testing.T) {
	needs.Parts(t, needs.Moto)
	w := newWorld(t, true)
	dir := devdir.New()
	dir.DefaultActive = true
	dir.SetDelay(time.Hour)
	srv := httptest.NewServer(dir)
	defer srv.CloseClientConnections()
	r := refresher.New(refresher.Config{Store: w.store, Directory: &directory.HTTPJSON{BaseURL: srv.URL, Client: &http.Client{Timeout: 2 * time.Second}},
		Environments: []string{"prod"}, Margin: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	reps, err := r.Run(ctx)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	rep := reps["prod"]
	if rep.RevokedSessions != 0 || rep.Errors != 1 || took > 5*time.Second {
		t.Errorf("run = %+v in %v; want one error, nobody revoked, within the 5 s deadline", rep, took)
	}
	if res := w.decide(t, jwa.RS256); !res.Allowed() {
		t.Errorf("after the hanging directory: %s; want the session still allowed", res.Reason)
	}
	t.Logf("directory hangs: %d error(s), 0 revoked, run took %v", rep.Errors, took.Round(time.Millisecond))
}

package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

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
	"github.com/sessionguard/sessionguard/shared/sessionapi"
	"github.com/sessionguard/sessionguard/shared/storetest"
	"github.com/sessionguard/sessionguard/shared/token"
)

var server *dynamotest.Server

func TestMain(m *testing.M) { dynamotest.Main(m, func(s *dynamotest.Server) { server = s }) }

// counter counts DynamoDB calls by operation, once per call (an SDK
// middleware before the retry loop), and HTTP attempts (which include the
// SDK's retries).
type counter struct {
	mu       sync.Mutex
	ops      map[string]int
	attempts int
	db       *dynamodb.Client
	table    string
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.attempts++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *counter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		c.ops[middleware.GetOperationName(ctx)]++
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}

// take returns the calls counted so far and resets the counts; the HTTP
// attempts go to the test log.
func (c *counter) take(t testing.TB) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ops
	if c.attempts > 0 {
		t.Logf("DynamoDB calls %v in %d HTTP attempts", out, c.attempts)
	}
	c.ops, c.attempts = map[string]int{}, 0
	return out
}

var tables atomic.Int64

// open returns a store on a new table of the test server, and the counter
// of its requests.
func open(t testing.TB, now func() time.Time) (*dynamostore.Store, *counter) {
	t.Helper()
	return openAt(t, server.Endpoint, now)
}

// openAt is open against the DynamoDB endpoint given.
func openAt(t testing.TB, endpoint string, now func() time.Time) (*dynamostore.Store, *counter) {
	t.Helper()
	table := fmt.Sprintf("sessionguard-test-%d", tables.Add(1))
	st, c := openTable(t, endpoint, table, now)
	if err := dynamostore.CreateTable(context.Background(), c.db, table); err != nil {
		t.Fatal(err)
	}
	c.ops, c.attempts = map[string]int{}, 0
	return st, c
}

// openTable returns a store on an existing table of the endpoint given.
func openTable(t testing.TB, endpoint, table string, now func() time.Time) (*dynamostore.Store, *counter) {
	t.Helper()
	c := &counter{ops: map[string]int{}}
	db, err := dynamostore.NewClient(context.Background(), dynamostore.ClientOptions{Endpoint: endpoint, Region: "eu-west-1", LocalCredentials: true,
		HTTPClient: &http.Client{Transport: c, Timeout: 10 * time.Second}, APIOptions: []func(*middleware.Stack) error{c.middleware}})
	if err != nil {
		t.Fatal(err)
	}
	c.db, c.table = db, table
	return dynamostore.New(db, table, now), c
}

// TestContract runs the contract suite on moto, on a client that also
// checks that every write leaves its item at the store's format
// (formatChecked).
func TestContract(t *testing.T) {
	needs.Parts(t, needs.Moto)
	storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
		_, c := open(t, now)
		return dynamostore.New(formatChecked{Client: c.db, t: t, table: c.table}, c.table, now)
	})
}

// 32 writers race on one environment's settings, each retrying on a
// version conflict: every accepted write is in the history with
// consecutive versions, and the final document is the last accepted one.
func TestNoLostUpdate(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	st, _ := open(t, time.Now)
	const writers = 32
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cur, v, err := st.Settings(ctx, "prod")
				if err != nil {
					t.Error(err)
					return
				}
				next := cur
				next.MaxSessionsPerUser = w + 1 // marks the writer
				err = st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: v + 1, At: time.Now(),
					Actor: fmt.Sprintf("writer-%d", w), Old: cur, New: next})
				if errors.Is(err, session.ErrVersionConflict) {
					conflicts.Add(1)
					continue
				}
				if err != nil {
					t.Error(err)
				}
				return
			}
		}()
	}
	wg.Wait()
	var hist []policy.SettingsChange
	cursor := ""
	for {
		page, next, err := st.History(ctx, "prod", session.Page{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		hist = append(hist, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(hist) != writers {
		t.Fatalf("history has %d changes; want %d, one per writer", len(hist), writers)
	}
	slices.Reverse(hist) // oldest first
	actors := map[string]bool{}
	for i, c := range hist {
		actors[c.Actor] = true
		if c.Version != i+1 {
			t.Errorf("history[%d].Version = %d; want %d (consecutive)", i, c.Version, i+1)
		}
		if i > 0 && c.Old.MaxSessionsPerUser != hist[i-1].New.MaxSessionsPerUser {
			t.Errorf("version %d's old value %d is not version %d's new value %d: an update was lost",
				c.Version, c.Old.MaxSessionsPerUser, i, hist[i-1].New.MaxSessionsPerUser)
		}
	}
	if len(actors) != writers {
		t.Errorf("%d distinct writers in history; want %d", len(actors), writers)
	}
	final, v, _ := st.Settings(ctx, "prod")
	if v != writers || final.MaxSessionsPerUser != hist[writers-1].New.MaxSessionsPerUser {
		t.Errorf("final settings v%d maxSessionsPerUser %d; want v%d with the last accepted write's %d",
			v, final.MaxSessionsPerUser, writers, hist[writers-1].New.MaxSessionsPerUser)
	}
	t.Logf("%d writers, %d conflicts retried", writers, conflicts.Load())
}

// issuer serves a development issuer for the test and returns it with a
// verifier that trusts it and the one environment "prod".
func issuer(t testing.TB, clock *devidp.Clock) (*devidp.Issuer, *token.Verifier, environment.Config) {
	t.Helper()
	idp, stop, err := devidp.NewServer(clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return idp, v, environment.Config{Source: "fixed", Name: "prod", Known: []string{"prod"}}
}

// The authorizer's allow path makes exactly one DynamoDB read, and a
// burst of 100 requests on one session at most one activity write per
// interval.
func TestRequestsPerDecision(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	clock := devidp.NewClock(storetest.T0)
	st, requests := open(t, clock.Now)
	idp, v, envs := issuer(t, clock)
	a := authorizer.New(v, st, envs, policy.Enforcement{}, clock.Now)
	tok, err := idp.Mint(devidp.Token{User: "alice", TTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := session.NewID()
	s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: claims.Issuer, Subject: claims.Subject},
		ClientID: claims.ClientID, CreatedAt: clock.Now(), AuthTime: clock.Now(), Settings: policy.Defaults()}
	if _, err := st.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	requests.take(t) // sign-in (store part): GetItem, TransactWriteItems

	idt := authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()}
	r := a.Check(ctx, idt)
	if !r.Allowed() {
		t.Fatalf("decision = %s (%v); want allow", r.Reason, r.Err)
	}
	if got := requests.take(t); len(got) != 1 || got["BatchGetItem"] != 1 {
		t.Errorf("one allow made %v; want exactly one BatchGetItem", got)
	}
	writes := 0
	for range 100 {
		clock.Add(time.Second)
		r := a.Check(ctx, idt)
		if !r.Allowed() {
			t.Fatalf("decision = %s (%v); want allow", r.Reason, r.Err)
		}
		wrote, err := a.RecordActivity(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if wrote {
			writes++
		}
	}
	got := requests.take(t)
	// 100 s of requests with a one-minute activity interval: one write, at
	// +60 s.
	if got["BatchGetItem"] != 100 || got["UpdateItem"] != 1 || writes != 1 || len(got) != 2 {
		t.Errorf("burst of 100 requests over 100 s made %v (%d writes); want 100 BatchGetItem and 1 UpdateItem", got, writes)
	}
	stored, _ := st.Session(ctx, s.Hash)
	if want := storetest.T0.Add(60 * time.Second); !stored.LastActivityAt.Equal(want) {
		t.Errorf("LastActivityAt = %v; want %v", stored.LastActivityAt, want)
	}
}

// The store fits what its users ask of it.
var (
	_ authorizer.Store = (*dynamostore.Store)(nil)
	_ sessionapi.Store = (*dynamostore.Store)(nil)
	_ storetest.Store  = (*dynamostore.Store)(nil)
)

// Throttling is retried with backoff; when it persists, or DynamoDB hangs,
// the call fails within a bounded time and the authorizer's answer is
// dependency_unavailable (fail closed).
func TestFaults(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	open(t, time.Now) // creates the table on the real server
	table := fmt.Sprintf("sessionguard-test-%d", tables.Load())
	proxy := dynamotest.NewProxy(server.Endpoint)
	defer proxy.Close()
	db, err := dynamostore.NewClient(ctx, dynamostore.ClientOptions{Endpoint: proxy.URL, Region: "eu-west-1", LocalCredentials: true,
		AttemptTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	faultyStore := dynamostore.New(db, table, time.Now)
	s := storetest.NewSession(t, "prod", session.UserKey{Issuer: "i", Subject: "s"}, time.Now(), policy.Defaults())
	if _, err := faultyStore.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		fault   dynamotest.Fault
		times   int // 0: every request
		wantErr bool
	}{
		{"throttled twice, then served", dynamotest.Throttle, 2, false},
		{"throttled throughout", dynamotest.Throttle, 0, true},
		{"hanging", dynamotest.Hang, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy.Set(c.fault, c.times)
			start := time.Now()
			_, _, err := faultyStore.Lookup(ctx, s.Hash, "prod", s.User)
			took := time.Since(start)
			seen := proxy.Requests()
			if (err != nil) != c.wantErr {
				t.Fatalf("Lookup error = %v; want error: %v", err, c.wantErr)
			}
			if c.wantErr && reason.CodeOf(err) != reason.DependencyUnavailable {
				t.Errorf("error code = %s; want dependency_unavailable", reason.CodeOf(err))
			}
			if seen != 3 {
				t.Errorf("%d attempts; want 3 (retried, bounded)", seen)
			}
			// 3 attempts of at most 300 ms plus at most 2 x 100 ms of backoff.
			if took > 3*300*time.Millisecond+200*time.Millisecond+500*time.Millisecond {
				t.Errorf("took %v; want the bounded retry budget", took)
			}
			t.Logf("%s: %v, %d attempts, %v", c.name, took.Round(time.Millisecond), seen, err != nil)
		})
	}
}

// A sign-in through the sessions API: how many DynamoDB calls it makes
// (reported in the log and bounded here).
func TestRequestsPerSignIn(t *testing.T) {
	needs.Parts(t, needs.Moto)
	clock := devidp.NewClock(storetest.T0)
	st, requests := open(t, clock.Now)
	idp, v, envs := issuer(t, clock)
	api := sessionapi.New(sessionapi.Config{Verifier: v, Store: st, Environments: envs, Now: clock.Now,
		Authorizer: authorizer.New(v, st, envs, policy.Enforcement{}, clock.Now)})
	for i, want := range []map[string]int{
		{"GetItem": 3, "TransactWriteItems": 1},                    // first sign-in: user, settings, user again in the transaction's read
		{"GetItem": 3, "BatchGetItem": 1, "TransactWriteItems": 1}, // later: also the user's listed sessions
	} {
		clock.Add(time.Second)
		tok, _ := idp.Mint(devidp.Token{User: "alice"})
		req := httptest.NewRequest("POST", "/sessions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != 201 {
			t.Fatalf("sign-in %d = %d %s", i+1, rec.Code, rec.Body)
		}
		if got := requests.take(t); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("sign-in %d made %v; want %v", i+1, got, want)
		}
	}
}

// BenchmarkRefresher: a run of policy checks over 1,000 users, each due,
// against a directory answering after 20 ms and DynamoDB calls delayed by
// 5 ms each (a fault proxy in front of dynalite, which serves requests at
// once, so a one-request-at-a-time server is not what is measured), with
// 32 directory requests and 16 result writes in flight. Reported: users/s,
// DynamoDB calls and directory requests per user.
func BenchmarkRefresher(b *testing.B) {
	needs.Parts(b, needs.Dynalite)
	const users = 1000
	ctx := context.Background()
	ddb, err := dynamotest.StartDynalite()
	if err != nil {
		b.Fatal(err)
	}
	defer ddb.Stop()
	proxy := dynamotest.NewProxy(ddb.Endpoint)
	defer proxy.Close()
	proxy.SetDelay(5 * time.Millisecond)
	dir := devdir.New()
	dir.SetDelay(20 * time.Millisecond)
	srv := httptest.NewServer(dir)
	defer srv.Close()
	graph := func() *directory.Graph {
		return &directory.Graph{TokenURL: srv.URL + "/graph/token", GraphURL: srv.URL + "/graph/v1.0", ClientID: "app", ClientSecret: "s"}
	}
	keys := func(id string) []session.UserKey {
		return []session.UserKey{{Issuer: "https://idp.example/", Subject: id}}
	}
	for _, c := range []struct {
		name  string
		mk    func(now func() time.Time) refresher.Directory
		delta bool
	}{
		{"http-json", func(func() time.Time) refresher.Directory { return &directory.HTTPJSON{BaseURL: srv.URL} }, false},
		{"scim", func(func() time.Time) refresher.Directory { return &directory.SCIM{BaseURL: srv.URL + "/scim/v2"} }, false},
		// the meta.lastModified filter read first; 10 users changed per run
		{"scim-changes", func(now func() time.Time) refresher.Directory {
			return &directory.SCIM{BaseURL: srv.URL + "/scim/v2", Now: now}
		}, true},
		{"graph", func(func() time.Time) refresher.Directory { return graph() }, false},
		{"graph-delta", func(func() time.Time) refresher.Directory { return graph() }, true}, // users/delta read first; 10 users changed per run
	} {
		b.Run(c.name, func(b *testing.B) {
			clock := devidp.NewClock(storetest.T0)
			dir.Now = clock.Now // SCIM's meta.lastModified on the same clock
			direct, d := openAt(b, ddb.Endpoint, clock.Now)
			st, calls := openTable(b, proxy.URL, d.table, clock.Now)
			putUsers(b, direct, users, clock.Now(), func(u string) { dir.Put(u, devdir.User{Enabled: true}) })
			cd := c.mk(clock.Now)
			cfg := refresher.Config{Store: st, Directory: cd, Environments: []string{"prod"}, Now: clock.Now, Concurrency: 32, WriteConcurrency: 16}
			if c.delta {
				cfg.Changes = &refresher.Changes{Feed: cd.(refresher.ChangeFeed), Cursors: st, Name: "bench", Keys: keys}
			}
			r := refresher.New(cfg)
			if c.delta { // the cursor, as a run before this one left it
				clock.Add(2 * time.Minute) // after the users were created
				if _, err := r.Run(ctx); err != nil {
					b.Fatal(err)
				}
			}
			var checked, fromChanges int
			var dynamo, directoryReqs int64
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				clock.Add(2 * time.Hour) // everybody is due again
				for j := range 10 {
					dir.Put(fmt.Sprintf("user%05d", (i*10+j)%users), devdir.User{Enabled: true})
				}
				calls.take(b)
				before := dir.Requests()
				b.StartTimer()
				reps, err := r.Run(ctx)
				if err != nil || reps["prod"].Checked != users {
					b.Fatalf("run = %+v, %v; want %d users checked", reps["prod"], err, users)
				}
				b.StopTimer()
				checked += users
				fromChanges += reps["prod"].FromChanges
				for _, n := range calls.take(b) {
					dynamo += int64(n)
				}
				directoryReqs += dir.Requests() - before
				b.StartTimer()
			}
			b.ReportMetric(float64(checked)/b.Elapsed().Seconds(), "users/s")
			b.ReportMetric(float64(dynamo)/float64(checked), "dynamodb-calls/user")
			b.ReportMetric(float64(directoryReqs)/float64(checked), "directory-requests/user")
			if c.delta {
				b.ReportMetric(float64(fromChanges)/float64(b.N), "from-changes/run")
			}
		})
	}
	// Steady state: 1,000 tracked users, of whom per run 10 changed at the
	// directory and 50 are due by their interval. With users/delta the run
	// asks Graph for the changes (one page) and the 50 due users (3
	// batches); without it, seeing the same 10 changes within the run
	// means asking every user (50 batches).
	for _, delta := range []bool{false, true} {
		name := map[bool]string{false: "graph-steady-without-delta", true: "graph-steady-with-delta"}[delta]
		b.Run(name, func(b *testing.B) {
			clock := devidp.NewClock(storetest.T0)
			direct, d := openAt(b, ddb.Endpoint, clock.Now)
			st, _ := openTable(b, proxy.URL, d.table, clock.Now)
			putUsers(b, direct, users, clock.Now(), func(u string) { dir.Put(u, devdir.User{Enabled: true}) })
			cfg := refresher.Config{Store: st, Directory: graph(), Environments: []string{"prod"}, Now: clock.Now, Concurrency: 32, WriteConcurrency: 16}
			if delta {
				cfg.Changes = &refresher.Changes{Feed: cfg.Directory.(refresher.ChangeFeed), Cursors: st, Name: "bench", Keys: keys}
			}
			r := refresher.New(cfg)
			if _, err := r.Run(ctx); err != nil { // the first run: everybody, and the cursor
				b.Fatal(err)
			}
			var reqs int64
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				clock.Add(time.Minute)
				if delta {
					for j := range 50 { // due by the interval
						if err := direct.ScheduleCheck(ctx, "prod", keys(fmt.Sprintf("user%05d", (i*60+j)%users))[0], clock.Now()); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					clock.Add(2 * time.Hour) // everybody asked: the only way to see the changes
				}
				for j := 50; j < 60; j++ {
					dir.Put(fmt.Sprintf("user%05d", (i*60+j)%users), devdir.User{Enabled: true})
				}
				before := dir.Requests()
				b.StartTimer()
				reps, err := r.Run(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if want := map[bool]int{false: users, true: 60}[delta]; reps["prod"].Checked != want {
					b.Fatalf("run = %+v; want %d users checked", reps["prod"], want)
				}
				reqs += dir.Requests() - before
				b.StartTimer()
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "graph-requests/run")
		})
	}
}

// putUsers records n users of prod, each due at `at`, 32 at a time; each
// name is passed to also.
func putUsers(b *testing.B, st *dynamostore.Store, n int, at time.Time, also func(string)) {
	b.Helper()
	sem, errs := make(chan struct{}, 32), make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		name := fmt.Sprintf("user%05d", i)
		also(name)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs <- st.RecordCheck(context.Background(), "prod", session.UserKey{Issuer: "https://idp.example/", Subject: name}, session.Check{Answered: true, NextCheckAt: at})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequestsPerDecision reports the DynamoDB calls of the
// authorizer's allow path (one session, requests a second apart: the
// activity write comes once a minute).
func BenchmarkRequestsPerDecision(b *testing.B) {
	needs.Parts(b, needs.Moto)
	ctx := context.Background()
	clock := devidp.NewClock(storetest.T0)
	st, calls := open(b, clock.Now)
	idp, v, envs := issuer(b, clock)
	a := authorizer.New(v, st, envs, policy.Enforcement{}, clock.Now)
	tok, _ := idp.Mint(devidp.Token{User: "alice", TTL: 1000 * time.Hour})
	id, _ := session.NewID()
	s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: idp.URL(), Subject: "alice"},
		ClientID: devidp.DefaultClientID, CreatedAt: clock.Now(), AuthTime: clock.Now(), Settings: policy.Defaults()}
	if _, err := st.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		b.Fatal(err)
	}
	calls.ops, calls.attempts = map[string]int{}, 0
	idt := authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()}
	n := 0
	for b.Loop() {
		clock.Add(time.Second)
		r := a.Check(ctx, idt)
		if !r.Allowed() {
			b.Fatal(r.Reason)
		}
		a.RecordActivity(ctx, r)
		n++
	}
	total := 0
	for _, c := range calls.ops {
		total += c
	}
	b.ReportMetric(float64(calls.ops["BatchGetItem"])/float64(n), "reads/decision")
	b.ReportMetric(float64(total)/float64(n), "dynamodb-calls/decision")
}

// BenchmarkRequestsPerSignIn reports the DynamoDB calls of a sign-in
// through the sessions API (a user with a few sessions already).
func BenchmarkRequestsPerSignIn(b *testing.B) {
	needs.Parts(b, needs.Moto)
	clock := devidp.NewClock(storetest.T0)
	st, calls := open(b, clock.Now)
	idp, v, envs := issuer(b, clock)
	api := sessionapi.New(sessionapi.Config{Verifier: v, Store: st, Environments: envs, Now: clock.Now,
		Authorizer: authorizer.New(v, st, envs, policy.Enforcement{}, clock.Now)})
	calls.ops, calls.attempts = map[string]int{}, 0
	n := 0
	for b.Loop() {
		clock.Add(time.Second)
		tok, _ := idp.Mint(devidp.Token{User: "alice"})
		req := httptest.NewRequest("POST", "/sessions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != 201 {
			b.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
		}
		n++
	}
	total := 0
	for _, c := range calls.ops {
		total += c
	}
	b.ReportMetric(float64(total)/float64(n), "dynamodb-calls/sign-in")
}

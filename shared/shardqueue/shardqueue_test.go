package shardqueue_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/shardqueue"
	"github.com/sessionguard/sessionguard/shared/shardqueue/sender"
)

var server *dynamotest.Server

func TestMain(m *testing.M) { dynamotest.Main(m, func(s *dynamotest.Server) { server = s }) }

const issuer = "https://idp.example/"

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// fleet: users signed in to prod, the dev directory, a moto SQS queue,
// and a refresher that fans out above capacity.
type fleet struct {
	clock  *devidp.Clock
	store  *memstore.Store
	dir    *devdir.Directory
	client *sqs.Client
	queue  *sender.Queue
	ref    *refresher.Refresher
	hashes map[string]session.Hash
	logs   *bytes.Buffer
}

func newFleet(t *testing.T, users int, guard refresher.Guard, capacity int) *fleet {
	t.Helper()
	ctx := context.Background()
	f := &fleet{clock: devidp.NewClock(t0), dir: devdir.New(), hashes: map[string]session.Hash{}, logs: &bytes.Buffer{}}
	f.store = memstore.New(f.clock.Now)
	srv := httptest.NewServer(f.dir)
	t.Cleanup(srv.Close)
	c, err := sender.NewClient(ctx, sender.Options{Endpoint: server.Endpoint, Region: "eu-west-1", LocalCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	f.client = c
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("refresh-%d", time.Now().UnixNano()))})
	if err != nil {
		t.Fatal(err)
	}
	f.queue = &sender.Queue{Client: c, URL: aws.ToString(q.QueueUrl)}
	f.ref = refresher.New(refresher.Config{Store: f.store, Directory: &directory.HTTPJSON{BaseURL: srv.URL}, Environments: []string{"prod"},
		Concurrency: 32, Guard: guard, Now: f.clock.Now, Log: obs.NewLogger(f.logs),
		FanOut: &refresher.FanOut{Queue: f.queue, Counter: f.store, Capacity: capacity, Size: 1000}})
	for i := range users {
		u := fmt.Sprintf("user%05d", i)
		f.dir.Put(u, devdir.User{Enabled: true})
		id, _ := session.NewID()
		s := session.Session{Hash: id.Hash(), Environment: "prod", User: session.UserKey{Issuer: issuer, Subject: u}, ClientID: "app",
			CreatedAt: f.clock.Now(), AuthTime: f.clock.Now(), Settings: policy.Defaults()}
		if _, err := f.store.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
		f.hashes[u] = s.Hash
	}
	return f
}

// summing is a Runner that adds up the reports of the shards it ran.
type summing struct {
	r   *refresher.Refresher
	mu  sync.Mutex
	sum refresher.Report
	n   int
}

func (s *summing) RunShard(ctx context.Context, sh refresher.Shard) (refresher.Report, error) {
	rep, err := s.r.RunShard(ctx, sh)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.sum.Checked += rep.Checked
	s.sum.Disabled += rep.Disabled
	s.sum.RevokedUsers += rep.RevokedUsers
	s.sum.RevokedSessions += rep.RevokedSessions
	s.sum.Held += rep.Held
	s.sum.Skipped += rep.Skipped
	s.sum.GuardTripped = s.sum.GuardTripped || rep.GuardTripped
	return rep, err
}

// drain runs workers that receive one message at a time, as the Lambda
// event source does with batch size 1, hand it to Handle, and delete it
// when handled, until `messages` messages are done.
func (f *fleet) drain(t *testing.T, workers, messages int, run shardqueue.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				finished := done >= messages
				mu.Unlock()
				if finished || ctx.Err() != nil {
					return
				}
				out, err := f.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &f.queue.URL, MaxNumberOfMessages: 1, VisibilityTimeout: 120})
				if err != nil {
					t.Error(err)
					return
				}
				for _, m := range out.Messages {
					ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)}}}
					if resp := shardqueue.Handle(ctx, run, f.ref.Log(), ev); len(resp.BatchItemFailures) > 0 {
						t.Errorf("shard %s failed", aws.ToString(m.MessageId))
						continue
					}
					if _, err := f.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &f.queue.URL, ReceiptHandle: m.ReceiptHandle}); err != nil {
						t.Error(err)
					}
					mu.Lock()
					done++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if done < messages {
		t.Fatalf("%d of %d shards done before the timeout", done, messages)
	}
}

// 20,000 users through 20 shards and 4 workers, one shard queued twice
// (an overlapping run): every user checked, each disabled user's session
// revoked exactly once, the guard counting across shards.
func TestFanOut20000Users(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	const users = 20000
	f := newFleet(t, users, refresher.Guard{}, 5000)
	disabled := map[string]bool{}
	for i := 0; i < users; i += 67 { // 299 users, spread over every shard
		u := fmt.Sprintf("user%05d", i)
		f.dir.Put(u, devdir.User{Enabled: false})
		disabled[u] = true
	}
	reps, err := f.ref.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep := reps["prod"]; rep.Shards != 20 || rep.Queued != users || rep.Checked != 0 {
		t.Fatalf("scheduled run = %+v; want 20 shards of the 20,000 due users queued, none checked in the run", rep)
	}
	// The same users queued again by an overlapping run.
	dup := refresher.Shard{Run: "prod/overlap", Env: "prod"}
	for i := range 1000 {
		dup.Users = append(dup.Users, session.UserKey{Issuer: issuer, Subject: fmt.Sprintf("user%05d", i)})
	}
	if err := f.queue.Send(ctx, []refresher.Shard{dup}); err != nil {
		t.Fatal(err)
	}
	sum := &summing{r: f.ref}
	f.drain(t, 4, 21, sum)

	if sum.n != 21 || sum.sum.RevokedUsers != len(disabled) || sum.sum.RevokedSessions != len(disabled) || sum.sum.GuardTripped {
		t.Fatalf("shards = %d, totals %+v; want 21 shards, %d users and sessions revoked once each", sum.n, sum.sum, len(disabled))
	}
	if got := sum.sum.Checked + sum.sum.Skipped; got != users+1000 {
		t.Fatalf("checked %d + skipped %d = %d; want every queued user handled (%d)", sum.sum.Checked, sum.sum.Skipped, got, users+1000)
	}
	if sum.sum.Checked < users || sum.sum.Checked > users+1000 {
		t.Fatalf("checked %d; want each user once, the overlapping shard's users at most twice", sum.sum.Checked)
	}
	for u, h := range f.hashes {
		rec, _ := f.store.User(ctx, "prod", session.UserKey{Issuer: issuer, Subject: u})
		s, _ := f.store.Session(ctx, h)
		if !rec.LastCheckAt.Equal(t0) || rec.Disabled != disabled[u] || s.RevokedAt.IsZero() == disabled[u] {
			t.Fatalf("%s: last check %v, disabled %v, session revoked at %v; want checked now, disabled and revoked %v", u, rec.LastCheckAt, rec.Disabled, s.RevokedAt, disabled[u])
		}
	}
	// Nothing is due any more: the next scheduled run queues nothing.
	if reps, err = f.ref.Run(ctx); err != nil || reps["prod"].Shards != 0 || reps["prod"].Checked != 0 {
		t.Fatalf("next run = %+v, %v; want nothing to do", reps["prod"], err)
	}
}

// The guard adds the shards up: 4% of users disabled, spread evenly; a
// shard of 1,000 alone (40 revocations, under the minimum of 100) would
// never trip it, but the run's totals do on the third shard, and from then
// on no shard revokes.
func TestGuardCountsAcrossShards(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	guard := refresher.Guard{Share: 0.02, Min: 100}
	f := newFleet(t, 5000, guard, 1000)
	for i := 0; i < 5000; i += 25 {
		f.dir.Put(fmt.Sprintf("user%05d", i), devdir.User{Enabled: false})
	}
	reps, err := f.ref.Run(ctx)
	if err != nil || reps["prod"].Shards != 5 {
		t.Fatalf("scheduled run = %+v, %v; want 5 shards", reps["prod"], err)
	}
	sum := &summing{r: f.ref}
	f.drain(t, 1, 5, sum) // one worker: shards in turn
	if !sum.sum.GuardTripped || sum.sum.RevokedUsers != 80 || sum.sum.Held != 120 {
		t.Fatalf("totals %+v; want the guard tripped on the third shard: 80 users revoked, 120 held", sum.sum)
	}
	if !bytes.Contains(f.logs.Bytes(), []byte("mass revocation guard tripped")) {
		t.Fatal("no alarm log line for the tripped guard")
	}
}

func TestDecodeRefusesBadShards(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{"run":"r","env":"prod"}`, `{"run":"r","env":"prod","users":[]}`,
		`{"run":"r","env":"prod","users":[{"issuer":"i"}]}`,
		`{"run":"r","run":"s","env":"prod","users":[{"issuer":"i","subject":"s"}]}`,
		`{"run":"r","env":"prod","users":[{"issuer":"i","subject":"s"}],"extra":1}`,
		`{"env":"prod","users":[{"issuer":"i","subject":"s"}]}`,
	} {
		if _, err := shardqueue.Decode(body); err == nil {
			t.Errorf("Decode(%s) accepted", body)
		}
	}
	if s, err := shardqueue.Decode(`{"run":"r","env":"prod","users":[{"issuer":"i","subject":"s"}]}`); err != nil || len(s.Users) != 1 {
		t.Fatalf("Decode(good) = %+v, %v", s, err)
	}
}

// A message that is not a shard, or names an unknown environment, is
// reported failed (SQS delivers it again, then dead-letters it); the
// others in the batch are done.
func TestHandleReportsFailures(t *testing.T) {
	needs.Parts(t, needs.Moto)
	f := newFleet(t, 3, refresher.Guard{}, 1000)
	// Three due users are within one invocation's capacity: checked in the
	// run, nothing queued.
	if reps, err := f.ref.Run(context.Background()); err != nil || reps["prod"].Shards != 0 || reps["prod"].Checked != 3 {
		t.Fatalf("run = %+v, %v; want 3 users checked in the run, no shard", reps["prod"], err)
	}
	f.clock.Add(2 * time.Hour) // due again, for the shard below
	good := `{"run":"r","env":"prod","users":[{"issuer":"https://idp.example/","subject":"user00001"}]}`
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "1", Body: good},
		{MessageId: "2", Body: `{"run":"r"`},
		{MessageId: "3", Body: `{"run":"r","env":"staging","users":[{"issuer":"i","subject":"s"}]}`},
	}}
	resp := shardqueue.Handle(context.Background(), f.ref, f.ref.Log(), ev)
	if len(resp.BatchItemFailures) != 2 || resp.BatchItemFailures[0].ItemIdentifier != "2" || resp.BatchItemFailures[1].ItemIdentifier != "3" {
		t.Fatalf("failures = %+v; want messages 2 and 3", resp.BatchItemFailures)
	}
}

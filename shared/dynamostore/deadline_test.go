package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
	"github.com/sessionguard/sessionguard/shared/storetest"
)

// ticking is a store on which every call the sessions API makes takes
// step of the API's clock; it counts the writes issued once that clock
// has reached deadline.
type ticking struct {
	sessionapi.Store
	clock    *devidp.Clock
	step     time.Duration
	deadline time.Time
	late     int
}

func (s *ticking) tick(write bool) {
	if s.clock == nil {
		return
	}
	if write && !s.clock.Now().Before(s.deadline) {
		s.late++
	}
	s.clock.Add(s.step)
}

func (s *ticking) User(ctx context.Context, env string, u session.UserKey) (session.User, error) {
	s.tick(false)
	return s.Store.User(ctx, env, u)
}

func (s *ticking) UserSessions(ctx context.Context, env string, u session.UserKey, p session.Page) ([]session.Session, string, error) {
	s.tick(false)
	return s.Store.UserSessions(ctx, env, u, p)
}

func (s *ticking) RecordSignOut(ctx context.Context, env string, u session.UserKey, at time.Time) error {
	s.tick(true)
	return s.Store.RecordSignOut(ctx, env, u, at)
}

func (s *ticking) RevokeUser(ctx context.Context, env string, u session.UserKey, from, at time.Time, why session.Cause) ([]session.Session, error) {
	s.tick(true)
	return s.Store.RevokeUser(ctx, env, u, from, at, why)
}

func (s *ticking) Revoke(ctx context.Context, h session.Hash, at time.Time, why session.Cause) (session.Session, bool, error) {
	s.tick(true)
	return s.Store.Revoke(ctx, h, at, why)
}

func (s *ticking) EndIdPSession(ctx context.Context, env, issuer, sid string, at time.Time) error {
	s.tick(true)
	return s.Store.EndIdPSession(ctx, env, issuer, sid, at)
}

// "Sign out everywhere else" on DynamoDB at the default deadline, for a
// user with 300 live sessions older than the current one, each of its own
// IdP session, and 100 newer ones: the shape that took past the
// function's 5-second limit when only the bulk revocation was bounded.
// With every store call taking 150 ms of the API's clock and a budget of
// a minute, the request ends the older sessions and some of the newer
// ones, issues no write once its deadline has passed and answers 200
// with truncated; every older session is refused (the revocation point
// moved first), and a repeat ends the newer ones left. At the default
// budget on the real clock the request answers 200 and every older
// session is refused, cut short or not; the log has its wall time on
// moto.
func TestEndAllButCurrentDeadlineOnDynamoDB(t *testing.T) {
	needs.Parts(t, needs.Moto)
	for _, injected := range []bool{true, false} {
		t.Run(fmt.Sprintf("injected clock %v", injected), func(t *testing.T) {
			ctx := context.Background()
			clock := devidp.NewClock(storetest.T0)
			st, calls := open(t, clock.Now)
			idp, v, envs := issuer(t, clock)
			auth := authorizer.New(v, st, envs, policy.Enforcement{}, clock.Now)
			// The default budget on the real clock; on the injected one a
			// minute, so that the API's clock alone cuts the request short.
			ts, budget := &ticking{Store: st}, 4*time.Second
			if injected {
				ts.clock, ts.step, budget = clock, 150*time.Millisecond, time.Minute
			}
			api := sessionapi.New(sessionapi.Config{Verifier: v, Store: ts, Environments: envs, Now: clock.Now, Authorizer: auth, EndBudget: budget})
			alice := session.UserKey{Issuer: idp.URL(), Subject: "alice"}
			now := clock.Now()
			var items []map[string]types.AttributeValue
			add := func(created time.Time, sid string) session.ID {
				id, err := session.NewID()
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, dynamostore.ItemsOf(session.Session{Hash: id.Hash(), Environment: "prod", User: alice, ClientID: devidp.DefaultClientID,
					IdPSession: sid, CreatedAt: created, AuthTime: created, SettingsVersion: 1, Settings: policy.Defaults()})...)
				return id
			}
			var older, newer []session.ID
			for i := range 300 {
				older = append(older, add(now.Add(-time.Hour+time.Duration(i)*time.Millisecond), fmt.Sprintf("device-%d", i)))
			}
			for i := range 100 {
				newer = append(newer, add(now.Add(time.Second+time.Duration(i)*time.Millisecond), fmt.Sprintf("new-%d", i)))
			}
			putAll(t, calls.db, calls.table, items)
			tok, err := idp.Mint(devidp.Token{User: "alice", Claims: map[string]any{"sid": "mine"}})
			if err != nil {
				t.Fatal(err)
			}
			call := func(method, path, sid string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if sid != "" {
					req.Header.Set("X-Session-Id", sid)
				}
				rec := httptest.NewRecorder()
				api.ServeHTTP(rec, req)
				return rec
			}
			rec := call("POST", "/sessions", "")
			var signedIn struct{ SessionID string }
			if err := json.Unmarshal(rec.Body.Bytes(), &signedIn); err != nil || rec.Code != http.StatusCreated {
				t.Fatalf("sign-in = %d %s", rec.Code, rec.Body)
			}
			current, err := session.ParseID(signedIn.SessionID)
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Minute)
			calls.take(t)
			allowed := func(id session.ID) bool {
				return auth.Check(ctx, authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()}).Allowed()
			}

			ts.deadline = clock.Now().Add(budget)
			start := time.Now()
			rec = call("DELETE", "/sessions?others=true", current.Reveal())
			took := time.Since(start)
			n := calls.take(t)
			var ended struct {
				Ended     int
				Truncated bool
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &ended); err != nil || rec.Code != http.StatusOK {
				t.Fatalf("others=true = %d %s; want 200", rec.Code, rec.Body)
			}
			t.Logf("DELETE /sessions?others=true (300 older sessions of distinct IdP sessions, 100 newer): %d ended, truncated %v, in %v of wall time; DynamoDB calls %v",
				ended.Ended, ended.Truncated, took.Round(time.Millisecond), n)
			if injected && (!ended.Truncated || ts.late != 0 || ended.Ended <= 300 || ended.Ended >= 400) {
				t.Errorf("others=true past its deadline: %d ended, truncated %v, %d writes issued after the deadline; want the 300 older and some newer ended, truncated, none late",
					ended.Ended, ended.Truncated, ts.late)
			}
			for _, id := range []session.ID{older[0], older[150], older[299]} {
				if allowed(id) {
					t.Error("an older session is still allowed after others=true")
				}
			}
			if !allowed(current) {
				t.Fatal("others=true ended the current session")
			}
			for range 3 {
				if !ended.Truncated {
					break
				}
				ts.deadline = clock.Now().Add(budget)
				rec = call("DELETE", "/sessions?others=true", current.Reveal())
				if err := json.Unmarshal(rec.Body.Bytes(), &ended); err != nil || rec.Code != http.StatusOK {
					t.Fatalf("others=true again = %d %s; want 200", rec.Code, rec.Body)
				}
			}
			if ended.Truncated {
				t.Error("others=true still truncated after three repeats")
			}
			for _, id := range []session.ID{newer[0], newer[99]} {
				if allowed(id) {
					t.Error("a newer session is still allowed after the repeats")
				}
			}
		})
	}
}

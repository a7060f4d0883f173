package dynamostore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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

// putAll writes items to the table 25 at a time (BatchWriteItem), as if
// the store had written them one by one.
func putAll(t testing.TB, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	for len(items) > 0 {
		n := min(len(items), 25)
		var reqs []types.WriteRequest
		for _, it := range items[:n] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		items = items[n:]
		in := map[string][]types.WriteRequest{table: reqs}
		for attempt := 0; len(in) > 0; attempt++ {
			if attempt == 5 {
				t.Fatal("batch write: items left unprocessed")
			}
			out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: in})
			if err != nil {
				t.Fatal(err)
			}
			in = out.UnprocessedItems
		}
	}
}

// The user's own sessions on DynamoDB, behind more than ten pages of
// sessions that ended but are still stored for a week (1,050 revoked one
// by one, 1,001 ended idle by their own settings): DELETE /sessions/{id}
// ends one of the 102 live ones after them, and the other of its IdP
// session; GET /sessions lists the 100 left and the current one; DELETE
// /sessions?others=true
// ends the 100 left in one request, records each of their 50 IdP sessions
// as ended once, and keeps the current session; a copy of the caller's
// token cannot sign in again. The log has each request's DynamoDB calls
// and wall time (on moto, which serves one request at a time).
func TestOwnSessionsOnDynamoDB(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	clock := devidp.NewClock(storetest.T0)
	st, calls := open(t, clock.Now)
	idp, v, envs := issuer(t, clock)
	auth := authorizer.New(v, st, envs, policy.Enforcement{}, clock.Now)
	// No time budget for ending the older sessions: the test measures what
	// ending 100 costs (the function's own deadline is 4 s).
	api := sessionapi.New(sessionapi.Config{Verifier: v, Store: st, Environments: envs, Now: clock.Now, Authorizer: auth, EndBudget: time.Minute})
	alice := session.UserKey{Issuer: idp.URL(), Subject: "alice"}
	now := clock.Now()
	idle := policy.Defaults()
	idle.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 30}
	var items []map[string]types.AttributeValue
	add := func(created time.Time, set policy.Settings, sid string, revoked bool) session.ID {
		id, err := session.NewID()
		if err != nil {
			t.Fatal(err)
		}
		s := session.Session{Hash: id.Hash(), Environment: "prod", User: alice, ClientID: devidp.DefaultClientID, IdPSession: sid,
			CreatedAt: created, AuthTime: created, SettingsVersion: 1, Settings: set}
		if revoked {
			s.RevokedAt, s.RevokeReason = now.Add(-150*time.Minute), session.CauseEndedByUser
		}
		items = append(items, dynamostore.ItemsOf(s)...)
		return id
	}
	for i := range 1050 {
		add(now.Add(-3*time.Hour+time.Duration(i)*time.Millisecond), policy.Defaults(), "", true)
	}
	for i := range 1001 {
		add(now.Add(-2*time.Hour+time.Duration(i)*time.Millisecond), idle, "", false)
	}
	tabs := []session.ID{add(now.Add(-time.Hour), policy.Defaults(), "tabs", false), add(now.Add(-time.Hour+time.Millisecond), policy.Defaults(), "tabs", false)}
	var others []session.ID
	for i := range 100 {
		others = append(others, add(now.Add(-time.Hour+time.Second+time.Duration(i)*time.Millisecond), policy.Defaults(), fmt.Sprintf("device-%d", i/2), false))
	}
	putAll(t, calls.db, calls.table, items)
	calls.take(t)

	tok, err := idp.Mint(devidp.Token{User: "alice", Claims: map[string]any{"sid": "mine"}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, sid string) (*httptest.ResponseRecorder, time.Duration, map[string]int) {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if sid != "" {
			req.Header.Set("X-Session-Id", sid)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		api.ServeHTTP(rec, req)
		took := time.Since(start)
		return rec, took, calls.take(t)
	}
	allowed := func(id session.ID) bool {
		return auth.Check(ctx, authorizer.Identity{Authorization: "Bearer " + tok, SessionID: id.Reveal()}).Allowed()
	}
	clock.Add(time.Second)
	rec, _, _ := call("POST", "/sessions", "")
	if rec.Code != http.StatusCreated {
		t.Fatalf("sign-in = %d %s", rec.Code, rec.Body)
	}
	var signedIn struct{ SessionID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &signedIn); err != nil {
		t.Fatal(err)
	}
	current, err := session.ParseID(signedIn.SessionID)
	if err != nil {
		t.Fatal(err)
	}

	rec, took, n := call("DELETE", "/sessions/"+tabs[0].Hash().Prefix(), current.Reveal())
	t.Logf("DELETE /sessions/{id}: %d in %v, DynamoDB calls %v", rec.Code, took.Round(time.Millisecond), n)
	if rec.Code != http.StatusNoContent || allowed(tabs[0]) || allowed(tabs[1]) {
		t.Fatalf("DELETE /sessions/{one tab's id} = %d %s; want 204, and both sessions of its IdP session refused", rec.Code, rec.Body)
	}

	rec, took, n = call("GET", "/sessions", current.Reveal())
	var list struct {
		Sessions  []sessionapi.OwnView
		Truncated bool
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != 200 {
		t.Fatalf("GET /sessions = %d %s", rec.Code, rec.Body)
	}
	t.Logf("GET /sessions behind 2,051 ended sessions: %d listed in %v, DynamoDB calls %v", len(list.Sessions), took.Round(time.Millisecond), n)
	if len(list.Sessions) != 101 || list.Truncated || !list.Sessions[0].Current {
		t.Fatalf("GET /sessions = %d sessions, truncated %v; want the current one first and the 100 live ones", len(list.Sessions), list.Truncated)
	}

	rec, took, n = call("DELETE", "/sessions?others=true", current.Reveal())
	t.Logf("DELETE /sessions?others=true ended 100 sessions of 50 IdP sessions in %v: DynamoDB calls %v", took.Round(time.Millisecond), n)
	var ended struct {
		Ended     int
		Truncated bool
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ended); err != nil || rec.Code != 200 || ended.Ended != 100 || ended.Truncated {
		t.Fatalf("others=true = %d %s; want 100 ended, not truncated", rec.Code, rec.Body)
	}
	// One write moves the user's revocation point, one records the sign-out
	// point, one per session ends it, one per IdP session records its end.
	if n["UpdateItem"] != 1+1+100+50 {
		t.Errorf("others=true made %d UpdateItem calls; want 152: each of the 50 IdP sessions recorded once", n["UpdateItem"])
	}
	for i := range 50 {
		if _, gone, err := st.IdPSessionEnded(ctx, "prod", idp.URL(), fmt.Sprintf("device-%d", i)); err != nil || !gone {
			t.Fatalf("IdP session device-%d ended = %v, %v; want ended", i, gone, err)
		}
	}
	if _, gone, _ := st.IdPSessionEnded(ctx, "prod", idp.URL(), "mine"); gone {
		t.Error("others=true recorded the caller's own IdP session as ended")
	}
	if !allowed(current) || allowed(others[0]) || allowed(others[99]) {
		t.Error("after others=true the current session is refused, or another is allowed")
	}
	if rec, _, _ := call("POST", "/sessions", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("sign-in with a copy of the caller's token after others=true = %d; want 401", rec.Code)
	}
	if rec, _, _ := call("GET", "/sessions", current.Reveal()); !json.Valid(rec.Body.Bytes()) || json.Unmarshal(rec.Body.Bytes(), &list) != nil || len(list.Sessions) != 1 {
		t.Errorf("GET /sessions at last = %s; want the current session alone", rec.Body)
	}
}

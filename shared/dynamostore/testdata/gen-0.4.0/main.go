// Command gen-0.4.0 made ../items-0.4.0.json: it writes a representative
// set of items with release 0.4.0's own store (commit 48145ea) against
// moto, scans the table and prints the items as DynamoDB JSON, sorted by
// pk and sk. It builds only in a worktree of that commit (see
// ../README.md); its output is the same on every run.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

var T0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

const (
	idp     = "https://idp.example/"
	tx      = "https://tx.example/"
	poll    = "https://poll.example/"
	cognito = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
)

func hash(name string) session.Hash { return session.Hash(sha256.Sum256([]byte("fixture " + name))) }

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	ctx := context.Background()
	srv, err := dynamotest.Start()
	must(err)
	defer srv.Stop()
	db, err := dynamostore.NewClient(ctx, dynamostore.ClientOptions{Endpoint: srv.Endpoint, Region: "eu-west-1", LocalCredentials: true})
	must(err)
	const table = "sessionguard-0-4-0"
	must(dynamostore.CreateTable(ctx, db, table))
	now := T0
	st := dynamostore.New(db, table, func() time.Time { return now })

	alice := session.UserKey{Issuer: idp, Subject: "alice"}
	bob := session.UserKey{Issuer: idp, Subject: "bob"}
	carol := session.UserKey{Issuer: idp, Subject: "org#42/carol%"}
	dave := session.UserKey{Issuer: idp, Subject: "dave"}

	// Settings of prod: version 1 from a preset, version 2 applied to
	// running sessions.
	v1 := policy.Defaults()
	v1.SessionExpiration = policy.SessionExpiration{Enabled: true, MaxSessionMinutes: 1440, WarningMinutes: 20}
	v2 := v1
	v2.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 240}
	v2.StaySignedIn = policy.StaySignedIn{Allowed: true, InactivityMinutes: 7200, MaxSessionMinutes: 43200, RenewAfterMinutes: 1440}
	v2.PolicyCheckIntervalMinutes = 30
	v2.OutageGraceMinutes = 720
	v2.ExemptClients = []string{"mobile-app"}
	v2.MaxSessionsPerUser = 3
	v2.OnSessionLimit = policy.EndOldest
	must(st.PutSettings(ctx, session.SettingsChange{Environment: "prod", Version: 1, At: T0.Add(-48 * time.Hour), Actor: "admin@example.com",
		Old: policy.Defaults(), New: v1, Preset: "dataverse-default"}))
	must(st.PutSettings(ctx, session.SettingsChange{Environment: "prod", Version: 2, At: T0.Add(-24 * time.Hour), Actor: "ops@example.com",
		Old: v1, New: v2, ApplyToRunning: true}))

	live := func(session.Session) bool { return true }
	limit := session.Limit{Max: 3, OnLimit: policy.EndOldest}
	create := func(s session.Session) {
		now = s.CreatedAt
		ended, err := st.Create(ctx, s, limit, live)
		must(err)
		if len(ended) > 0 {
			panic("ended sessions")
		}
	}
	// alice-1: every field, stay signed in, an IdP session, activity.
	s1 := session.Session{Hash: hash("alice-1"), Environment: "prod", User: alice, ClientID: "web-app", IdPSession: "idp-sid-1",
		CreatedAt: T0.Add(-2 * time.Hour), AuthTime: T0.Add(-2*time.Hour - 5*time.Minute), StaySignedIn: true, SettingsVersion: 2, Settings: v2}
	create(s1)
	// alice-2: a mobile session under version 1, no sid.
	s2 := session.Session{Hash: hash("alice-2"), Environment: "prod", User: alice, ClientID: "mobile-app",
		CreatedAt: T0.Add(-90 * time.Minute), AuthTime: T0.Add(-91 * time.Minute), SettingsVersion: 1, Settings: v1}
	create(s2)
	// alice-3: signed out.
	s3 := session.Session{Hash: hash("alice-3"), Environment: "prod", User: alice, ClientID: "web-app", IdPSession: "idp-sid-2",
		CreatedAt: T0.Add(-80 * time.Minute), AuthTime: T0.Add(-80 * time.Minute), SettingsVersion: 2, Settings: v2}
	create(s3)
	now = T0.Add(-30 * time.Minute)
	wrote, err := st.Touch(ctx, s1, now, time.Minute)
	must(err)
	if !wrote {
		panic("touch")
	}
	now = T0.Add(-70 * time.Minute)
	_, _, err = st.Revoke(ctx, s3.Hash, now, session.CauseSignOut)
	must(err)
	must(st.RecordSignOut(ctx, "prod", alice, now))

	// bob: a session under the defaults (no expiry), then an admin's revoke
	// of all his sessions.
	s4 := session.Session{Hash: hash("bob-1"), Environment: "prod", User: bob, ClientID: "web-app",
		CreatedAt: T0.Add(-60 * time.Minute), AuthTime: T0.Add(-60 * time.Minute), Settings: policy.Defaults()}
	create(s4)
	now = T0.Add(-50 * time.Minute)
	_, err = st.RevokeUser(ctx, "prod", bob, now, session.CauseAdmin)
	must(err)

	// carol (a subject that needs escaping): a check found her disabled.
	s5 := session.Session{Hash: hash("carol-1"), Environment: "prod", User: carol, ClientID: "web-app", IdPSession: "idp-sid-3",
		CreatedAt: T0.Add(-40 * time.Minute), AuthTime: T0.Add(-40 * time.Minute), SettingsVersion: 2, Settings: v2}
	create(s5)
	now = T0.Add(-35 * time.Minute)
	must(st.PutUser(ctx, session.User{Environment: "prod", Key: carol, Disabled: true, LastCheckAt: now, NextCheckAt: T0.Add(-5 * time.Minute)}))
	_, _, err = st.Revoke(ctx, s5.Hash, now, session.CauseUserDisabled)
	must(err)

	// alice's policy check; dave: no sessions, failing checks, overdue.
	now = T0.Add(-25 * time.Minute)
	must(st.PutUser(ctx, session.User{Environment: "prod", Key: alice, LastCheckAt: now, NextCheckAt: T0.Add(35 * time.Minute)}))
	must(st.PutUser(ctx, session.User{Environment: "prod", Key: dave, LastCheckAt: T0.Add(-3 * time.Hour), SessionsValidFrom: T0.Add(-4 * time.Hour),
		NextCheckAt: T0.Add(-2 * time.Hour), CheckFailures: 2}))

	// alice in staging, which has no settings of its own.
	s6 := session.Session{Hash: hash("alice-staging"), Environment: "staging", User: alice, ClientID: "web-app",
		CreatedAt: T0.Add(-20 * time.Minute), AuthTime: T0.Add(-20 * time.Minute), Settings: policy.Defaults()}
	create(s6)

	now = T0
	// Audit reports.
	must(st.PutReport(ctx, session.Report{Environment: "prod", At: T0.Add(-24 * time.Hour), Body: []byte(`{"environment":"prod","activeSessions":1}`)}))
	must(st.PutReport(ctx, session.Report{Environment: "prod", At: T0.Add(-10 * time.Minute), Body: []byte(`{"environment":"prod","activeSessions":2,"revocations":{"admin":1,"sign_out":1,"user_disabled":1}}`)}))
	// Received jti: a SET and a logout token.
	for _, j := range []struct {
		iss, jti string
		keep     time.Time
	}{{tx, "set-jti-1", T0.Add(24 * time.Hour)}, {idp, "logout-jti-1", T0.Add(3 * time.Hour)}} {
		first, err := st.RecordJTI(ctx, j.iss, j.jti, j.keep)
		must(err)
		if !first {
			panic("jti")
		}
	}
	// Shared Signals streams: a verified push stream, a polled one.
	must(st.PutStream(ctx, session.Stream{Transmitter: tx, StreamID: "stream-1", Delivery: "push", VerifyState: "state-1", UpdatedAt: T0.Add(-3 * time.Hour)}))
	must(st.RecordVerification(ctx, tx, "state-1", T0.Add(-3*time.Hour+time.Second)))
	must(st.PutStream(ctx, session.Stream{Transmitter: poll, StreamID: "stream-2", Delivery: "poll", PollURL: poll + "ssf/poll", VerifyState: "state-2", UpdatedAt: T0.Add(-2 * time.Hour)}))
	// A Cognito username mapping.
	must(st.RecordUsername(ctx, cognito, "c0ffee-0000-sub", "alice@example.com"))
	// A directory change cursor.
	must(st.PutDirectoryCursor(ctx, "graph:contoso", "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=token-1"))
	// Run counters: one run in two shards, one whose guard tripped.
	for _, c := range []struct {
		run           string
		checked, revs int
	}{{"prod/2026-11-30T08:30", 100, 3}, {"prod/2026-11-30T08:30", 50, 1}, {"prod/2026-11-30T08:00", 10, 9}} {
		_, err := st.CountRun(ctx, c.run, c.checked, c.revs, T0.Add(24*time.Hour))
		must(err)
	}
	must(st.TripRun(ctx, "prod/2026-11-30T08:00"))

	// Scan and print.
	var items []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &[]string{table}[0], ExclusiveStartKey: start})
		must(err)
		items = append(items, out.Items...)
		if start = out.LastEvaluatedKey; len(start) == 0 {
			break
		}
	}
	sk := func(it map[string]types.AttributeValue) string {
		return it["pk"].(*types.AttributeValueMemberS).Value + "\x00" + it["sk"].(*types.AttributeValueMemberS).Value
	}
	sort.Slice(items, func(i, j int) bool { return sk(items[i]) < sk(items[j]) })
	var b bytes.Buffer
	b.WriteString("{\"Items\": [\n")
	for i, it := range items {
		enc, err := json.Marshal(encode(&types.AttributeValueMemberM{Value: it}).(map[string]any)["M"])
		must(err)
		var pretty bytes.Buffer
		must(json.Compact(&pretty, enc))
		b.WriteString("  ")
		b.Write(pretty.Bytes())
		if i < len(items)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	os.Stdout.Write(b.Bytes())
	fmt.Fprintf(os.Stderr, "%d items\n", len(items))
	kinds := map[string]int{}
	for _, it := range items {
		pk := it["pk"].(*types.AttributeValueMemberS).Value
		kinds[strings.SplitN(pk, "#", 2)[0]+" "+it["sk"].(*types.AttributeValueMemberS).Value[:1]]++
	}
	fmt.Fprintln(os.Stderr, kinds)
}

// encode is one attribute value in DynamoDB JSON.
func encode(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, x := range v.Value {
			m[k] = encode(x)
		}
		return map[string]any{"M": m}
	case *types.AttributeValueMemberL:
		l := []any{}
		for _, x := range v.Value {
			l = append(l, encode(x))
		}
		return map[string]any{"L": l}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	}
	panic(fmt.Sprintf("attribute type %T", v))
}

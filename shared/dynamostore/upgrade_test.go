package dynamostore_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/runcount"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/storetest"
	"github.com/sessionguard/sessionguard/shared/stream"
)

// The table as release 0.4.0 left it: testdata/items-0.4.0.json, written
// by 0.4.0's own store (testdata/gen-0.4.0, see testdata/README.md). The
// names and values below are the generator's.
var t040 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

const (
	idp040     = "https://idp.example/"
	tx040      = "https://tx.example/"
	poll040    = "https://poll.example/"
	cognito040 = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
	run040     = "prod/2026-11-30T08:30" // 100+50 checked, 3+1 revoking
	tripped040 = "prod/2026-11-30T08:00" // 10 checked, 9 revoking, tripped
	graph040   = "graph:contoso"
)

var (
	alice040 = session.UserKey{Issuer: idp040, Subject: "alice"}
	bob040   = session.UserKey{Issuer: idp040, Subject: "bob"}
	carol040 = session.UserKey{Issuer: idp040, Subject: "org#42/carol%"}
	dave040  = session.UserKey{Issuer: idp040, Subject: "dave"}
)

func hash040(name string) session.Hash { return session.Hash(sha256.Sum256([]byte("fixture " + name))) }

func at040(d time.Duration) time.Time { return t040.Add(d) }

// settings040 are prod's settings versions 1 and 2 (2 applied to running
// sessions).
func settings040() (v1, v2 policy.Settings) {
	v1 = policy.Defaults()
	v1.SessionExpiration = policy.SessionExpiration{Enabled: true, MaxSessionMinutes: 1440, WarningMinutes: 20}
	v2 = v1
	v2.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 240}
	v2.StaySignedIn = policy.StaySignedIn{Allowed: true, InactivityMinutes: 7200, MaxSessionMinutes: 43200, RenewAfterMinutes: 1440}
	v2.PolicyCheckIntervalMinutes = 30
	v2.OutageGraceMinutes = 720
	v2.ExemptClients = []string{"mobile-app"}
	v2.MaxSessionsPerUser = 3
	v2.OnSessionLimit = policy.EndOldest
	return v1, v2
}

// sessions040 are the sessions 0.4.0 stored, by the generator's names.
func sessions040() map[string]session.Session {
	v1, v2 := settings040()
	return map[string]session.Session{
		"alice-1": {Hash: hash040("alice-1"), Environment: "prod", User: alice040, ClientID: "web-app", IdPSession: "idp-sid-1",
			CreatedAt: at040(-2 * time.Hour), LastActivityAt: at040(-30 * time.Minute), AuthTime: at040(-2*time.Hour - 5*time.Minute),
			StaySignedIn: true, SettingsVersion: 2, Settings: v2},
		"alice-2": {Hash: hash040("alice-2"), Environment: "prod", User: alice040, ClientID: "mobile-app",
			CreatedAt: at040(-90 * time.Minute), AuthTime: at040(-91 * time.Minute), SettingsVersion: 1, Settings: v1},
		"alice-3": {Hash: hash040("alice-3"), Environment: "prod", User: alice040, ClientID: "web-app", IdPSession: "idp-sid-2",
			CreatedAt: at040(-80 * time.Minute), AuthTime: at040(-80 * time.Minute), SettingsVersion: 2, Settings: v2,
			RevokedAt: at040(-70 * time.Minute), RevokeReason: session.CauseSignOut},
		"bob-1": {Hash: hash040("bob-1"), Environment: "prod", User: bob040, ClientID: "web-app",
			CreatedAt: at040(-60 * time.Minute), AuthTime: at040(-60 * time.Minute), Settings: policy.Defaults(),
			RevokedAt: at040(-50 * time.Minute), RevokeReason: session.CauseAdmin},
		"carol-1": {Hash: hash040("carol-1"), Environment: "prod", User: carol040, ClientID: "web-app", IdPSession: "idp-sid-3",
			CreatedAt: at040(-40 * time.Minute), AuthTime: at040(-40 * time.Minute), SettingsVersion: 2, Settings: v2,
			RevokedAt: at040(-35 * time.Minute), RevokeReason: session.CauseUserDisabled},
		"alice-staging": {Hash: hash040("alice-staging"), Environment: "staging", User: alice040, ClientID: "web-app",
			CreatedAt: at040(-20 * time.Minute), AuthTime: at040(-20 * time.Minute), Settings: policy.Defaults()},
	}
}

// users040 are the users' states in prod, by subject.
func users040() map[string]session.User {
	return map[string]session.User{
		"alice": {Environment: "prod", Key: alice040, SignedOutAt: at040(-70 * time.Minute), LastCheckAt: at040(-25 * time.Minute),
			NextCheckAt: at040(35 * time.Minute)},
		"bob": {Environment: "prod", Key: bob040, SessionsValidFrom: at040(-50 * time.Minute), NextCheckAt: at040(-60 * time.Minute)},
		"carol": {Environment: "prod", Key: carol040, Disabled: true, LastCheckAt: at040(-35 * time.Minute),
			NextCheckAt: at040(-5 * time.Minute)},
		"dave": {Environment: "prod", Key: dave040, LastCheckAt: at040(-3 * time.Hour), SessionsValidFrom: at040(-4 * time.Hour),
			NextCheckAt: at040(-2 * time.Hour), CheckFailures: 2},
	}
}

// An upgrade from 0.4.0 keeps the data: this release reads every kind of
// item 0.4.0 wrote, as it is, and its writes on them work and leave format
// 2 behind; what it does not write stays as 0.4.0 left it.
func TestUpgradeFrom040(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	now := at040(time.Hour) // the upgrade, an hour after 0.4.0's last write
	st, c := open(t, func() time.Time { return now })
	fixture := loadItems(t, "testdata/items-0.4.0.json")
	putRaw(t, c.db, c.table, fixture)
	sessions, users := sessions040(), users040()
	v1, v2 := settings040()

	// Reads. A 0.4.0 session item has no device (dev): it reads with the
	// device unknown (""), as sessions040 has it.
	for name, want := range sessions {
		if got, err := st.Session(ctx, want.Hash); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Session(%s) = %+v, %v;\nwant %+v", name, got, err, want)
		}
	}
	for name, want := range users {
		if got, err := st.User(ctx, "prod", want.Key); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("User(prod, %s) = %+v, %v;\nwant %+v", name, got, err, want)
		}
	}
	// alice-2 runs under version 1; version 2 was applied to running
	// sessions.
	gotS, gotU, err := st.Lookup(ctx, hash040("alice-2"), "prod", alice040)
	wantS := sessions["alice-2"]
	wantS.SettingsVersion, wantS.Settings = 2, v2
	if err != nil || !reflect.DeepEqual(gotS, wantS) || !reflect.DeepEqual(gotU, users["alice"]) {
		t.Errorf("Lookup(alice-2) = %+v, %+v, %v;\nwant %+v, %+v", gotS, gotU, err, wantS, users["alice"])
	}
	wantStaging := session.User{Environment: "staging", Key: alice040, NextCheckAt: at040(-20 * time.Minute)}
	if gotS, gotU, err := st.Lookup(ctx, hash040("alice-staging"), "staging", alice040); err != nil ||
		!reflect.DeepEqual(gotS, sessions["alice-staging"]) || !reflect.DeepEqual(gotU, wantStaging) {
		t.Errorf("Lookup(alice-staging) = %+v, %+v, %v; want %+v, %+v", gotS, gotU, err, sessions["alice-staging"], wantStaging)
	}
	listSessions := func(env string, user session.UserKey, revoked bool) []session.Session {
		t.Helper()
		got, next, err := st.UserSessions(ctx, env, user, session.Page{Revoked: revoked})
		if err != nil || next != "" {
			t.Fatalf("UserSessions(%s, %s) = %v, %q, %v", env, user.Subject, got, next, err)
		}
		return got
	}
	checkSessions := func(what string, got []session.Session, want ...session.Session) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %+v;\nwant %+v", what, got, want)
		}
	}
	checkSessions("UserSessions(prod, alice)", listSessions("prod", alice040, false), sessions["alice-1"], sessions["alice-2"])
	checkSessions("UserSessions(prod, alice, revoked too)", listSessions("prod", alice040, true),
		sessions["alice-1"], sessions["alice-2"], sessions["alice-3"])
	checkSessions("UserSessions(staging, alice)", listSessions("staging", alice040, false), sessions["alice-staging"])
	if got, _, err := st.DueUsers(ctx, "prod", t040, session.Page{}); err != nil ||
		!reflect.DeepEqual(got, []session.User{users["dave"], users["bob"], users["carol"]}) {
		t.Errorf("DueUsers(prod, T0) = %+v, %v; want dave, bob, carol", got, err)
	}
	if got, _, err := st.Users(ctx, "prod", session.Page{}); err != nil ||
		!reflect.DeepEqual(got, []session.User{users["dave"], users["bob"], users["carol"], users["alice"]}) {
		t.Errorf("Users(prod) = %+v, %v; want dave, bob, carol, alice", got, err)
	}
	if got, v, err := st.Settings(ctx, "prod"); err != nil || v != 2 || !reflect.DeepEqual(got, v2) {
		t.Errorf("Settings(prod) = %+v, %d, %v; want version 2 %+v", got, v, err, v2)
	}
	if got, v, err := st.Settings(ctx, "staging"); err != nil || v != 0 || !reflect.DeepEqual(got, policy.Defaults()) {
		t.Errorf("Settings(staging) = %+v, %d, %v; want the defaults at version 0", got, v, err)
	}
	change1 := policy.SettingsChange{Environment: "prod", Version: 1, At: at040(-48 * time.Hour), Actor: "admin@example.com",
		Old: policy.Defaults(), New: v1, Preset: "dataverse-default"}
	change2 := policy.SettingsChange{Environment: "prod", Version: 2, At: at040(-24 * time.Hour), Actor: "ops@example.com",
		Old: v1, New: v2, ApplyToRunning: true}
	if got, _, err := st.History(ctx, "prod", session.Page{}); err != nil || !reflect.DeepEqual(got, []policy.SettingsChange{change2, change1}) {
		t.Errorf("History(prod) = %+v, %v;\nwant %+v", got, err, []policy.SettingsChange{change2, change1})
	}
	report1 := audit.Record{Environment: "prod", At: at040(-24 * time.Hour), Body: []byte(`{"environment":"prod","activeSessions":1}`)}
	report2 := audit.Record{Environment: "prod", At: at040(-10 * time.Minute),
		Body: []byte(`{"environment":"prod","activeSessions":2,"revocations":{"admin":1,"sign_out":1,"user_disabled":1}}`)}
	if got, _, err := st.Reports(ctx, "prod", session.Page{}); err != nil || !reflect.DeepEqual(got, []audit.Record{report2, report1}) {
		t.Errorf("Reports(prod) = %+v, %v; want the two reports, newest first", got, err)
	}
	for sid, name := range map[string]string{"idp-sid-1": "alice-1", "idp-sid-2": "alice-3", "idp-sid-3": "carol-1"} {
		if got, err := st.IdPSessionHashes(ctx, idp040, sid); err != nil || !reflect.DeepEqual(got, []session.Hash{hash040(name)}) {
			t.Errorf("IdPSessionHashes(%s) = %v, %v; want %s's", sid, got, err, name)
		}
	}
	if _, ended, err := st.IdPSessionEnded(ctx, "prod", idp040, "idp-sid-1"); err != nil || ended {
		t.Errorf("IdPSessionEnded(idp-sid-1) = %v, %v; want false (0.4.0 kept none)", ended, err)
	}
	pushed := stream.Stream{Transmitter: tx040, StreamID: "stream-1", Delivery: "push", VerifyState: "state-1",
		VerifiedState: "state-1", VerifiedAt: at040(-3*time.Hour + time.Second), UpdatedAt: at040(-3 * time.Hour)}
	polled := stream.Stream{Transmitter: poll040, StreamID: "stream-2", Delivery: "poll", PollURL: poll040 + "ssf/poll",
		VerifyState: "state-2", UpdatedAt: at040(-2 * time.Hour)}
	for _, want := range []stream.Stream{pushed, polled} {
		if got, ok, err := st.Stream(ctx, want.Transmitter); err != nil || !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Stream(%s) = %+v, %v, %v; want %+v", want.Transmitter, got, ok, err, want)
		}
	}
	if got, err := st.SubjectOf(ctx, cognito040, "alice@example.com"); err != nil || got != "c0ffee-0000-sub" {
		t.Errorf("SubjectOf = %q, %v; want c0ffee-0000-sub", got, err)
	}
	if got, err := st.UsernameOf(ctx, cognito040, "c0ffee-0000-sub"); err != nil || got != "alice@example.com" {
		t.Errorf("UsernameOf = %q, %v; want alice@example.com", got, err)
	}
	if got, err := st.DirectoryCursor(ctx, graph040); err != nil || got != "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=token-1" {
		t.Errorf("DirectoryCursor = %q, %v; want 0.4.0's", got, err)
	}
	// 0.4.0 kept no user listing: its users are found once this release
	// signs them in or checks them (below).
	if got, _, err := st.SearchUsers(ctx, "prod", idp040, "", session.Page{}); err != nil || len(got) != 0 {
		t.Errorf("SearchUsers(prod) before any write = %v, %v; want no one", got, err)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Writes on 0.4.0's items.
	later := sessions["alice-2"]
	if wrote, err := st.Touch(ctx, later, now, time.Minute); err != nil || !wrote {
		t.Errorf("Touch(alice-2) = %v, %v; want a write", wrote, err)
	}
	later.LastActivityAt = now
	if got, err := st.Session(ctx, later.Hash); err != nil || !reflect.DeepEqual(got, later) {
		t.Errorf("Session(alice-2) after Touch = %+v, %v; want %+v", got, err, later)
	}
	// The session limit counts 0.4.0's list of alice's sessions (alice-1,
	// alice-2 live; alice-3 signed out): a limit of 2 ends alice-1.
	fresh := storetest.NewSession(t, "prod", alice040, now, v2)
	ended, err := st.Create(ctx, fresh, session.Limit{Max: 2, OnLimit: policy.EndOldest}, func(session.Session) bool { return true })
	if err != nil || len(ended) != 1 || ended[0].Hash != hash040("alice-1") {
		t.Errorf("Create under a limit of 2 ended %v, %v; want alice-1", ended, err)
	}
	checkSessions("UserSessions(prod, alice) after a sign-in", listSessions("prod", alice040, false), later, fresh)
	if err := st.RecordSignOut(ctx, "prod", alice040, now); err != nil {
		t.Error(err)
	}
	wantAlice := users["alice"]
	wantAlice.SignedOutAt = now
	if got, err := st.User(ctx, "prod", alice040); err != nil || !reflect.DeepEqual(got, wantAlice) {
		t.Errorf("User(alice) after RecordSignOut = %+v, %v; want %+v", got, err, wantAlice)
	}
	if err := st.RecordCheck(ctx, "prod", dave040, session.Check{StartedAt: now, Answered: true, CheckedAt: now, NextCheckAt: now.Add(30 * time.Minute)}); err != nil {
		t.Error(err)
	}
	wantDave := users["dave"]
	wantDave.LastCheckAt, wantDave.CheckFailures, wantDave.NextCheckAt = now, 0, now.Add(30*time.Minute)
	if got, err := st.User(ctx, "prod", dave040); err != nil || !reflect.DeepEqual(got, wantDave) {
		t.Errorf("User(dave) after RecordCheck = %+v, %v; want %+v", got, err, wantDave)
	}
	// carol's 0.4.0 disable has no time; a new one gets it, and a check
	// that started before it cannot clear it.
	if err := st.DisableUser(ctx, "prod", carol040, now); err != nil {
		t.Error(err)
	}
	if err := st.RecordCheck(ctx, "prod", carol040, session.Check{StartedAt: now.Add(-time.Second), Answered: true, CheckedAt: now,
		Enable: true, NextCheckAt: now.Add(30 * time.Minute)}); err != nil {
		t.Error(err)
	}
	wantCarol := users["carol"]
	wantCarol.DisabledAt, wantCarol.LastCheckAt, wantCarol.NextCheckAt = now, now, now.Add(30*time.Minute)
	if got, err := st.User(ctx, "prod", carol040); err != nil || !reflect.DeepEqual(got, wantCarol) {
		t.Errorf("User(carol) after DisableUser and an older check = %+v, %v; want %+v", got, err, wantCarol)
	}
	if revoked, err := st.RevokeUser(ctx, "prod", bob040, now, now, session.CauseAdmin); err != nil || len(revoked) != 0 {
		t.Errorf("RevokeUser(bob) = %v, %v; want nothing left to revoke", revoked, err)
	}
	if got, err := st.User(ctx, "prod", bob040); err != nil || !got.SessionsValidFrom.Equal(now) {
		t.Errorf("User(bob).SessionsValidFrom = %v, %v; want %v", got.SessionsValidFrom, err, now)
	}
	v3 := v2
	v3.MaxSessionsPerUser, v3.StrictReauthentication = 5, true
	change3 := policy.SettingsChange{Environment: "prod", Version: 3, At: now, Actor: "admin@example.com", Old: v2, New: v3}
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 2, At: now, Actor: "late", Old: v1, New: v3}); !errors.Is(err, session.ErrVersionConflict) {
		t.Errorf("PutSettings over 0.4.0's version 2 as version 2 = %v; want a version conflict", err)
	}
	if err := st.PutSettings(ctx, change3); err != nil {
		t.Errorf("PutSettings(version 3) = %v", err)
	}
	if got, v, err := st.Settings(ctx, "prod"); err != nil || v != 3 || !reflect.DeepEqual(got, v3) {
		t.Errorf("Settings(prod) = %+v, %d, %v; want version 3", got, v, err)
	}
	if got, _, err := st.History(ctx, "prod", session.Page{}); err != nil || !reflect.DeepEqual(got, []policy.SettingsChange{change3, change2, change1}) {
		t.Errorf("History(prod) = %+v, %v; want versions 3, 2, 1", got, err)
	}
	report3 := audit.Record{Environment: "prod", At: now, Body: []byte(`{"environment":"prod"}`)}
	if err := st.PutReport(ctx, report3); err != nil {
		t.Error(err)
	}
	if got, _, err := st.Reports(ctx, "prod", session.Page{}); err != nil || !reflect.DeepEqual(got, []audit.Record{report3, report2, report1}) {
		t.Errorf("Reports(prod) = %+v, %v; want three", got, err)
	}
	// 0.4.0's received token ids still refuse their replay.
	for _, j := range [][2]string{{tx040, "set-jti-1"}, {idp040, "logout-jti-1"}} {
		if first, err := st.RecordJTI(ctx, j[0], j[1], now.Add(time.Hour)); err != nil || first {
			t.Errorf("RecordJTI(%s) = %v, %v; want false: a replay", j[1], first, err)
		}
	}
	moved := pushed
	moved.StreamID, moved.UpdatedAt = "stream-1b", now
	if ok, err := st.PutStream(ctx, moved, "stream-1"); err != nil || !ok {
		t.Errorf("PutStream over 0.4.0's stream-1 = %v, %v; want stored", ok, err)
	}
	if err := st.RecordVerification(ctx, poll040, "state-2", now); err != nil {
		t.Error(err)
	}
	verified := polled
	verified.VerifiedState, verified.VerifiedAt = "state-2", now
	for _, want := range []stream.Stream{moved, verified} { // the push stream keeps 0.4.0's verification
		if got, _, err := st.Stream(ctx, want.Transmitter); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Stream(%s) = %+v, %v; want %+v", want.Transmitter, got, err, want)
		}
	}
	for run, want := range map[string]runcount.Count{run040: {Checked: 151, Revoking: 4}, tripped040: {Checked: 10, Revoking: 9, Tripped: true}} {
		checked := 0
		if run == run040 {
			checked = 1
		}
		if got, err := st.CountRun(ctx, run, checked, 0, now.Add(24*time.Hour)); err != nil || got != want {
			t.Errorf("CountRun(%s) = %+v, %v; want %+v", run, got, err, want)
		}
	}
	if err := st.PutDirectoryCursor(ctx, graph040, "token-2"); err != nil {
		t.Error(err)
	}
	if got, err := st.DirectoryCursor(ctx, graph040); err != nil || got != "token-2" {
		t.Errorf("DirectoryCursor = %q, %v; want token-2", got, err)
	}
	if err := st.RecordUsername(ctx, cognito040, "c0ffee-0000-sub", "alice@example.com"); err != nil {
		t.Error(err)
	}
	if got, err := st.SubjectOf(ctx, cognito040, "alice@example.com"); err != nil || got != "c0ffee-0000-sub" {
		t.Errorf("SubjectOf = %q, %v", got, err)
	}
	// An ended IdP session's record beside 0.4.0's links is no link.
	if err := st.EndIdPSession(ctx, "prod", idp040, "idp-sid-1", now); err != nil {
		t.Error(err)
	}
	if got, err := st.IdPSessionHashes(ctx, idp040, "idp-sid-1"); err != nil || !reflect.DeepEqual(got, []session.Hash{hash040("alice-1")}) {
		t.Errorf("IdPSessionHashes(idp-sid-1) = %v, %v; want alice-1's", got, err)
	}
	if at, ended, err := st.IdPSessionEnded(ctx, "prod", idp040, "idp-sid-1"); err != nil || !ended || !at.Equal(now) {
		t.Errorf("IdPSessionEnded(idp-sid-1) = %v, %v, %v; want ended at %v", at, ended, err, now)
	}

	// Signed in (alice) or checked (dave, carol): listed; bob, whose
	// sessions were only revoked, not yet.
	if got, _, err := st.SearchUsers(ctx, "prod", idp040, "", session.Page{}); err != nil ||
		!reflect.DeepEqual(got, []session.UserKey{alice040, dave040, carol040}) {
		t.Errorf("SearchUsers(prod) after the writes = %v, %v; want alice, dave, carol", got, err)
	}

	// What this release wrote is format 2; the rest is as 0.4.0 left it.
	before := map[string]item{}
	for _, it := range fixture {
		before[itemKey(it)] = it
	}
	byFormat := map[string][]string{}
	for k, it := range scanRaw(t, c.db, c.table) {
		f := "1"
		if v, ok := it["fv"]; ok {
			f = encodeValue(v)
		}
		byFormat[f] = append(byFormat[f], kindOf(it))
		switch old, was := before[k]; {
		case f == "1" && (!was || encodeItem(old) != encodeItem(it)):
			t.Errorf("item %s changed without its format:\n%s", kindOf(it), encodeItem(it))
		case f != "1" && f != `{"N":"2"}`:
			t.Errorf("item %s has format %s; want 2", kindOf(it), f)
		}
	}
	// Written: sessions alice-1 (ended by the limit) and alice-2 (touched),
	// the 4 users of prod, the settings, the 2 streams, the 2 runs, the
	// cursor and both username items (14 of 0.4.0's 28); new: a session, a
	// history record, a report, an ended IdP session, the user listing's
	// entries of alice, dave and carol (7). Untouched: 4
	// sessions, alice in staging, 2 history records, 2 reports, 2 jti
	// records (a refused replay writes nothing), 3 IdP-session links (14).
	if n1, n2 := len(byFormat["1"]), len(byFormat[`{"N":"2"}`]); n1 != 14 || n2 != 21 {
		t.Errorf("%d items of format 1, %d of format 2; want 14 and 21: %v", n1, n2, byFormat)
	}
}

// An item of a format newer than this release's is neither read nor
// written: every read and write of one fails with ErrNewerFormat (which
// the authorizer answers with dependency_unavailable), and the item stays
// as it was.
func TestNewerFormatIsNeitherReadNorWritten(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	now := at040(time.Hour)
	st, c := open(t, func() time.Time { return now })
	newer := fmt.Sprint(dynamostore.Format + 1)
	fixture := loadItems(t, "testdata/items-0.4.0.json")
	marked := map[string]bool{}
	for _, it := range fixture {
		switch pk, sk := attr(it, "pk"), attr(it, "sk"); {
		case pk == "S#"+hash040("alice-1").String(),
			pk == "U#prod#"+idp040+"#alice",
			sk == "SETTINGS", sk == "H#0000000002", sk == "A#"+fmt.Sprintf("%020d", at040(-10*time.Minute).UnixNano()),
			sk == "STREAM" && attr(it, "tx") == tx040, sk == "CURSOR", sk == "RUN", sk == "J", sk == "N",
			sk == hash040("alice-1").String(): // alice-1's IdP-session link
			it["fv"] = &types.AttributeValueMemberN{Value: newer}
			marked[itemKey(it)] = true
		}
	}
	if len(marked) != 13 {
		t.Fatalf("%d items marked; want 13", len(marked))
	}
	putRaw(t, c.db, c.table, fixture)
	before := scanRaw(t, c.db, c.table)

	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, dynamostore.ErrNewerFormat) {
			t.Errorf("%s = %v; want ErrNewerFormat", what, err)
		}
	}
	_, _, err := st.Lookup(ctx, hash040("alice-1"), "prod", alice040)
	refused("Lookup(alice-1)", err)
	if code := reason.CodeOf(err); code != reason.DependencyUnavailable {
		t.Errorf("the authorizer's reason for it = %s; want dependency_unavailable", code)
	}
	_, _, err = st.Lookup(ctx, hash040("alice-2"), "prod", alice040) // a format-1 session, a newer user item
	refused("Lookup(alice-2)", err)
	_, err = st.Session(ctx, hash040("alice-1"))
	refused("Session", err)
	_, err = st.User(ctx, "prod", alice040)
	refused("User", err)
	_, _, err = st.UserSessions(ctx, "prod", alice040, session.Page{})
	refused("UserSessions", err)
	_, _, err = st.DueUsers(ctx, "prod", now, session.Page{})
	refused("DueUsers", err)
	_, _, err = st.Users(ctx, "prod", session.Page{})
	refused("Users", err)
	_, _, err = st.Settings(ctx, "prod")
	refused("Settings", err)
	_, _, err = st.History(ctx, "prod", session.Page{})
	refused("History", err)
	_, _, err = st.Reports(ctx, "prod", session.Page{})
	refused("Reports", err)
	_, err = st.IdPSessionHashes(ctx, idp040, "idp-sid-1")
	refused("IdPSessionHashes", err)
	_, _, err = st.Stream(ctx, tx040)
	refused("Stream", err)
	_, err = st.DirectoryCursor(ctx, graph040)
	refused("DirectoryCursor", err)
	_, err = st.SubjectOf(ctx, cognito040, "alice@example.com")
	refused("SubjectOf", err)

	s1 := sessions040()["alice-1"]
	_, err = st.Touch(ctx, s1, now, time.Minute)
	refused("Touch", err)
	_, _, err = st.Revoke(ctx, s1.Hash, now, session.CauseAdmin)
	refused("Revoke", err)
	refused("RecordSignOut", st.RecordSignOut(ctx, "prod", alice040, now))
	refused("DisableUser", st.DisableUser(ctx, "prod", alice040, now))
	refused("RecordCheck", st.RecordCheck(ctx, "prod", alice040, session.Check{StartedAt: now, Answered: true, CheckedAt: now, NextCheckAt: now}))
	refused("ScheduleCheck", st.ScheduleCheck(ctx, "prod", alice040, now))
	_, err = st.RevokeUser(ctx, "prod", alice040, now, now, session.CauseAdmin)
	refused("RevokeUser", err)
	_, err = st.Create(ctx, storetest.NewSession(t, "prod", alice040, now, policy.Defaults()), session.Limit{}, func(session.Session) bool { return true })
	refused("Create", err)
	_, v2 := settings040()
	refused("PutSettings", st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 3, At: now, Actor: "a", Old: v2, New: v2}))
	_, err = st.PutStream(ctx, stream.Stream{Transmitter: tx040, StreamID: "stream-1b"}, "stream-1")
	refused("PutStream", err)
	refused("RecordVerification", st.RecordVerification(ctx, tx040, "state-1", now))
	_, err = st.RecordJTI(ctx, tx040, "set-jti-1", now.Add(time.Hour))
	refused("RecordJTI", err)
	refused("ForgetJTI", st.ForgetJTI(ctx, idp040, "logout-jti-1"))
	refused("PutDirectoryCursor", st.PutDirectoryCursor(ctx, graph040, "token-2"))
	refused("RecordUsername", st.RecordUsername(ctx, cognito040, "c0ffee-0000-sub", "alice@example.com"))
	_, err = st.CountRun(ctx, run040, 1, 0, now.Add(time.Hour))
	refused("CountRun", err)
	refused("TripRun", st.TripRun(ctx, tripped040))

	after := scanRaw(t, c.db, c.table)
	for k := range marked {
		if encodeItem(after[k]) != encodeItem(before[k]) {
			t.Errorf("item %s of a newer format changed:\n%s\nwas\n%s", kindOf(before[k]), encodeItem(after[k]), encodeItem(before[k]))
		}
	}
}

// Every write of the store leaves its item at the format this release
// writes, whatever the call: the contract suite runs on a client that
// reads each item back after each write the store makes and checks fv.
type formatChecked struct {
	*dynamodb.Client
	t     testing.TB
	table string
}

func (f formatChecked) check(ctx context.Context, op string, k item) {
	got, err := f.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		f.t.Errorf("%s: read back: %v", op, err)
		return
	}
	if v, ok := got.Item["fv"].(*types.AttributeValueMemberN); !ok || v.Value != fmt.Sprint(dynamostore.Format) {
		f.t.Errorf("%s wrote item %s without format %d:\n%s", op, kindOf(got.Item), dynamostore.Format, encodeItem(got.Item))
	}
}

func keyOf(it item) item { return item{"pk": it["pk"], "sk": it["sk"]} }

func (f formatChecked) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := f.Client.PutItem(ctx, in, o...)
	if err == nil {
		f.check(ctx, "PutItem", keyOf(in.Item))
	}
	return out, err
}

func (f formatChecked) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := f.Client.UpdateItem(ctx, in, o...)
	if err == nil {
		f.check(ctx, "UpdateItem", in.Key)
	}
	return out, err
}

func (f formatChecked) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := f.Client.TransactWriteItems(ctx, in, o...)
	if err == nil {
		for _, w := range in.TransactItems {
			switch {
			case w.Put != nil:
				f.check(ctx, "TransactWriteItems' Put", keyOf(w.Put.Item))
			case w.Update != nil:
				f.check(ctx, "TransactWriteItems' Update", w.Update.Key)
			default:
				f.t.Errorf("TransactWriteItems with a write the check does not know: %+v", w)
			}
		}
	}
	return out, err
}

type item = map[string]types.AttributeValue

func attr(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func itemKey(it item) string { return attr(it, "pk") + "\x00" + attr(it, "sk") }

// kindOf names an item in a failure: its partition's prefix and its sort
// key.
func kindOf(it item) string {
	pk := attr(it, "pk")
	if i := len(pk); i > 10 {
		pk = pk[:10] + "…"
	}
	return pk + " " + attr(it, "sk")
}

// loadItems reads items in DynamoDB JSON, as a Scan returns them:
// {"Items": [{"pk": {"S": "…"}, …}, …]}.
func loadItems(t testing.TB, path string) []item {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Items []map[string]json.RawMessage }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]item, 0, len(doc.Items))
	for i, m := range doc.Items {
		it := item{}
		for name, v := range m {
			av, err := decodeValue(v)
			if err != nil {
				t.Fatalf("%s: item %d, attribute %s: %v", path, i, name, err)
			}
			it[name] = av
		}
		out = append(out, it)
	}
	return out
}

// decodeValue reads one attribute value in DynamoDB JSON.
func decodeValue(raw json.RawMessage) (types.AttributeValue, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(raw, &v); err != nil || len(v) != 1 {
		return nil, fmt.Errorf("not an attribute value: %s", raw)
	}
	for typ, x := range v {
		switch typ {
		case "S", "N":
			var s string
			if err := json.Unmarshal(x, &s); err != nil {
				return nil, err
			}
			if typ == "S" {
				return &types.AttributeValueMemberS{Value: s}, nil
			}
			return &types.AttributeValueMemberN{Value: s}, nil
		case "BOOL":
			var b bool
			err := json.Unmarshal(x, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "B":
			var s string
			if err := json.Unmarshal(x, &s); err != nil {
				return nil, err
			}
			b, err := base64.StdEncoding.DecodeString(s)
			return &types.AttributeValueMemberB{Value: b}, err
		case "SS", "NS":
			var l []string
			if err := json.Unmarshal(x, &l); err != nil {
				return nil, err
			}
			if typ == "SS" {
				return &types.AttributeValueMemberSS{Value: l}, nil
			}
			return &types.AttributeValueMemberNS{Value: l}, nil
		case "M":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(x, &m); err != nil {
				return nil, err
			}
			out := map[string]types.AttributeValue{}
			for k, e := range m {
				av, err := decodeValue(e)
				if err != nil {
					return nil, err
				}
				out[k] = av
			}
			return &types.AttributeValueMemberM{Value: out}, nil
		case "L":
			var l []json.RawMessage
			if err := json.Unmarshal(x, &l); err != nil {
				return nil, err
			}
			out := make([]types.AttributeValue, 0, len(l))
			for _, e := range l {
				av, err := decodeValue(e)
				if err != nil {
					return nil, err
				}
				out = append(out, av)
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		}
		return nil, fmt.Errorf("attribute type %q", typ)
	}
	panic("unreachable")
}

// encodeValue writes one attribute value in DynamoDB JSON (map keys
// sorted, so equal values encode alike).
func encodeValue(v types.AttributeValue) string {
	var enc func(types.AttributeValue) any
	enc = func(v types.AttributeValue) any {
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
			return map[string]any{"B": v.Value}
		case *types.AttributeValueMemberSS:
			return map[string]any{"SS": v.Value}
		case *types.AttributeValueMemberNS:
			return map[string]any{"NS": v.Value}
		case *types.AttributeValueMemberM:
			m := map[string]any{}
			for k, x := range v.Value {
				m[k] = enc(x)
			}
			return map[string]any{"M": m}
		case *types.AttributeValueMemberL:
			l := []any{}
			for _, x := range v.Value {
				l = append(l, enc(x))
			}
			return map[string]any{"L": l}
		}
		return fmt.Sprintf("%T", v)
	}
	b, _ := json.Marshal(enc(v))
	return string(b)
}

func encodeItem(it item) string {
	if it == nil {
		return "(none)"
	}
	return encodeValue(&types.AttributeValueMemberM{Value: it})
}

// putRaw writes items into the table as they are, with the client, not
// the store.
func putRaw(t testing.TB, db *dynamodb.Client, table string, items []item) {
	t.Helper()
	for _, it := range items {
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
}

// scanRaw returns the table's items by pk and sk.
func scanRaw(t testing.TB, db *dynamodb.Client, table string) map[string]item {
	t.Helper()
	out := map[string]item{}
	var start item
	for {
		page, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table, ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out[itemKey(it)] = it
		}
		if start = page.LastEvaluatedKey; len(start) == 0 {
			return out
		}
	}
}

package auditor

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

var t0 = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

func TestAudit(t *testing.T) {
	ctx := context.Background()
	ck := devidp.NewClock(t0)
	st := memstore.New(ck.Now)
	key := func(u string) session.UserKey { return session.UserKey{Issuer: "https://idp.example/", Subject: u} }
	v1 := policy.Defaults()
	v1.SessionExpiration.Enabled, v1.SessionExpiration.MaxSessionMinutes = true, 480
	v2 := v1
	v2.SessionExpiration.MaxSessionMinutes = 60
	v2.InactivityTimeout.Enabled, v2.InactivityTimeout.Minutes = true, 30
	create := func(user string, at time.Time, version int, s policy.Settings) session.Session {
		id, _ := session.NewID()
		sess := session.Session{Hash: id.Hash(), Environment: "prod", User: key(user), CreatedAt: at, SettingsVersion: version, Settings: s}
		if _, err := st.Create(ctx, sess, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
		return sess
	}
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 1, At: t0, Actor: "root", Old: policy.Defaults(), New: v1}); err != nil {
		t.Fatal(err)
	}
	create("alice", t0, 1, v1)                             // older settings: the current ones would have ended it
	revoked := create("alice", t0.Add(time.Minute), 1, v1) // revoked by an admin
	if err := st.PutSettings(ctx, policy.SettingsChange{Environment: "prod", Version: 2, At: t0.Add(time.Hour), Actor: "root", Old: v1, New: v2}); err != nil {
		t.Fatal(err)
	}
	ck.Add(2 * time.Hour)
	create("bob", ck.Now().Add(-10*time.Minute), 2, v2) // current, active, not idle
	if _, _, err := st.Revoke(ctx, revoked.Hash, t0.Add(90*time.Minute), "admin"); err != nil {
		t.Fatal(err)
	}
	create("carol", t0, 2, v2)                                                                              // ended by its own policy: not active
	if err := st.RecordCheck(ctx, "prod", key("carol"), session.Check{NextCheckAt: ck.Now()}); err != nil { // one failed check
		t.Fatal(err)
	}

	var logs bytes.Buffer
	a := New(Config{Store: st, Environments: []string{"prod"}, Now: ck.Now, Log: obs.NewLogger(&logs)})
	reps, err := a.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"active sessions", r.ActiveSessions, 2},
		{"older settings", r.OlderSettingsSessions, 1},
		{"exceeding current", r.ExceedingCurrent, 1},
		{"max exceed minutes", r.MaxExceedMinutes, 90.0}, // idle end at +30 min, two hours after sign-in
		{"idle sessions", r.IdleSessions, 1},
		{"revocations", r.Revocations["admin"], 1},
		{"users", r.Users, 3},
		{"users failing checks", r.UsersCheckFailing, 1},
		{"directory error rate", r.DirectoryErrRate, 1.0 / 3},
		{"settings changes", len(r.SettingsChanges), 2},
		{"settings version", r.SettingsVersion, 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
	stored, _, _ := st.Reports(ctx, "prod", session.Page{})
	var back Report
	if len(stored) != 1 || json.Unmarshal(stored[0].Body, &back) != nil || back.ActiveSessions != 2 {
		t.Fatalf("stored reports = %d; want the report, readable", len(stored))
	}
	if !strings.Contains(logs.String(), `"activeSessions":2`) || !strings.Contains(logs.String(), `"CloudWatchMetrics"`) {
		t.Errorf("no audit line with metrics in the logs:\n%s", logs.String())
	}
	// The next report counts from the last one: nothing new since.
	ck.Add(24 * time.Hour)
	next, err := a.Audit(ctx, "prod")
	if err != nil || !next.From.Equal(r.At) || len(next.Revocations) != 0 || len(next.SettingsChanges) != 0 {
		t.Errorf("next report = from %v, %v revocations, %d changes, %v; want from the last report, none", next.From, next.Revocations, len(next.SettingsChanges), err)
	}
}

// The schedule's event file starts a run through the Lambda runtime's
// handler path, as functions/auditor wires it.
func TestScheduleEvent(t *testing.T) {
	a := New(Config{Store: memstore.New(nil), Environments: []string{"prod"}})
	ev, err := events.Load("auditor/schedule.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(func(ctx context.Context) ([]Report, error) { return a.Run(ctx) }).Invoke(context.Background(), ev)
	if err != nil || !strings.Contains(string(out), `"environment":"prod"`) {
		t.Errorf("scheduled audit = %s, %v", out, err)
	}
}

package cognitoevents

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

const (
	pool = "eu-west-1_Example"
	iss  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
	sub  = "3c5e2f0a-9d1b-4e6f-8a7c-1b2d3e4f5a6b" // mary, in the sample events
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// setup holds two sessions of mary (signed in as "mary") in two
// environments and one of another user, and a receiver for the pool.
func setup(t *testing.T) (*memstore.Store, lambda.Handler, *bytes.Buffer) {
	t.Helper()
	ctx := context.Background()
	st := memstore.New(func() time.Time { return t0 })
	if err := st.RecordUsername(ctx, iss, sub, "mary"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ env, user string }{{"prod", sub}, {"test", sub}, {"prod", "someone-else"}} {
		id, _ := session.NewID()
		s := session.Session{Hash: id.Hash(), Environment: c.env, User: session.UserKey{Issuer: iss, Subject: c.user},
			CreatedAt: t0.Add(-time.Hour), AuthTime: t0.Add(-time.Hour), Settings: policy.Defaults()}
		if _, err := st.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	logs := &bytes.Buffer{}
	r := New(Config{Store: st, Environments: []string{"prod", "test"}, UserPoolID: pool, Issuer: iss, Log: obs.NewLogger(logs), Now: func() time.Time { return t0 }})
	return st, lambda.NewHandler(r.Handle), logs
}

func live(t *testing.T, st *memstore.Store, env, user string) int {
	t.Helper()
	list, _, err := st.UserSessions(context.Background(), env, session.UserKey{Issuer: iss, Subject: user}, session.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// Every sample event, through the Lambda runtime's own decode path: the
// user's sessions end in every environment (and only theirs); disable and
// delete also mark the account disabled; another pool changes nothing.
func TestEachEventType(t *testing.T) {
	tests := []struct {
		file              string
		revoked           int
		disabled, applied bool
		cause             session.Cause
	}{
		{"admin-disable-user.json", 2, true, true, session.CauseCognitoDisabled},
		{"admin-delete-user.json", 2, true, true, session.CauseCognitoDeleted},
		{"admin-user-global-sign-out.json", 2, false, true, session.CauseCognitoSignedOut},
		{"global-sign-out.json", 2, false, true, session.CauseCognitoSignedOut},
		{"revoke-token.json", 2, false, true, session.CauseCognitoTokenRevoked},
		{"admin-reset-user-password.json", 2, false, true, session.CauseCognitoPasswordReset},
		{"another-pool.json", 0, false, false, ""},
	}
	names, _ := events.Names("cognitoevents")
	if len(names) != len(tests) {
		t.Fatalf("events/cognitoevents has %d files; this test covers %d", len(names), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			st, h, logs := setup(t)
			ev, err := events.Load("cognitoevents/"+tc.file, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := h.Invoke(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			var out Outcome
			json.Unmarshal(raw, &out)
			if out.Applied != tc.applied || out.Revoked != tc.revoked || out.Disabled != tc.disabled {
				t.Fatalf("outcome = %+v; want applied %v, %d revoked, disabled %v", out, tc.applied, tc.revoked, tc.disabled)
			}
			want := 0
			if !tc.applied {
				want = 1
				if !strings.Contains(logs.String(), `"decision":"ignored"`) {
					t.Errorf("an ignored event is not logged: %s", logs)
				}
			}
			for _, env := range []string{"prod", "test"} {
				if got := live(t, st, env, sub); got != want {
					t.Errorf("mary's live sessions in %s = %d; want %d", env, got, want)
				}
				u, _ := st.User(context.Background(), env, session.UserKey{Issuer: iss, Subject: sub})
				if u.Disabled != tc.disabled {
					t.Errorf("mary disabled in %s = %v; want %v", env, u.Disabled, tc.disabled)
				}
			}
			if got := live(t, st, "prod", "someone-else"); got != 1 {
				t.Errorf("another user's sessions = %d; want 1 (untouched)", got)
			}
			if tc.applied {
				list, _, _ := st.UserSessions(context.Background(), "prod", session.UserKey{Issuer: iss, Subject: sub}, session.Page{Limit: 10, Revoked: true})
				if len(list) != 1 || list[0].RevokeReason != tc.cause {
					t.Errorf("revoked session = %+v; want cause %s", list, tc.cause)
				}
			}
		})
	}
}

// Records that cannot be attributed, failed calls and other services'
// events change nothing.
func TestUnattributableEventsChangeNothing(t *testing.T) {
	base, _ := events.Load("cognitoevents/admin-disable-user.json", nil)
	for name, edit := range map[string]func(string) string{
		"unknown username": func(s string) string { return strings.Replace(s, `"username": "mary"`, `"username": "nobody"`, 1) },
		"hidden username, no sub": func(s string) string {
			return strings.Replace(s, `"username": "mary"`, `"username": "HIDDEN_FOR_SECURITY_REASONS"`, 1)
		},
		"the call failed": func(s string) string {
			return strings.Replace(s, `"eventName": "AdminDisableUser",`, `"eventName": "AdminDisableUser", "errorCode": "UserNotFoundException",`, 1)
		},
		"another event type": func(s string) string { return strings.Replace(s, `"AdminDisableUser"`, `"AdminGetUser"`, 1) },
		"another service": func(s string) string {
			return strings.Replace(s, `"source": "aws.cognito-idp"`, `"source": "aws.s3"`, 1)
		},
		"not a CloudTrail record": func(s string) string { return strings.Replace(s, `"detail": {`, `"detail": {"eventSource": 7, `, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			st, h, _ := setup(t)
			ev := edit(string(base))
			if ev == string(base) {
				t.Fatal("the edit changed nothing")
			}
			raw, err := h.Invoke(context.Background(), []byte(ev))
			if err != nil {
				t.Fatal(err)
			}
			var out Outcome
			json.Unmarshal(raw, &out)
			if out.Applied || out.Why == "" || live(t, st, "prod", sub) != 1 {
				t.Fatalf("outcome = %+v, mary's sessions %d; want ignored with a reason, 1 session", out, live(t, st, "prod", sub))
			}
		})
	}
}

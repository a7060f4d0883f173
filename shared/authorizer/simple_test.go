package authorizer

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/reason"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// The hand-written simple response is the events type's JSON: for allows
// with and without each time, strings that need escaping, and denies, it
// decodes to what encoding/json makes of
// events.APIGatewayV2CustomAuthorizerSimpleResponse with allowContext.
func TestSimpleResponseMatchesEventsType(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	base := Result{
		Reason:      reason.OK,
		Claims:      token.Claims{Subject: "alice", Issuer: "https://idp.example/", ClientID: "app"},
		Environment: "contoso-prod",
		Session:     session.Session{Hash: session.Hash{1, 2, 3, 4, 5, 6, 7, 8, 9}, StaySignedIn: true},
		Decision:    policy.Decision{ExpiresAt: at, WarnAt: at.Add(-20 * time.Minute), IdleExpiresAt: at.Add(-time.Hour)},
	}
	noTimes := base
	noTimes.Decision, noTimes.Session.StaySignedIn = policy.Decision{Reason: reason.OK}, false
	onlyIdle := base
	onlyIdle.Decision = policy.Decision{IdleExpiresAt: at}
	odd := base
	odd.Claims.Subject, odd.Claims.Issuer, odd.Claims.ClientID = "tid/oid \"q\" <b>&\\ \u2028 \x01 é", "https://x.example/?a=1&b=<2>", ""
	for name, tc := range map[string]struct {
		r     Result
		allow bool
	}{
		"allow":              {base, true},
		"allow, no times":    {noTimes, true},
		"allow, only idle":   {onlyIdle, true},
		"allow, odd strings": {odd, true},
		"deny":               {Result{Reason: reason.BindingUser}, false},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := map[string]any{"reason": string(tc.r.Reason)}
			if tc.allow {
				ctx = allowContext(tc.r)
			}
			want, err := json.Marshal(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: tc.allow, Context: ctx})
			if err != nil {
				t.Fatal(err)
			}
			got := appendSimple(nil, tc.r, tc.allow)
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("appendSimple = %s: not JSON: %v", got, err)
			}
			json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("appendSimple = %s\nwant the events type's %s", got, want)
			}
		})
	}
}

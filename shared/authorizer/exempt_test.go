package authorizer

import (
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/policy"
)

// An exempt client lends its exemption to no other client: a session
// signed in from the exempt app, used with another app's token of the
// same user, is held to the timeouts; with the exempt app's own token it
// is not (the refused request records no activity).
func TestExemptionFollowsThePresentedToken(t *testing.T) {
	f := newFixture(t, options{})
	s := policy.Defaults()
	s.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 10}
	s.ExemptClients = []string{"mobile-app"}
	sid := f.session(t, sessionSpec{settings: &s, client: "mobile-app"})
	f.clock.Add(time.Hour)
	web := f.token(t, devidp.Token{ClientID: devidp.DefaultClientID})
	if got, _ := f.decide(t, load(t, "authorizer/http-api-v2.json", web, sid.Reveal())); got != "401" {
		t.Errorf("another app's token on the exempt app's session an hour on = %s; want 401 (session_idle)", got)
	}
	if r := f.lastDecision(t)["reason"]; r != "session_idle" {
		t.Errorf("reason = %v; want session_idle", r)
	}
	mobile := f.token(t, devidp.Token{ClientID: "mobile-app"})
	if got, _ := f.decide(t, load(t, "authorizer/http-api-v2.json", mobile, sid.Reveal())); got != "allow" {
		t.Errorf("the exempt app's own token an hour on = %s; want allow", got)
	}
}

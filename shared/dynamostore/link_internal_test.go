package dynamostore

import (
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// TestIdPSessionLinkExpiry: the link from an IdP session to a session
// expires no earlier than the session can be allowed: never for a session
// with only an idle limit (activity moves its end), Retention after the
// absolute end otherwise; and it carries what the sign-in check reads.
func TestIdPSessionLinkExpiry(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	idle := policy.Defaults()
	idle.InactivityTimeout.Enabled, idle.InactivityTimeout.Minutes = true, 30
	capped := idle
	capped.SessionExpiration.Enabled, capped.SessionExpiration.MaxSessionMinutes = true, 120
	for _, c := range []struct {
		name string
		set  policy.Settings
		want time.Time
	}{
		{"idle only", idle, time.Time{}},
		{"no limits", policy.Defaults(), time.Time{}},
		{"absolute", capped, t0.Add(2*time.Hour + session.Retention)},
	} {
		s := session.Session{Hash: session.Hash{1}, Environment: "prod", User: session.UserKey{Issuer: "https://idp.example/", Subject: "alice"},
			IdPSession: "op-1", CreatedAt: t0, Settings: c.set}
		it := idpSessionItem(s)
		r := readItem(it)
		if got := r.t("exp"); !got.Equal(c.want) {
			t.Errorf("%s: link exp = %v; want %v", c.name, got, c.want)
		}
		if _, has := it["ttl"]; has != !c.want.IsZero() {
			t.Errorf("%s: link has ttl = %v; want %v", c.name, has, !c.want.IsZero())
		}
		if r.s("env") != "prod" || r.s("sub") != "alice" || !r.t("cr").Equal(t0) || r.err != nil {
			t.Errorf("%s: link = %v; want env, sub and cr of the session", c.name, it)
		}
	}
}

package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
)

func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not FieldErrors", err)
	}
	var out []string
	for _, e := range fe {
		out = append(out, e.Field)
	}
	return out
}

func TestDefaultsAreValidAndHonorTheIdP(t *testing.T) {
	s := Defaults()
	if err := s.Validate(DefaultLimits()); err != nil {
		t.Fatalf("Defaults().Validate = %v; want nil", err)
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// A year later, with no policy checks configured, the session still lives.
	d := s.Evaluate(Session{CreatedAt: created}, created.Add(365*24*time.Hour), Enforcement{})
	if d.Reason != reason.OK || !d.ExpiresAt.IsZero() || !d.IdleExpiresAt.IsZero() || !d.WarnAt.IsZero() {
		t.Fatalf("default Evaluate a year on = %+v; want allow with no expiry", d)
	}
}

func TestValidateBoundaries(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Settings)
		bad  []string
	}{
		{"max 59", func(s *Settings) { s.SessionExpiration.MaxSessionMinutes = 59 }, []string{"sessionExpiration.maxSessionMinutes"}},
		{"max 60", func(s *Settings) { s.SessionExpiration.MaxSessionMinutes = 60 }, nil},
		{"max 1440", func(s *Settings) { s.SessionExpiration.MaxSessionMinutes = 1440 }, nil},
		{"max 1441", func(s *Settings) { s.SessionExpiration.MaxSessionMinutes = 1441 }, []string{"sessionExpiration.maxSessionMinutes"}},
		{"warning 0", func(s *Settings) { s.SessionExpiration.WarningMinutes = 0 }, []string{"sessionExpiration.warningMinutes"}},
		{"warning max-1", func(s *Settings) {
			s.SessionExpiration.MaxSessionMinutes = 60
			s.SessionExpiration.WarningMinutes = 59
		}, nil},
		{"warning equal to max", func(s *Settings) {
			s.SessionExpiration.MaxSessionMinutes = 60
			s.SessionExpiration.WarningMinutes = 60
		}, []string{"sessionExpiration.warningMinutes"}},
		{"idle 4", func(s *Settings) { s.InactivityTimeout.Minutes = 4 }, []string{"inactivityTimeout.minutes"}},
		{"idle 5", func(s *Settings) { s.InactivityTimeout.Minutes = 5 }, nil},
		{"idle 1440 without expiration", func(s *Settings) { s.InactivityTimeout.Minutes = 1440 }, nil},
		{"idle 1441", func(s *Settings) { s.InactivityTimeout.Minutes = 1441 }, []string{"inactivityTimeout.minutes"}},
		{"idle equal to max with expiration", func(s *Settings) {
			s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 120, WarningMinutes: 20}
			s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 120}
		}, []string{"inactivityTimeout.minutes"}},
		{"idle max-1 with expiration", func(s *Settings) {
			s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 120, WarningMinutes: 20}
			s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 119}
		}, nil},
		{"check interval 4 and 1441", func(s *Settings) { s.PolicyCheckIntervalMinutes = 4; s.OutageGraceMinutes = 43201 },
			[]string{"policyCheckIntervalMinutes", "outageGraceMinutes"}},
		{"grace 0", func(s *Settings) { s.OutageGraceMinutes = 0 }, nil},
		{"sessions 100 / 101", func(s *Settings) { s.MaxSessionsPerUser = 101 }, []string{"maxSessionsPerUser"}},
		{"on limit", func(s *Settings) { s.OnSessionLimit = "kick" }, []string{"onSessionLimit"}},
		{"exempt duplicates and blanks", func(s *Settings) { s.ExemptClients = []string{"a", "", "a"} },
			[]string{"exemptClients[1]", "exemptClients[2]"}},
		{"stay signed in limits", func(s *Settings) {
			s.StaySignedIn = StaySignedIn{Allowed: true, MaxSessionMinutes: 100, InactivityMinutes: 100, RenewAfterMinutes: 100}
		}, []string{"staySignedIn.inactivityMinutes", "staySignedIn.renewAfterMinutes"}},
		{"every bad field reported", func(s *Settings) {
			s.SessionExpiration.MaxSessionMinutes = 10
			s.InactivityTimeout.Minutes = 1
			s.PolicyCheckIntervalMinutes = 0
		}, []string{"sessionExpiration.maxSessionMinutes", "inactivityTimeout.minutes", "policyCheckIntervalMinutes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			tt.edit(&s)
			got := fieldsOf(t, s.Validate(DefaultLimits()))
			if strings.Join(got, ",") != strings.Join(tt.bad, ",") {
				t.Fatalf("Validate bad fields = %v; want %v", got, tt.bad)
			}
		})
	}
}

func TestWidenedLimits(t *testing.T) {
	s := Defaults()
	s.SessionExpiration.MaxSessionMinutes = 2880
	l := DefaultLimits()
	if s.Validate(l) == nil {
		t.Fatal("2880 minutes accepted under default limits")
	}
	l.MaxSessionMinutes.Max = 10080
	if err := s.Validate(l); err != nil {
		t.Fatalf("2880 minutes under widened limits: %v", err)
	}
}

func TestDecode(t *testing.T) {
	s, err := Decode([]byte(`{"sessionExpiration":{"enabled":true,"maxSessionMinutes":480},"exemptClients":["mobile"]}`), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !s.SessionExpiration.Enabled || s.SessionExpiration.MaxSessionMinutes != 480 || s.SessionExpiration.WarningMinutes != 20 || !s.IsExempt("mobile") {
		t.Fatalf("Decode = %+v", s)
	}
	_, err = Decode([]byte(`{"sessionExpiration":{"enabled":"yes","maxSessionMinutes":1441,"extra":1},"bogus":true,"maxSessionsPerUser":1.5}`), DefaultLimits())
	got := strings.Join(fieldsOf(t, err), ",")
	want := "bogus,maxSessionsPerUser,sessionExpiration.enabled,sessionExpiration.extra,sessionExpiration.maxSessionMinutes"
	if got != want {
		t.Fatalf("Decode bad fields = %s; want %s", got, want)
	}
	for _, body := range []string{``, `null`, `[]`, `{"a":1} x`, `{`, `{"staySignedIn":null}`,
		`{"maxSessionsPerUser":1,"maxSessionsPerUser":3}`, `{"sessionExpiration":{"enabled":false,"enabled":true}}`} {
		if _, err := Decode([]byte(body), DefaultLimits()); fieldsOf(t, err) == nil {
			t.Errorf("Decode(%q) accepted", body)
		}
	}
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestEvaluateExpiryBoundaries(t *testing.T) {
	s := Defaults()
	s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 480, WarningMinutes: 20}
	s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 60}
	sess := Session{CreatedAt: t0, LastActivityAt: t0.Add(7 * time.Hour)}

	d := s.Evaluate(sess, t0.Add(8*time.Hour-time.Second), Enforcement{})
	if d.Reason != reason.OK {
		t.Fatalf("1s before absolute end: %s; want ok", d.Reason)
	}
	if want := t0.Add(8 * time.Hour); !d.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v; want %v", d.ExpiresAt, want)
	}
	if want := t0.Add(8*time.Hour - 20*time.Minute); !d.WarnAt.Equal(want) {
		t.Errorf("WarnAt = %v; want %v", d.WarnAt, want)
	}
	if d := s.Evaluate(sess, t0.Add(8*time.Hour), Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("at absolute end: %s; want session_expired", d.Reason)
	}
	if d := s.Evaluate(sess, t0.Add(8*time.Hour+time.Second), Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("1s after absolute end: %s; want session_expired", d.Reason)
	}

	idle := Session{CreatedAt: t0, LastActivityAt: t0.Add(time.Hour)}
	if d := s.Evaluate(idle, t0.Add(2*time.Hour-time.Second), Enforcement{}); d.Reason != reason.OK || !d.IdleExpiresAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("1s before idle end: %+v; want ok, idle end %v", d, t0.Add(2*time.Hour))
	}
	if d := s.Evaluate(idle, t0.Add(2*time.Hour+time.Second), Enforcement{}); d.Reason != reason.SessionIdle {
		t.Fatalf("1s after idle end: %s; want session_idle", d.Reason)
	}
	// No activity yet: idle runs from sign-in.
	if d := s.Evaluate(Session{CreatedAt: t0}, t0.Add(time.Hour+time.Second), Enforcement{}); d.Reason != reason.SessionIdle {
		t.Fatalf("idle from sign-in: %s; want session_idle", d.Reason)
	}
	// A cached allow must not outlive the session: judged at now+horizon.
	if d := s.Evaluate(sess, t0.Add(8*time.Hour-30*time.Second), Enforcement{Horizon: 30 * time.Second}); d.Reason != reason.SessionExpired {
		t.Fatalf("30s before end with a 30s cache: %s; want session_expired", d.Reason)
	}
	if d := s.Evaluate(sess, t0.Add(8*time.Hour-31*time.Second), Enforcement{Horizon: 30 * time.Second}); d.Reason != reason.OK {
		t.Fatalf("31s before end with a 30s cache: %s; want ok", d.Reason)
	}
}

func TestEvaluateExemptClients(t *testing.T) {
	s := Defaults()
	s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 60, WarningMinutes: 5}
	s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 10}
	s.ExemptClients = []string{"mobile-app"}
	late := t0.Add(48 * time.Hour)
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "mobile-app"}.AsSignedIn(), late, Enforcement{}); d.Reason != reason.OK || !d.ExpiresAt.IsZero() {
		t.Fatalf("exempt client two days on: %+v; want ok without expiry", d)
	}
	// Judged neither for a request nor as signed in: never exempt.
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "mobile-app"}, late, Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("exempt client, judged without a presenting client: %s; want session_expired", d.Reason)
	}
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "web"}.AsSignedIn(), late, Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("other client: %s; want session_expired", d.Reason)
	}
	// Judged for a request, both the client that signed in and the one
	// presenting a token now must be exempt.
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "mobile-app"}.Presenting("web"), late, Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("exempt session, another client's token: %s; want session_expired", d.Reason)
	}
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "web"}.Presenting("mobile-app"), late, Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("another client's session, the exempt client's token: %s; want session_expired", d.Reason)
	}
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "mobile-app"}.Presenting("mobile-app"), late, Enforcement{}); d.Reason != reason.OK {
		t.Fatalf("exempt session, its own client's token: %s; want ok", d.Reason)
	}
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "mobile-app"}.Presenting(""), late, Enforcement{}); d.Reason != reason.SessionExpired {
		t.Fatalf("exempt session, a token naming no client: %s; want session_expired", d.Reason)
	}
	// Revocation still applies to exempt clients.
	if d := s.Evaluate(Session{CreatedAt: t0, ClientID: "mobile-app", RevokedAt: t0.Add(time.Hour)}.AsSignedIn(), late, Enforcement{}); d.Reason != reason.SessionRevoked {
		t.Fatalf("revoked exempt session: %s; want session_revoked", d.Reason)
	}
}

// A session created at the very instant of the user's revocation point is
// revoked, as the stores' RevokeUser ends it: ties fail closed.
func TestRevocationPointTieFailsClosed(t *testing.T) {
	s := Defaults()
	if d := s.Evaluate(Session{CreatedAt: t0, UserSessionsValidFrom: t0}, t0.Add(time.Minute), Enforcement{}); d.Reason != reason.SessionRevoked {
		t.Errorf("session created at the revocation point = %s; want session_revoked", d.Reason)
	}
	if d := s.Evaluate(Session{CreatedAt: t0.Add(time.Nanosecond), UserSessionsValidFrom: t0}, t0.Add(time.Minute), Enforcement{}); d.Reason != reason.OK {
		t.Errorf("session created just after the revocation point = %s; want ok", d.Reason)
	}
}

func TestEvaluateOrderAndUserState(t *testing.T) {
	s := Defaults()
	s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 60, WarningMinutes: 5}
	now := t0.Add(10 * time.Minute)
	tests := []struct {
		name string
		sess Session
		at   time.Time
		want reason.Code
	}{
		{"expired beats revoked", Session{CreatedAt: t0, RevokedAt: t0.Add(time.Minute)}, t0.Add(2 * time.Hour), reason.SessionExpired},
		{"revoked", Session{CreatedAt: t0, RevokedAt: t0.Add(time.Minute)}, now, reason.SessionRevoked},
		{"revoked later", Session{CreatedAt: t0, RevokedAt: now.Add(time.Second)}, now, reason.OK},
		{"sessions revoked at IdP after sign-in", Session{CreatedAt: t0, UserSessionsValidFrom: t0.Add(time.Second)}, now, reason.SessionRevoked},
		{"sessions revoked at IdP before sign-in", Session{CreatedAt: t0, UserSessionsValidFrom: t0.Add(-time.Second)}, now, reason.OK},
		{"disabled", Session{CreatedAt: t0, UserDisabled: true}, now, reason.UserDisabled},
	}
	for _, tt := range tests {
		if got := s.Evaluate(tt.sess, tt.at, Enforcement{}).Reason; got != tt.want {
			t.Errorf("%s: Evaluate = %s; want %s", tt.name, got, tt.want)
		}
	}
}

func TestEvaluatePolicyCheckFreshness(t *testing.T) {
	s := Defaults() // 60 min interval, 1440 min grace
	e := Enforcement{PolicyChecks: true, CheckSlack: 15 * time.Minute}
	checked := t0.Add(2 * time.Hour)
	sess := Session{CreatedAt: t0, LastCheckAt: checked}
	if got := s.Evaluate(sess, checked.Add(75*time.Minute-time.Second), e).Reason; got != reason.OK {
		t.Fatalf("1s before interval+slack: %s", got)
	}
	if got := s.Evaluate(sess, checked.Add(75*time.Minute), e).Reason; got != reason.PolicyCheckStale {
		t.Fatalf("at interval+slack: %s; want policy_check_stale", got)
	}
	if got := s.Evaluate(sess, checked.Add(75*time.Minute), Enforcement{}).Reason; got != reason.OK {
		t.Fatalf("checks off: %s; want ok", got)
	}
	ssi := sess
	ssi.StaySignedIn = true
	if got := s.Evaluate(ssi, checked.Add(75*time.Minute+1440*time.Minute-time.Second), e).Reason; got != reason.OK {
		t.Fatalf("stay signed in within grace: %s", got)
	}
	if got := s.Evaluate(ssi, checked.Add(75*time.Minute+1440*time.Minute), e).Reason; got != reason.PolicyCheckStale {
		t.Fatalf("stay signed in past grace: %s", got)
	}
	// Sign-in is the first check.
	if got := s.Evaluate(Session{CreatedAt: t0}, t0.Add(74*time.Minute), e).Reason; got != reason.OK {
		t.Fatalf("fresh session never checked: %s", got)
	}
}

func TestStaySignedInLimits(t *testing.T) {
	s := Defaults()
	s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 30}
	s.StaySignedIn = StaySignedIn{Allowed: true, InactivityMinutes: 7200, MaxSessionMinutes: 43200}
	if err := s.Validate(DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(2 * time.Hour)
	if got := s.Evaluate(Session{CreatedAt: t0}, at, Enforcement{}).Reason; got != reason.SessionIdle {
		t.Fatalf("browser session idle 2h: %s; want session_idle", got)
	}
	d := s.Evaluate(Session{CreatedAt: t0, StaySignedIn: true}, at, Enforcement{})
	if d.Reason != reason.OK || !d.ExpiresAt.Equal(t0.Add(30*24*time.Hour)) || !d.IdleExpiresAt.Equal(t0.Add(5*24*time.Hour)) {
		t.Fatalf("stay-signed-in session: %+v", d)
	}
}

func TestSettingsTakeEffectAtNextSignIn(t *testing.T) {
	// A session is judged by the snapshot it was created under: a stricter
	// version does not touch it, a session created under the new one gets it.
	old := Defaults()
	stricter := Defaults()
	stricter.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 60, WarningMinutes: 10}
	running := Session{CreatedAt: t0}
	at := t0.Add(3 * time.Hour)
	if got := old.Evaluate(running, at, Enforcement{}).Reason; got != reason.OK {
		t.Fatalf("running session under its snapshot: %s", got)
	}
	if got := stricter.Evaluate(Session{CreatedAt: t0.Add(time.Hour)}, at, Enforcement{}).Reason; got != reason.SessionExpired {
		t.Fatalf("new session under new settings: %s", got)
	}
}

func TestActivityInterval(t *testing.T) {
	s := Defaults()
	if got := s.ActivityInterval(false); got != time.Minute {
		t.Errorf("no idle: %v; want 1m", got)
	}
	s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 5}
	if got := s.ActivityInterval(false); got != 30*time.Second {
		t.Errorf("idle 5m: %v; want 30s", got)
	}
	s.StaySignedIn = StaySignedIn{Allowed: true, InactivityMinutes: 7200, RenewAfterMinutes: 1440}
	if got := s.ActivityInterval(true); got != 24*time.Hour {
		t.Errorf("renew after a day: %v; want 24h", got)
	}
}

func TestBudget(t *testing.T) {
	s := Defaults()
	s.PolicyCheckIntervalMinutes = 60
	s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 5}
	b := s.Budget(Enforcement{PolicyChecks: true, CheckSlack: 15 * time.Minute, Horizon: 30 * time.Second})
	if b.Revocation != 30*time.Second || b.PolicyCheck == nil || *b.PolicyCheck != 75*time.Minute+30*time.Second || b.IdleEarly != 30*time.Second {
		t.Fatalf("Budget = %+v (check %v); want 30s, 75m30s, idle 30s early", b, b.PolicyCheck)
	}
	if b := Defaults().Budget(Enforcement{Horizon: 0}); b.PolicyCheck != nil || b.IdleEarly != 0 || b.Revocation != 0 {
		t.Fatalf("Budget without checks, idle or cache = %+v; want no check budget, 0s", b)
	}
}

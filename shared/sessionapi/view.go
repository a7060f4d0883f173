package sessionapi

import (
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// View is a session as the API shows it: never the raw id except once, in
// the sign-in response.
type View struct {
	SessionID       string     `json:"sessionId,omitempty"`
	SessionHash     string     `json:"sessionHashPrefix"`
	Environment     string     `json:"environment"`
	UserID          string     `json:"userId"`
	ClientID        string     `json:"clientId,omitempty"`
	StaySignedIn    bool       `json:"staySignedIn"`
	SettingsVersion int        `json:"settingsVersion"`
	CreatedAt       time.Time  `json:"createdAt"`
	ExpiresAt       *time.Time `json:"expiresAt,omitempty"`
	WarnAt          *time.Time `json:"warnAt,omitempty"`
	IdleExpiresAt   *time.Time `json:"idleExpiresAt,omitempty"`
	// IdleWarnAt is when an app should warn of the idle end: 5 minutes
	// before it, or half the idle timeout before it when that is shorter,
	// so a short timeout does not warn from its first second.
	IdleWarnAt    *time.Time `json:"idleWarnAt,omitempty"`
	EndedSessions int        `json:"endedSessions,omitempty"`
	// Now is the server's time of the answer: a client counts down to the
	// times above from it, not from its own clock.
	Now time.Time `json:"now"`
}

// viewOf shows s with the limits of decision d.
func viewOf(s session.Session, d policy.Decision) View {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := t.UTC()
		return &u
	}
	v := View{
		SessionHash: s.Hash.Prefix(), Environment: s.Environment, UserID: s.User.Subject, ClientID: s.ClientID,
		StaySignedIn: s.StaySignedIn, SettingsVersion: s.SettingsVersion, CreatedAt: s.CreatedAt.UTC(),
		ExpiresAt: opt(d.ExpiresAt), WarnAt: opt(d.WarnAt), IdleExpiresAt: opt(d.IdleExpiresAt),
	}
	if !d.IdleExpiresAt.IsZero() {
		v.IdleWarnAt = opt(d.IdleExpiresAt.Add(-min(5*time.Minute, s.Settings.IdleTimeout(s.StaySignedIn)/2)))
	}
	return v
}

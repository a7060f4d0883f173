// Package policy holds an environment's session settings (docs/settings.md),
// their validation, and the pure decision that judges a session's age
// against them. It knows nothing of AWS, tokens or storage.
package policy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Settings is an environment's session policy. The zero value is not valid;
// start from Defaults.
type Settings struct {
	SessionExpiration          SessionExpiration `json:"sessionExpiration"`
	InactivityTimeout          InactivityTimeout `json:"inactivityTimeout"`
	StaySignedIn               StaySignedIn      `json:"staySignedIn"`
	PolicyCheckIntervalMinutes int               `json:"policyCheckIntervalMinutes"`
	OutageGraceMinutes         int               `json:"outageGraceMinutes"`
	ExemptClients              []string          `json:"exemptClients"`
	MaxSessionsPerUser         int               `json:"maxSessionsPerUser"`
	OnSessionLimit             OnLimit           `json:"onSessionLimit"`
	// StrictReauthentication, after a sign-out, lets a sign-in through only
	// with a token that proves a new authentication: an auth_time later
	// than the sign-out, or a sid that names another IdP session. A token
	// with neither (a refreshed one, at most IdPs) is refused.
	StrictReauthentication bool `json:"strictReauthentication"`
	// DPoP is whether requests must prove they hold the key their token
	// and session are bound to (shared/dpop, docs/settings.md): off,
	// allowed or required. "" (settings stored before it existed) is off.
	DPoP DPoPMode `json:"dpop"`
}

// DPoPMode is the dpop setting; shared/dpop says what each value asks of
// a request.
type DPoPMode string

// The values of the dpop setting.
const (
	DPoPOff      DPoPMode = "off"
	DPoPAllowed  DPoPMode = "allowed"
	DPoPRequired DPoPMode = "required"
)

// SessionExpiration is the absolute session lifetime.
type SessionExpiration struct {
	Enabled           bool `json:"enabled"`
	MaxSessionMinutes int  `json:"maxSessionMinutes"`
	WarningMinutes    int  `json:"warningMinutes"`
}

// InactivityTimeout is the idle timeout.
type InactivityTimeout struct {
	Enabled bool `json:"enabled"`
	Minutes int  `json:"minutes"`
}

// StaySignedIn governs sessions whose user chose "stay signed in" at sign-in.
// Such sessions get a persistent cookie and the outage grace; where a limit
// here is non-zero it replaces the ordinary one for them (like Keycloak's
// "remember me" limits), whether or not the ordinary one is enabled.
type StaySignedIn struct {
	// Allowed false makes every session a browser-session one, whatever the
	// app asks for (the browser-lifetime preset).
	Allowed           bool `json:"allowed"`
	InactivityMinutes int  `json:"inactivityMinutes"`
	MaxSessionMinutes int  `json:"maxSessionMinutes"`
	// RenewAfterMinutes, when non-zero, means activity restarts the idle
	// clock only once this long has passed since it last did (SharePoint:
	// a return after 24 hours starts the 5 days afresh).
	RenewAfterMinutes int `json:"renewAfterMinutes"`
}

// OnLimit is what sign-in does when a user holds maxSessionsPerUser sessions.
type OnLimit string

// The two session-limit behaviours.
const (
	DenyNew   OnLimit = "deny_new"
	EndOldest OnLimit = "end_oldest"
)

// Defaults returns the policy of an environment with no custom settings:
// honor the IdP — no absolute or idle cap, hourly policy checks.
func Defaults() Settings {
	return Settings{
		SessionExpiration:          SessionExpiration{Enabled: false, MaxSessionMinutes: 1440, WarningMinutes: 20},
		InactivityTimeout:          InactivityTimeout{Enabled: false, Minutes: 60},
		StaySignedIn:               StaySignedIn{Allowed: true},
		PolicyCheckIntervalMinutes: 60,
		OutageGraceMinutes:         1440,
		ExemptClients:              []string{},
		MaxSessionsPerUser:         0,
		OnSessionLimit:             EndOldest,
		DPoP:                       DPoPOff,
	}
}

// Range is an inclusive range of whole numbers.
type Range struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Limits are the ranges validation allows. An operator may widen them per
// deployment (SETTINGS_LIMITS); DefaultLimits are the ranges otherwise.
type Limits struct {
	MaxSessionMinutes             Range `json:"maxSessionMinutes"`
	InactivityMinutes             Range `json:"inactivityMinutes"`
	PolicyCheckIntervalMinutes    Range `json:"policyCheckIntervalMinutes"`
	OutageGraceMinutes            Range `json:"outageGraceMinutes"`
	MaxSessionsPerUser            Range `json:"maxSessionsPerUser"`
	StaySignedInMaxSessionMinutes Range `json:"staySignedInMaxSessionMinutes"`
	StaySignedInInactivityMinutes Range `json:"staySignedInInactivityMinutes"`
}

// DefaultLimits returns the default ranges (docs/settings.md). The
// stay-signed-in limits default to 30 days so that long-lived "remember
// me" sessions (SharePoint's 5 days) fit without widening.
func DefaultLimits() Limits {
	return Limits{
		MaxSessionMinutes:             Range{60, 1440},
		InactivityMinutes:             Range{5, 1440},
		PolicyCheckIntervalMinutes:    Range{5, 1440},
		OutageGraceMinutes:            Range{0, 43200},
		MaxSessionsPerUser:            Range{0, 100},
		StaySignedInMaxSessionMinutes: Range{60, 43200},
		StaySignedInInactivityMinutes: Range{5, 43200},
	}
}

// FieldError names one bad field by its JSON path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is every problem found in one settings document.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// Validate checks every field against l and returns FieldErrors listing all
// problems, or nil.
func (s Settings) Validate(l Limits) error {
	var errs FieldErrors
	bad := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }
	inRange := func(field string, v int, r Range) bool {
		if v < r.Min || v > r.Max {
			bad(field, "must be between "+strconv.Itoa(r.Min)+" and "+strconv.Itoa(r.Max)+", got "+strconv.Itoa(v))
			return false
		}
		return true
	}

	se := s.SessionExpiration
	maxOK := inRange("sessionExpiration.maxSessionMinutes", se.MaxSessionMinutes, l.MaxSessionMinutes)
	if maxOK {
		inRange("sessionExpiration.warningMinutes", se.WarningMinutes, Range{1, se.MaxSessionMinutes - 1})
	}
	// The idle timeout must end before the absolute lifetime only when both
	// are on: a disabled field's value is not held against an enabled one.
	idleMax := l.InactivityMinutes.Max
	if se.Enabled && s.InactivityTimeout.Enabled && maxOK {
		idleMax = min(idleMax, se.MaxSessionMinutes-1)
	}
	inRange("inactivityTimeout.minutes", s.InactivityTimeout.Minutes, Range{l.InactivityMinutes.Min, idleMax})

	ssi := s.StaySignedIn
	if ssi.MaxSessionMinutes != 0 {
		inRange("staySignedIn.maxSessionMinutes", ssi.MaxSessionMinutes, l.StaySignedInMaxSessionMinutes)
	}
	if ssi.InactivityMinutes != 0 {
		r := l.StaySignedInInactivityMinutes
		if ssi.MaxSessionMinutes != 0 {
			r.Max = min(r.Max, ssi.MaxSessionMinutes-1)
		}
		inRange("staySignedIn.inactivityMinutes", ssi.InactivityMinutes, r)
	}
	if ssi.RenewAfterMinutes != 0 {
		if ssi.InactivityMinutes == 0 {
			bad("staySignedIn.renewAfterMinutes", "needs staySignedIn.inactivityMinutes")
		} else {
			inRange("staySignedIn.renewAfterMinutes", ssi.RenewAfterMinutes, Range{1, ssi.InactivityMinutes - 1})
		}
	}
	if !ssi.Allowed && (ssi.MaxSessionMinutes != 0 || ssi.InactivityMinutes != 0) {
		bad("staySignedIn.allowed", "limits for stay-signed-in sessions are set but such sessions are not allowed")
	}

	inRange("policyCheckIntervalMinutes", s.PolicyCheckIntervalMinutes, l.PolicyCheckIntervalMinutes)
	inRange("outageGraceMinutes", s.OutageGraceMinutes, l.OutageGraceMinutes)
	inRange("maxSessionsPerUser", s.MaxSessionsPerUser, l.MaxSessionsPerUser)
	switch s.DPoP {
	case DPoPOff, DPoPAllowed, DPoPRequired:
	default:
		bad("dpop", `must be "off", "allowed" or "required", got "`+string(s.DPoP)+`"`)
	}
	if s.OnSessionLimit != DenyNew && s.OnSessionLimit != EndOldest {
		bad("onSessionLimit", `must be "deny_new" or "end_oldest", got "`+string(s.OnSessionLimit)+`"`)
	}
	for i, c := range s.ExemptClients {
		f := "exemptClients[" + strconv.Itoa(i) + "]"
		switch {
		case c == "" || len(c) > 256 || strings.TrimSpace(c) != c:
			bad(f, "must be a client id of 1 to 256 characters without surrounding spaces")
		case slices.Index(s.ExemptClients, c) != i:
			bad(f, `duplicate client id "`+c+`"`)
		}
	}
	if len(s.ExemptClients) > 100 {
		bad("exemptClients", "at most 100 client ids")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// IsExempt reports whether timeouts are not enforced for clientID.
func (s Settings) IsExempt(clientID string) bool {
	return clientID != "" && slices.Contains(s.ExemptClients, clientID)
}

// Check reports ranges that make no sense: a minimum above its maximum, a
// negative bound, or more than a year of minutes (sessions per user: more
// than 10,000).
func (l Limits) Check() error {
	var bad []string
	for _, r := range []struct {
		name string
		r    Range
		top  int
	}{
		{"maxSessionMinutes", l.MaxSessionMinutes, 525600}, {"inactivityMinutes", l.InactivityMinutes, 525600},
		{"policyCheckIntervalMinutes", l.PolicyCheckIntervalMinutes, 525600}, {"outageGraceMinutes", l.OutageGraceMinutes, 525600},
		{"maxSessionsPerUser", l.MaxSessionsPerUser, 10000},
		{"staySignedInMaxSessionMinutes", l.StaySignedInMaxSessionMinutes, 525600},
		{"staySignedInInactivityMinutes", l.StaySignedInInactivityMinutes, 525600},
	} {
		if r.r.Min < 0 || r.r.Min > r.r.Max || r.r.Max > r.top {
			bad = append(bad, fmt.Sprintf("%s {min %d, max %d}: want 0 <= min <= max <= %d", r.name, r.r.Min, r.r.Max, r.top))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// SettingsChange is one accepted settings write, as kept in the history:
// a store writes the new settings and the change together, and the admin
// API and the audit read the history.
type SettingsChange struct {
	Environment    string    `json:"environment"`
	Version        int       `json:"version"`
	At             time.Time `json:"at"`
	Actor          string    `json:"actor"`
	Old            Settings  `json:"old"`
	New            Settings  `json:"new"`
	ApplyToRunning bool      `json:"applyToRunning"`
	Preset         string    `json:"preset,omitempty"`
}

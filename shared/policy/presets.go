package policy

// Preset is a named policy that reproduces a well-known service's session
// behaviour, applied as ordinary settings (GET /presets, docs/admin.md).
type Preset struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Settings    Settings `json:"settings"`
}

// Presets returns the presets. Each starts from the defaults and changes
// only what the service it copies does differently.
func Presets() []Preset {
	with := func(f func(*Settings)) Settings {
		s := Defaults()
		f(&s)
		return s
	}
	return []Preset{
		{"idp-default", "Honor the identity provider: no absolute or idle cap; users re-checked hourly.", Defaults()},
		{"dataverse-default", "Sessions end 1440 minutes (24 hours) after sign-in, with a warning 20 minutes before; no idle timeout.",
			with(func(s *Settings) {
				s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 1440, WarningMinutes: 20}
			})},
		{"admin-portal", "Sign in again every 8 hours (absolute lifetime 480 minutes).",
			with(func(s *Settings) {
				s.SessionExpiration = SessionExpiration{Enabled: true, MaxSessionMinutes: 480, WarningMinutes: 20}
			})},
		{"outlook-web", "6 hours (360 minutes) without activity end the session.",
			with(func(s *Settings) { s.InactivityTimeout = InactivityTimeout{Enabled: true, Minutes: 360} })},
		{"sharepoint", "Stay-signed-in sessions end after 5 days without activity; a return after 24 hours or more starts the 5 days afresh.",
			with(func(s *Settings) {
				s.StaySignedIn = StaySignedIn{Allowed: true, InactivityMinutes: 5 * 1440, RenewAfterMinutes: 1440}
			})},
		{"browser-lifetime", "No caps; browser-session cookies only, so the session ends with the browser.",
			with(func(s *Settings) { s.StaySignedIn.Allowed = false })},
	}
}

// PresetNamed returns the preset called name.
func PresetNamed(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

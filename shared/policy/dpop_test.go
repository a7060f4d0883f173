package policy

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestDPoPSetting: dpop defaults to off, takes off, allowed and required,
// refuses anything else (also "" and another letter case) naming the
// field, and a snapshot stored before the setting existed reads as ""
// (which shared/dpop reads as off).
func TestDPoPSetting(t *testing.T) {
	if d := Defaults().DPoP; d != DPoPOff {
		t.Errorf("Defaults().DPoP = %q; want off", d)
	}
	for _, m := range []DPoPMode{DPoPOff, DPoPAllowed, DPoPRequired} {
		s, err := Decode([]byte(`{"dpop":"`+string(m)+`"}`), DefaultLimits())
		if err != nil || s.DPoP != m {
			t.Errorf("Decode(dpop %s) = %q, %v", m, s.DPoP, err)
		}
	}
	for _, body := range []string{`{"dpop":""}`, `{"dpop":"Required"}`, `{"dpop":"on"}`, `{"dpop":true}`, `{"dpop":null}`} {
		if _, err := Decode([]byte(body), DefaultLimits()); !slices.Equal(fieldsOf(t, err), []string{"dpop"}) {
			t.Errorf("Decode(%s) = %v; want an error naming dpop", body, err)
		}
	}
	var old Settings
	if err := json.Unmarshal([]byte(`{"policyCheckIntervalMinutes":60}`), &old); err != nil || old.DPoP != "" {
		t.Errorf("an old snapshot's dpop = %q, %v; want \"\"", old.DPoP, err)
	}
	for _, p := range Presets() {
		if p.Settings.DPoP != DPoPOff {
			t.Errorf("preset %s: dpop %q; want off (the admin API keeps the environment's own when applying one)", p.Name, p.Settings.DPoP)
		}
	}
}

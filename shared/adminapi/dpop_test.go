package adminapi

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDPoPSetting: dpop is set through the settings document and read
// back; applying a preset leaves it as it was (a preset sets lifetimes,
// it never turns DPoP off); the admin API takes the token as DPoP too; a
// deployment whose authorizer answers are cached refuses to turn it on,
// naming the field, and still takes off.
func TestDPoPSetting(t *testing.T) {
	f := newFixture(t)
	adm := f.admin(t)
	dpopOf := func(r response) string {
		t.Helper()
		var s struct{ DPoP string }
		if err := json.Unmarshal(r.body, &s); err != nil {
			t.Fatal(err)
		}
		return s.DPoP
	}
	if r := f.call(t, "GET", "/environments/demo/settings", adm, nil, ""); dpopOf(r) != "off" {
		t.Errorf("default dpop = %q; want off", dpopOf(r))
	}
	r := f.call(t, "PUT", "/environments/demo/settings", adm, map[string]string{"If-Match": `"0"`}, `{"dpop":"required"}`)
	if r.status != 200 || dpopOf(r) != "required" {
		t.Fatalf("PUT dpop required = %d %s; want 200", r.status, r.body)
	}
	r = f.call(t, "PUT", "/environments/demo/settings?preset=admin-portal", adm, map[string]string{"If-Match": `"1"`}, "")
	if r.status != 200 || dpopOf(r) != "required" {
		t.Errorf("PUT preset admin-portal = %d %s; want 200 with dpop still required", r.status, r.body)
	}
	if r := f.call(t, "GET", "/environments/demo/settings", adm, nil, ""); dpopOf(r) != "required" {
		t.Errorf("dpop after the preset = %q; want required", dpopOf(r))
	}
	if r := f.call(t, "PUT", "/environments/demo/settings", adm, map[string]string{"If-Match": `"2"`}, `{"dpop":"sometimes"}`); r.status != 400 || !contains(r.fields(t), "dpop") {
		t.Errorf("PUT dpop sometimes = %d %s; want 400 naming dpop", r.status, r.body)
	}

	// An admin whose session is bound to a DPoP key sends the token as
	// DPoP (the proof is the authorizer's to check, before this API).
	if r := f.call(t, "GET", "/environments/demo/settings", "", map[string]string{"Authorization": "DPoP " + adm}, ""); r.status != 200 {
		t.Errorf("GET with Authorization: DPoP = %d %s; want 200", r.status, r.body)
	}
	if r := f.call(t, "GET", "/environments/demo/settings", "", map[string]string{"Authorization": "Basic " + adm}, ""); r.status != 401 {
		t.Errorf("GET with Authorization: Basic = %d; want 401", r.status)
	}

	cfg := f.api.cfg
	cfg.Enforcement.Horizon = 5 * time.Minute
	f.api = New(cfg)
	for _, m := range []string{"allowed", "required"} {
		if r := f.call(t, "PUT", "/environments/staging/settings", adm, map[string]string{"If-Match": `"0"`}, `{"dpop":"`+m+`"}`); r.status != 400 || !contains(r.fields(t), "dpop") {
			t.Errorf("with the authorizer cache on, PUT dpop %s = %d %s; want 400 naming dpop", m, r.status, r.body)
		}
	}
	if r := f.call(t, "PUT", "/environments/staging/settings", adm, map[string]string{"If-Match": `"0"`}, `{"dpop":"off"}`); r.status != 200 {
		t.Errorf("with the authorizer cache on, PUT dpop off = %d %s; want 200", r.status, r.body)
	}
	// A preset keeps the environment's dpop: on demo (required) it would
	// store DPoP under the cache, and is refused as a document would be;
	// on staging (off) it passes and stays off.
	if r := f.call(t, "PUT", "/environments/demo/settings?preset=outlook-web", adm, map[string]string{"If-Match": `"2"`}, ""); r.status != 400 || !contains(r.fields(t), "dpop") {
		t.Errorf("with the authorizer cache on, a preset on an environment with dpop required = %d %s; want 400 naming dpop", r.status, r.body)
	}
	if r := f.call(t, "PUT", "/environments/staging/settings?preset=outlook-web", adm, map[string]string{"If-Match": `"1"`}, ""); r.status != 200 || dpopOf(r) != "off" {
		t.Errorf("with the authorizer cache on, a preset on an environment with dpop off = %d %s; want 200, dpop off", r.status, r.body)
	}
}

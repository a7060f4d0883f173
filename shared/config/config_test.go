package config

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["api://app"]}]`,
		"ENVIRONMENTS":    "contoso-prod, contoso-dev",
		"TABLE_NAME":      "sessionguard",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminRole != "sessionguard-admin" || c.Limits != policy.DefaultLimits() || c.TableName != "sessionguard" {
		t.Errorf("admin role %q, limits %+v, table %q; want the defaults", c.AdminRole, c.Limits, c.TableName)
	}
	if !c.SimpleResponses || c.Enforcement.PolicyChecks || c.Enforcement.Horizon != 0 || c.Token.ClockSkew != time.Minute ||
		c.Environments.Source != "stage" || len(c.Environments.Known) != 2 || c.Sources.SessionCookie != "__Host-sg_session" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestLoadWidenedLimits(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["api://app"],"roleClaim":"groups"}]`,
		"ENVIRONMENTS":    "prod", "TABLE_NAME": "t",
		"SETTINGS_LIMITS": `{"maxSessionMinutes":{"min":60,"max":10080}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := policy.DefaultLimits()
	want.MaxSessionMinutes.Max = 10080
	if c.Limits != want || c.Token.Issuers[0].RoleClaim != "groups" {
		t.Errorf("limits %+v, role claim %q; want maxSessionMinutes widened to 10080, groups", c.Limits, c.Token.Issuers[0].RoleClaim)
	}
}

func TestLoadDirectory(t *testing.T) {
	base := map[string]string{"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["a"]}]`, "ENVIRONMENTS": "prod", "TABLE_NAME": "t"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := Load(env(with()))
	if err != nil || c.Directory.Kind != "none" || c.Directory.GuardShare != 0.2 || c.Directory.GuardMin != 5 || c.Directory.Concurrency != 8 {
		t.Fatalf("defaults = %+v, %v", c.Directory, err)
	}
	if _, err := c.NewDirectory(context.Background(), nil); err == nil {
		t.Error("NewDirectory with DIRECTORY=none succeeded")
	}
	for _, bad := range []map[string]string{with("DIRECTORY", "ldap"), with("DIRECTORY", "graph", "DIRECTORY_CLIENT_ID", "x"), with("DIRECTORY", "scim")} {
		if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), "DIRECTORY") {
			t.Errorf("Load(%v) = %v; want an error naming DIRECTORY", bad, err)
		}
	}
	c, err = Load(env(with("DIRECTORY", "http", "DIRECTORY_URL", "https://dir.example/")))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := c.NewDirectory(context.Background(), nil); err != nil || d.BatchSize() != 1 {
		t.Errorf("NewDirectory(http) = %v, %v", d, err)
	}
	if c.Directory.Changes {
		t.Error("DIRECTORY=http reads changes; only graph and scim have a change feed")
	}
	graph := with("DIRECTORY", "graph", "DIRECTORY_TOKEN_URL", "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", "DIRECTORY_CLIENT_ID", "app", "DIRECTORY_SECRET", "ssm:/sessionguard/x",
		"TRUSTED_ISSUERS", `[{"issuer":"https://login.microsoftonline.com/tenant-1/v2.0","profile":"entra","audiences":["a"]},{"issuer":"https://idp.example/","audiences":["a"]}]`)
	if c, err = Load(env(graph)); err != nil || !c.Directory.Changes {
		t.Fatalf("graph: Changes = %v, %v; want on by default", c.Directory.Changes, err)
	}
	want := []session.UserKey{{Issuer: "https://login.microsoftonline.com/tenant-1/v2.0", Subject: "tenant-1/oid-1"}, {Issuer: "https://idp.example/", Subject: "oid-1"}}
	if got := c.DirectoryKeys("oid-1"); !slices.Equal(got, want) {
		t.Errorf("DirectoryKeys = %v; want %v (Entra subjects carry the tenant)", got, want)
	}
	graph["DIRECTORY_CHANGES"] = "off"
	if c, err = Load(env(graph)); err != nil || c.Directory.Changes {
		t.Errorf("DIRECTORY_CHANGES=off: Changes = %v, %v", c.Directory.Changes, err)
	}
	graph["DIRECTORY_CHANGES"] = "sometimes"
	if _, err = Load(env(graph)); err == nil || !strings.Contains(err.Error(), "DIRECTORY_CHANGES") {
		t.Errorf("DIRECTORY_CHANGES=sometimes: %v; want an error naming it", err)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{
		"TRUSTED_ISSUERS":              `[{"issuer":"x","audiences":["a"],"typo":1}]`,
		"CLOCK_SKEW_SECONDS":           "900",
		"AUTHORIZER_RESPONSE":          "maybe",
		"AUTHORIZER_CACHE_TTL_SECONDS": "-1",
		"SETTINGS_LIMITS":              `{"maxSessionMinutes":{"min":600,"max":60}}`,
	}))
	if err == nil {
		t.Fatal("Load accepted a bad configuration")
	}
	for _, want := range []string{"TRUSTED_ISSUERS", "CLOCK_SKEW_SECONDS", "AUTHORIZER_RESPONSE", "AUTHORIZER_CACHE_TTL_SECONDS", "ENVIRONMENTS", "TABLE_NAME", "SETTINGS_LIMITS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

// Load reads exactly the variables of Variables, and fails without each
// required one.
func TestVariablesListIsComplete(t *testing.T) {
	read := map[string]bool{}
	Load(func(k string) string { read[k] = true; return "" })
	listed := map[string]bool{}
	for _, v := range Variables {
		listed[v.Name] = true
		if !read[v.Name] {
			t.Errorf("%s is listed but Load does not read it", v.Name)
		}
	}
	for k := range read {
		if !listed[k] {
			t.Errorf("Load reads %s, which Variables does not list", k)
		}
	}
	full := map[string]string{"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["a"]}]`, "ENVIRONMENTS": "prod", "TABLE_NAME": "t"}
	for _, v := range Variables {
		if !v.Required {
			continue
		}
		without := map[string]string{}
		for k, val := range full {
			if k != v.Name {
				without[k] = val
			}
		}
		if _, err := Load(env(without)); err == nil || !strings.Contains(err.Error(), v.Name) {
			t.Errorf("Load without %s = %v; want an error naming it", v.Name, err)
		}
	}
}

// Profiles, client ids and tenants reach the verifier's issuers.
func TestIssuerProfiles(t *testing.T) {
	env := map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X","profile":"cognito","clientIds":["c1","c2"]},` +
			`{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","profile":"entra","audiences":["api://a"],"tenants":["t1"]}]`,
		"ENVIRONMENTS": "prod", "TABLE_NAME": "t",
	}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	is := c.Token.Issuers
	if len(is) != 2 || is[0].Profile != "cognito" || len(is[0].ClientIDs) != 2 || is[1].Profile != "entra" || is[1].Tenants[0] != "t1" {
		t.Fatalf("issuers = %+v; want cognito with 2 client ids, entra with tenant t1", is)
	}
	if _, err := token.NewVerifier(c.Token); err != nil { // no key fetch: this test stays off the network
		t.Fatalf("NewVerifier = %v; want nil", err)
	}
}

package config

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
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

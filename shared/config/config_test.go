package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["api://app"]}]`,
		"ENVIRONMENTS":    "contoso-prod, contoso-dev",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SimpleResponses || c.Enforcement.PolicyChecks || c.Enforcement.Horizon != 0 || c.Token.ClockSkew != time.Minute ||
		c.Environments.Source != "stage" || len(c.Environments.Known) != 2 || c.Sources.SessionCookie != "__Host-sg_session" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{
		"TRUSTED_ISSUERS":              `[{"issuer":"x","audiences":["a"],"typo":1}]`,
		"CLOCK_SKEW_SECONDS":           "900",
		"AUTHORIZER_RESPONSE":          "maybe",
		"AUTHORIZER_CACHE_TTL_SECONDS": "-1",
	}))
	if err == nil {
		t.Fatal("Load accepted a bad configuration")
	}
	for _, want := range []string{"TRUSTED_ISSUERS", "CLOCK_SKEW_SECONDS", "AUTHORIZER_RESPONSE", "AUTHORIZER_CACHE_TTL_SECONDS", "ENVIRONMENTS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

package config

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
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
	// The verifier's limits are its own defaults, named once in token.
	want := token.Config{Issuers: c.Token.Issuers, MaxTokenBytes: token.DefaultMaxTokenBytes, ClockSkew: token.DefaultClockSkew,
		KeySetMaxAge: token.DefaultKeySetMaxAge, UnknownKidCooldown: token.DefaultUnknownKidCooldown, FetchTimeout: token.DefaultFetchTimeout,
		SnapshotMaxAge: token.DefaultSnapshotMaxAge}
	if got := c.Token; !reflect.DeepEqual(got, want) {
		t.Errorf("token config = %+v; want token's defaults %+v", got, want)
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
	for _, bad := range []map[string]string{with("DIRECTORY", "ldap"), with("DIRECTORY", "graph", "DIRECTORY_CLIENT_ID", "x"), with("DIRECTORY", "scim")} {
		if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), "DIRECTORY") {
			t.Errorf("Load(%v) = %v; want an error naming DIRECTORY", bad, err)
		}
	}
	c, err = Load(env(with("DIRECTORY", "http", "DIRECTORY_URL", "https://dir.example/")))
	if err != nil {
		t.Fatal(err)
	}
	if c.Directory.Changes {
		t.Error("DIRECTORY=http reads changes; only graph and scim have a change feed")
	}
	graph := with("DIRECTORY", "graph", "DIRECTORY_TOKEN_URL", "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", "DIRECTORY_CLIENT_ID", "app", "DIRECTORY_SECRET", "ssm:/sessionguard/x",
		"TRUSTED_ISSUERS", `[{"issuer":"https://login.microsoftonline.com/tenant-1/v2.0","profile":"entra","audiences":["a"]},{"issuer":"https://idp.example/","audiences":["a"]}]`)
	if c, err = Load(env(graph)); err != nil || !c.Directory.Changes {
		t.Fatalf("graph: Changes = %v, %v; want on by default", c.Directory.Changes, err)
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

// What sam local passes for a variable the template cannot resolve is
// reported once, naming the variable to set, not as a malformed value.
func TestLoadNamesPlaceholders(t *testing.T) {
	_, err := Load(env(map[string]string{"TRUSTED_ISSUERS": "TrustedIssuers", "ENVIRONMENTS": "prod", "TABLE_NAME": "Table"}))
	if err == nil {
		t.Fatal("Load accepted the template's names as values")
	}
	for _, p := range Placeholders {
		want := p.Variable + ` is "` + p.Name + `", the template's name for its value, not a value`
		if strings.Count(err.Error(), p.Variable) != 2 || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "set "+p.Variable) {
			t.Errorf("Load(%s=%s) = %v; want one problem: %q ... set %s", p.Variable, p.Name, err, want, p.Variable)
		}
	}
	if strings.Contains(err.Error(), "invalid character") || strings.Contains(err.Error(), "is required") {
		t.Errorf("Load = %v; want only the placeholders reported", err)
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

// load is Load over the minimal configuration, changed by kv.
func load(kv ...string) (Config, error) {
	m := map[string]string{"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["a"]}]`, "ENVIRONMENTS": "prod", "TABLE_NAME": "t"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return Load(env(m))
}

// A transmitter revokes users of its subjectIssuers only: with one trusted
// issuer it defaults to that one; with several, an entry without it is
// refused at start, naming the field; each must be a trusted issuer.
func TestLoadTransmitterSubjectIssuers(t *testing.T) {
	const two = `[{"issuer":"https://idp.example/","audiences":["a"]},{"issuer":"https://partner.example/","audiences":["a"]}]`
	for _, c := range []struct {
		name, trusted, transmitters string
		want                        map[string][]string // SubjectIssuers(); nil: Load fails
		errWants                    []string
	}{
		{"one trusted issuer: the default", "", `[{"issuer":"https://tx.example/","audiences":["r"]}]`,
			map[string][]string{"https://tx.example/": {"https://idp.example/"}}, nil},
		{"several trusted issuers, listed", two, `[{"issuer":"https://tx.example/","audiences":["r"],"subjectIssuers":["https://partner.example/"]}]`,
			map[string][]string{"https://tx.example/": {"https://partner.example/"}}, nil},
		{"several trusted issuers, none listed", two, `[{"issuer":"https://tx.example/","audiences":["r"]}]`,
			nil, []string{"SIGNALS_TRANSMITTERS", "https://tx.example/", "subjectIssuers"}},
		{"an issuer that is not trusted", "", `[{"issuer":"https://tx.example/","audiences":["r"],"subjectIssuers":["https://evil.example/"]}]`,
			nil, []string{"SIGNALS_TRANSMITTERS", "subjectIssuers", "https://evil.example/"}},
		{"an empty list", "", `[{"issuer":"https://tx.example/","audiences":["r"],"subjectIssuers":[]}]`,
			nil, []string{"SIGNALS_TRANSMITTERS", "subjectIssuers", "empty"}},
		{"subjectIssuers on a trusted issuer", `[{"issuer":"https://idp.example/","audiences":["a"],"subjectIssuers":["https://idp.example/"]}]`, "",
			nil, []string{"TRUSTED_ISSUERS", "subjectIssuers"}},
		{"grantsAdmin on a transmitter", "", `[{"issuer":"https://tx.example/","audiences":["r"],"grantsAdmin":true}]`,
			nil, []string{"SIGNALS_TRANSMITTERS", "grantsAdmin"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			kv := []string{"SIGNALS_TRANSMITTERS", c.transmitters}
			if c.trusted != "" {
				kv = append(kv, "TRUSTED_ISSUERS", c.trusted)
			}
			cfg, err := load(kv...)
			if c.want == nil {
				for _, w := range c.errWants {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("Load = %v; want an error naming %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.SubjectIssuers()
			if len(got) != len(c.want) {
				t.Fatalf("SubjectIssuers() = %v; want %v", got, c.want)
			}
			for tx, w := range c.want {
				if !slices.Equal(got[tx], w) {
					t.Errorf("SubjectIssuers()[%s] = %v; want %v", tx, got[tx], w)
				}
			}
		})
	}
}

// The admin role comes only from TRUSTED_ISSUERS entries with grantsAdmin;
// with one entry and none marked, that one; with several and none marked,
// from no one.
func TestAdminIssuers(t *testing.T) {
	for _, c := range []struct {
		name, trusted string
		want          []string
	}{
		{"one, unmarked", `[{"issuer":"https://idp.example/","audiences":["a"]}]`, []string{"https://idp.example/"}},
		{"one, marked", `[{"issuer":"https://idp.example/","audiences":["a"],"grantsAdmin":true}]`, []string{"https://idp.example/"}},
		{"several, none marked", `[{"issuer":"https://idp.example/","audiences":["a"]},{"issuer":"https://partner.example/","audiences":["a"]}]`, nil},
		{"several, one marked", `[{"issuer":"https://idp.example/","audiences":["a"]},{"issuer":"https://partner.example/","audiences":["a"],"grantsAdmin":true}]`,
			[]string{"https://partner.example/"}},
		{"several, marked false", `[{"issuer":"https://idp.example/","audiences":["a"],"grantsAdmin":false},{"issuer":"https://partner.example/","audiences":["a"]}]`, nil},
		{"one, multi-tenant, unmarked", `[{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0","profile":"entra","audiences":["a"],"tenants":["11111111-1111-1111-1111-111111111111"]}]`, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := load("TRUSTED_ISSUERS", c.trusted)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.AdminIssuers(); !slices.Equal(got, c.want) {
				t.Errorf("AdminIssuers() = %v; want %v", got, c.want)
			}
		})
	}
}

// Remote endpoints are https, or plain http to a loopback host; a
// configuration that breaks the rule is refused at start, naming the
// variable (and the entry).
func TestLoadRefusesPlainHTTPEndpoints(t *testing.T) {
	for _, c := range []struct {
		name  string
		kv    []string
		wants []string // nil: accepted
	}{
		{"jwksUrl", []string{"TRUSTED_ISSUERS", `[{"issuer":"https://idp.example/","jwksUrl":"http://idp.example/keys","audiences":["a"]}]`},
			[]string{"TRUSTED_ISSUERS", "jwksUrl", "http://idp.example/keys", "https"}},
		{"issuer without jwksUrl: discovery", []string{"TRUSTED_ISSUERS", `[{"issuer":"http://idp.example/","audiences":["a"]}]`},
			[]string{"TRUSTED_ISSUERS", "discovery", "https"}},
		{"cognito key-set path", []string{"TRUSTED_ISSUERS", `[{"issuer":"http://cognito.example/pool","profile":"cognito","clientIds":["c"]}]`},
			[]string{"TRUSTED_ISSUERS", "jwksUrl", "https"}},
		{"transmitter jwksUrl", []string{"SIGNALS_TRANSMITTERS", `[{"issuer":"https://tx.example/","jwksUrl":"http://tx.example/keys","audiences":["r"]}]`},
			[]string{"SIGNALS_TRANSMITTERS", "jwksUrl", "https"}},
		{"transmitter issuer: SSF metadata", []string{"SIGNALS_TRANSMITTERS", `[{"issuer":"http://tx.example/","jwksUrl":"https://tx.example/keys","audiences":["r"]}]`},
			[]string{"SIGNALS_TRANSMITTERS", "Shared Signals metadata", "https"}},
		{"DIRECTORY_URL", []string{"DIRECTORY", "scim", "DIRECTORY_URL", "http://scim.example/v2"}, []string{"DIRECTORY_URL", "https"}},
		{"DIRECTORY_TOKEN_URL", []string{"DIRECTORY", "graph", "DIRECTORY_TOKEN_URL", "http://login.example/t/oauth2/v2.0/token", "DIRECTORY_CLIENT_ID", "c", "DIRECTORY_SECRET", "ssm:x"},
			[]string{"DIRECTORY_TOKEN_URL", "https"}},
		{"graph DIRECTORY_URL", []string{"DIRECTORY", "graph", "DIRECTORY_URL", "http://graph.example/v1.0", "DIRECTORY_TOKEN_URL", "https://login.example/t/oauth2/v2.0/token",
			"DIRECTORY_CLIENT_ID", "c", "DIRECTORY_SECRET", "ssm:x"}, []string{"DIRECTORY_URL", "https"}},
		{"SIGNALS_URL", []string{"SIGNALS_URL", "http://api.example/signals"}, []string{"SIGNALS_URL", "https"}},
		{"CONSOLE_TOKEN_URL", []string{"CONSOLE_TOKEN_URL", "http://idp.example/token"}, []string{"CONSOLE_TOKEN_URL", "https"}},
		{"CONSOLE_AUTHORIZE_URL", []string{"CONSOLE_AUTHORIZE_URL", "http://idp.example/authorize"}, []string{"CONSOLE_AUTHORIZE_URL", "https"}},
		{"loopback everywhere", []string{
			"TRUSTED_ISSUERS", `[{"issuer":"http://127.0.0.1:8080/idp","audiences":["a"]},{"issuer":"https://idp.example/","jwksUrl":"http://[::1]:9/keys","audiences":["a"]}]`,
			"SIGNALS_TRANSMITTERS", `[{"issuer":"http://localhost:8080/idp","audiences":["r"],"subjectIssuers":["http://127.0.0.1:8080/idp"]}]`,
			"DIRECTORY", "scim", "DIRECTORY_URL", "http://127.0.0.1:9000/scim", "SIGNALS_URL", "http://127.0.0.1:8080/signals",
			"CONSOLE_AUTHORIZE_URL", "http://localhost:8080/idp/authorize", "CONSOLE_TOKEN_URL", "http://localhost:8080/idp/token"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(c.kv...)
			if c.wants == nil {
				if err != nil {
					t.Fatalf("Load = %v; want accepted", err)
				}
				return
			}
			for _, w := range c.wants {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Load = %v; want an error naming %s", err, w)
				}
			}
		})
	}
}

func TestLoadTokenCache(t *testing.T) {
	vars := map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["api://app"]}]`,
		"ENVIRONMENTS":    "prod", "TABLE_NAME": "t",
	}
	if c, err := Load(env(vars)); err != nil || c.Token.NoCache {
		t.Errorf("TOKEN_CACHE unset: NoCache = %v, %v; want the cache on", c.Token.NoCache, err)
	}
	vars["TOKEN_CACHE"] = "off"
	if c, err := Load(env(vars)); err != nil || !c.Token.NoCache {
		t.Errorf("TOKEN_CACHE=off: NoCache = %v, %v; want true", c.Token.NoCache, err)
	}
	vars["TOKEN_CACHE"] = "maybe"
	if _, err := Load(env(vars)); err == nil || !strings.Contains(err.Error(), "TOKEN_CACHE") {
		t.Errorf("TOKEN_CACHE=maybe: %v; want an error naming it", err)
	}
}

func TestLoadKeySetSnapshots(t *testing.T) {
	vars := map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["api://app"]}]`,
		"ENVIRONMENTS":    "prod", "TABLE_NAME": "t",
	}
	if c, err := Load(env(vars)); err != nil || !c.KeySetSnapshots || c.Token.SnapshotMaxAge != token.DefaultSnapshotMaxAge {
		t.Errorf("JWKS_SNAPSHOT unset: %v, max age %v, %v; want on, %v", c.KeySetSnapshots, c.Token.SnapshotMaxAge, err, token.DefaultSnapshotMaxAge)
	}
	vars["JWKS_SNAPSHOT"], vars["JWKS_SNAPSHOT_MAX_AGE_SECONDS"] = "off", "3600"
	if c, err := Load(env(vars)); err != nil || c.KeySetSnapshots || c.Token.SnapshotMaxAge != time.Hour {
		t.Errorf("JWKS_SNAPSHOT=off, max age 3600: %v, %v, %v; want off, 1h", c.KeySetSnapshots, c.Token.SnapshotMaxAge, err)
	}
	for name, v := range map[string]string{"JWKS_SNAPSHOT": "yes", "JWKS_SNAPSHOT_MAX_AGE_SECONDS": "604801"} {
		bad := maps.Clone(vars)
		bad[name] = v
		if _, err := Load(env(bad)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v; want an error naming it", name, v, err)
		}
	}
}

func TestLoadAllowedOrigins(t *testing.T) {
	vars := map[string]string{
		"TRUSTED_ISSUERS": `[{"issuer":"https://idp.example/","audiences":["api://app"]}]`,
		"ENVIRONMENTS":    "prod", "TABLE_NAME": "t",
	}
	if c, err := Load(env(vars)); err != nil || len(c.AllowedOrigins) != 0 {
		t.Errorf("CORS_ALLOWED_ORIGINS unset: %v, %v; want none (same-origin only)", c.AllowedOrigins, err)
	}
	vars["CORS_ALLOWED_ORIGINS"] = "https://App.example.com, http://127.0.0.1:5173"
	if c, err := Load(env(vars)); err != nil || !reflect.DeepEqual(c.AllowedOrigins, []string{"https://app.example.com", "http://127.0.0.1:5173"}) {
		t.Errorf("two origins: %v, %v; want them, lowercase", c.AllowedOrigins, err)
	}
	for _, bad := range []string{"*", "https://app.example.com,*", "http://app.example.com", "https://app.example.com/login"} {
		vars["CORS_ALLOWED_ORIGINS"] = bad
		if _, err := Load(env(vars)); err == nil || !strings.Contains(err.Error(), "CORS_ALLOWED_ORIGINS") {
			t.Errorf("CORS_ALLOWED_ORIGINS=%q: %v; want an error naming it", bad, err)
		}
	}
}

package config

import (
	"strconv"
	"time"

	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Variable is one environment variable the functions read.
type Variable struct {
	Name string
	// Default is what Load reads when the variable is unset ("" with
	// Required: none).
	Default string
	// Functions that read it meaningfully ("*": all).
	Functions []string
	// Required: Load fails without it. Template: template.yaml sets it
	// for those functions (a test holds the template to it).
	Required, Template bool
}

// Variables is every variable Load reads, with its default: the one
// place a default is written (a default the code shares with another
// package is that package's named constant). A test holds Load to this
// list, and docs/configuration.md to it.
var Variables = []Variable{
	{Name: "TRUSTED_ISSUERS", Required: true, Template: true, Functions: []string{"*"}},
	{Name: "ENVIRONMENTS", Required: true, Template: true, Functions: []string{"*"}},
	{Name: "TABLE_NAME", Required: true, Template: true, Functions: []string{"*"}},
	{Name: "ENVIRONMENT_SOURCE", Default: "stage", Template: true, Functions: []string{"authorizer", "sessions"}},
	{Name: "ENVIRONMENT_NAME", Default: "environment", Template: true, Functions: []string{"authorizer", "sessions"}},
	{Name: "ENVIRONMENT_HOSTS", Functions: []string{"authorizer", "sessions"}},
	{Name: "AUTHORIZER_RESPONSE", Default: "simple", Template: true, Functions: []string{"authorizer"}},
	{Name: "AUTHORIZER_CACHE_TTL_SECONDS", Default: "0", Template: true, Functions: []string{"authorizer", "sessions", "settings"}},
	{Name: "POLICY_CHECKS", Default: "off", Template: true, Functions: []string{"authorizer", "sessions", "settings"}},
	{Name: "POLICY_CHECK_SLACK_MINUTES", Default: "15", Functions: []string{"authorizer", "sessions", "settings"}},
	{Name: "SESSION_HEADER", Default: identity.DefaultSessionHeader, Functions: []string{"authorizer", "sessions"}},
	{Name: "SESSION_COOKIE", Default: identity.DefaultSessionCookie, Functions: []string{"authorizer", "sessions"}},
	{Name: "MAX_TOKEN_BYTES", Default: strconv.Itoa(token.DefaultMaxTokenBytes), Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "CLOCK_SKEW_SECONDS", Default: seconds(token.DefaultClockSkew), Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "JWKS_MAX_AGE_SECONDS", Default: seconds(token.DefaultKeySetMaxAge), Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "JWKS_UNKNOWN_KID_COOLDOWN_SECONDS", Default: seconds(token.DefaultUnknownKidCooldown), Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "JWKS_FETCH_TIMEOUT_MS", Default: strconv.Itoa(int(token.DefaultFetchTimeout / time.Millisecond)), Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "ADMIN_ROLE", Default: "sessionguard-admin", Template: true, Functions: []string{"settings"}},
	{Name: "SETTINGS_LIMITS", Template: true, Functions: []string{"settings"}},
	{Name: "CONSOLE_AUTHORIZE_URL", Template: true, Functions: []string{"settings"}},
	{Name: "CONSOLE_TOKEN_URL", Template: true, Functions: []string{"settings"}},
	{Name: "CONSOLE_CLIENT_ID", Template: true, Functions: []string{"settings"}},
	{Name: "DIRECTORY", Default: "none", Template: true, Functions: []string{"refresher"}},
	{Name: "DIRECTORY_URL", Template: true, Functions: []string{"refresher"}},
	{Name: "DIRECTORY_TOKEN_URL", Template: true, Functions: []string{"refresher"}},
	{Name: "DIRECTORY_CLIENT_ID", Template: true, Functions: []string{"refresher"}},
	{Name: "DIRECTORY_SECRET", Template: true, Functions: []string{"refresher"}},
	{Name: "DIRECTORY_USER_POOL_ID", Template: true, Functions: []string{"refresher", "cognitoevents"}},
	{Name: "DIRECTORY_CONCURRENCY", Default: "8", Functions: []string{"refresher"}},
	{Name: "DIRECTORY_CHANGES", Default: "on", Functions: []string{"refresher"}},
	{Name: "REFRESH_QUEUE_URL", Template: true, Functions: []string{"refresher"}},
	{Name: "REFRESHER_FANOUT_ABOVE", Default: "50000", Functions: []string{"refresher"}},
	{Name: "REFRESHER_SHARD_USERS", Default: "1000", Functions: []string{"refresher"}},
	{Name: "MASS_REVOCATION_GUARD_PERCENT", Default: "20", Functions: []string{"refresher"}},
	{Name: "MASS_REVOCATION_GUARD_MIN_USERS", Default: "5", Functions: []string{"refresher"}},
	{Name: "SIGNALS_TRANSMITTERS", Template: true, Functions: []string{"signals", "settings", "signalspoll"}},
	{Name: "SIGNALS_URL", Template: true, Functions: []string{"settings"}},
}

func seconds(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

// defaultOf is the default of the variable name ("" for none).
func defaultOf(name string) string {
	for _, v := range Variables {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}

// A Placeholder is what `sam local` passes for a variable whose template
// value it cannot resolve: the name of the parameter without a default,
// or of the resource, that the variable refers to. A deployed stack never
// holds these names, so Load reports them as unset, naming the variable.
type Placeholder struct{ Variable, Name string }

// Placeholders are the required variables' placeholders (template.yaml's
// Globals; infra/samlocal holds this list to the template).
var Placeholders = []Placeholder{
	{Variable: "TRUSTED_ISSUERS", Name: "TrustedIssuers"},
	{Variable: "TABLE_NAME", Name: "Table"},
}

// ReadBy reports whether fn reads v.
func (v Variable) ReadBy(fn string) bool {
	for _, f := range v.Functions {
		if f == "*" || f == fn {
			return true
		}
	}
	return false
}

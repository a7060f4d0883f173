package config

import (
	"strconv"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Variable is one environment variable the functions read.
type Variable struct {
	Name string
	// Default is what Load reads when the variable is unset ("" with
	// Required: none).
	Default string
	// Required: Load fails without it; every function reads it.
	// Template: template.yaml sets it for each function that reads it
	// (the function table, wiring.Functions, says which do; a test holds
	// the template to it).
	Required, Template bool
}

// Variables is every variable Load reads, with its default: the one
// place a default is written (a default the code shares with another
// package is that package's named constant). A test holds Load to this
// list, and docs/configuration.md to it.
var Variables = []Variable{
	{Name: "TRUSTED_ISSUERS", Required: true, Template: true},
	{Name: "ENVIRONMENTS", Required: true, Template: true},
	{Name: "TABLE_NAME", Required: true, Template: true},
	{Name: "ENVIRONMENT_SOURCE", Default: "stage", Template: true},
	{Name: "ENVIRONMENT_NAME", Default: "environment", Template: true},
	{Name: "ENVIRONMENT_HOSTS"},
	{Name: "AUTHORIZER_RESPONSE", Default: "simple", Template: true},
	{Name: "AUTHORIZER_CACHE_TTL_SECONDS", Default: "0", Template: true},
	{Name: "POLICY_CHECKS", Default: "off", Template: true},
	{Name: "POLICY_CHECK_SLACK_MINUTES", Default: "15"},
	{Name: "CORS_ALLOWED_ORIGINS", Template: true},
	{Name: "DPOP_PROOF_MAX_AGE_SECONDS", Default: seconds(dpop.DefaultMaxAge)},
	{Name: "DPOP_PROOF_MAX_FUTURE_SECONDS", Default: seconds(dpop.DefaultMaxFuture)},
	{Name: "SESSION_HEADER", Default: identity.DefaultSessionHeader},
	{Name: "SESSION_COOKIE", Default: identity.DefaultSessionCookie},
	{Name: "MAX_TOKEN_BYTES", Default: strconv.Itoa(token.DefaultMaxTokenBytes)},
	{Name: "CLOCK_SKEW_SECONDS", Default: seconds(token.DefaultClockSkew)},
	{Name: "JWKS_MAX_AGE_SECONDS", Default: seconds(token.DefaultKeySetMaxAge)},
	{Name: "JWKS_UNKNOWN_KID_COOLDOWN_SECONDS", Default: seconds(token.DefaultUnknownKidCooldown)},
	{Name: "TOKEN_CACHE", Default: "on"},
	{Name: "JWKS_SNAPSHOT", Default: "on"},
	{Name: "JWKS_SNAPSHOT_MAX_AGE_SECONDS", Default: seconds(token.DefaultSnapshotMaxAge)},
	{Name: "JWKS_FETCH_TIMEOUT_MS", Default: strconv.Itoa(int(token.DefaultFetchTimeout / time.Millisecond))},
	{Name: "ADMIN_ROLE", Default: "sessionguard-admin", Template: true},
	{Name: "SETTINGS_LIMITS", Template: true},
	{Name: "CONSOLE_AUTHORIZE_URL", Template: true},
	{Name: "CONSOLE_TOKEN_URL", Template: true},
	{Name: "CONSOLE_CLIENT_ID", Template: true},
	{Name: "DIRECTORY", Default: "none", Template: true},
	{Name: "DIRECTORY_URL", Template: true},
	{Name: "DIRECTORY_TOKEN_URL", Template: true},
	{Name: "DIRECTORY_CLIENT_ID", Template: true},
	{Name: "DIRECTORY_SECRET", Template: true},
	{Name: "DIRECTORY_USER_POOL_ID", Template: true},
	{Name: "DIRECTORY_CONCURRENCY", Default: "8"},
	{Name: "DIRECTORY_CHANGES", Default: "on"},
	{Name: "REFRESH_QUEUE_URL", Template: true},
	{Name: "REFRESHER_FANOUT_ABOVE", Default: "50000"},
	{Name: "REFRESHER_SHARD_USERS", Default: "1000"},
	{Name: "MASS_REVOCATION_GUARD_PERCENT", Default: "20"},
	{Name: "MASS_REVOCATION_GUARD_MIN_USERS", Default: "5"},
	{Name: "SIGNALS_TRANSMITTERS", Template: true},
	{Name: "SIGNALS_URL", Template: true},
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

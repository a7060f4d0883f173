package config

import "github.com/sessionguard/sessionguard/shared/authorizer"

// Variable is one environment variable the functions read.
type Variable struct {
	Name    string
	Default string // "" with Required: none
	// Functions that read it meaningfully ("*": all).
	Functions []string
	// Required: Load fails without it. Template: template.yaml sets it
	// for those functions (a test holds the template to it).
	Required, Template bool
}

// Variables is every variable Load reads; a test holds Load to this list,
// and the README's configuration table to it.
var Variables = []Variable{
	{Name: "TRUSTED_ISSUERS", Functions: []string{"*"}, Required: true, Template: true},
	{Name: "ENVIRONMENTS", Functions: []string{"*"}, Required: true, Template: true},
	{Name: "TABLE_NAME", Functions: []string{"*"}, Required: true, Template: true},
	{Name: "ENVIRONMENT_SOURCE", Default: "stage", Functions: []string{"authorizer", "sessions"}, Template: true},
	{Name: "ENVIRONMENT_NAME", Default: "environment", Functions: []string{"authorizer", "sessions"}, Template: true},
	{Name: "ENVIRONMENT_HOSTS", Functions: []string{"authorizer", "sessions"}},
	{Name: "AUTHORIZER_RESPONSE", Default: "simple", Functions: []string{"authorizer"}, Template: true},
	{Name: "AUTHORIZER_CACHE_TTL_SECONDS", Default: "0", Functions: []string{"authorizer", "sessions", "settings"}, Template: true},
	{Name: "POLICY_CHECKS", Default: "off", Functions: []string{"authorizer", "sessions", "settings"}, Template: true},
	{Name: "POLICY_CHECK_SLACK_MINUTES", Default: "15", Functions: []string{"authorizer", "sessions", "settings"}},
	{Name: "SESSION_HEADER", Default: authorizer.DefaultSessionHeader, Functions: []string{"authorizer", "sessions"}},
	{Name: "SESSION_COOKIE", Default: authorizer.DefaultSessionCookie, Functions: []string{"authorizer", "sessions"}},
	{Name: "MAX_TOKEN_BYTES", Default: "8192", Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "CLOCK_SKEW_SECONDS", Default: "60", Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "JWKS_MAX_AGE_SECONDS", Default: "900", Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "JWKS_UNKNOWN_KID_COOLDOWN_SECONDS", Default: "300", Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "JWKS_FETCH_TIMEOUT_MS", Default: "2000", Functions: []string{"authorizer", "sessions", "settings", "signals"}},
	{Name: "ADMIN_ROLE", Default: "sessionguard-admin", Functions: []string{"settings"}, Template: true},
	{Name: "SETTINGS_LIMITS", Functions: []string{"settings"}, Template: true},
	{Name: "CONSOLE_AUTHORIZE_URL", Functions: []string{"settings"}, Template: true},
	{Name: "CONSOLE_TOKEN_URL", Functions: []string{"settings"}, Template: true},
	{Name: "CONSOLE_CLIENT_ID", Functions: []string{"settings"}, Template: true},
	{Name: "DIRECTORY", Default: "none", Functions: []string{"refresher"}, Template: true},
	{Name: "DIRECTORY_URL", Functions: []string{"refresher"}, Template: true},
	{Name: "DIRECTORY_TOKEN_URL", Functions: []string{"refresher"}, Template: true},
	{Name: "DIRECTORY_CLIENT_ID", Functions: []string{"refresher"}, Template: true},
	{Name: "DIRECTORY_SECRET", Functions: []string{"refresher"}, Template: true},
	{Name: "DIRECTORY_USER_POOL_ID", Functions: []string{"refresher", "cognitoevents"}, Template: true},
	{Name: "DIRECTORY_CONCURRENCY", Default: "8", Functions: []string{"refresher"}},
	{Name: "DIRECTORY_CHANGES", Default: "on", Functions: []string{"refresher"}},
	{Name: "REFRESH_QUEUE_URL", Functions: []string{"refresher"}, Template: true},
	{Name: "REFRESHER_FANOUT_ABOVE", Default: "50000", Functions: []string{"refresher"}},
	{Name: "REFRESHER_SHARD_USERS", Default: "1000", Functions: []string{"refresher"}},
	{Name: "MASS_REVOCATION_GUARD_PERCENT", Default: "20", Functions: []string{"refresher"}},
	{Name: "MASS_REVOCATION_GUARD_MIN_USERS", Default: "5", Functions: []string{"refresher"}},
	{Name: "SIGNALS_TRANSMITTERS", Functions: []string{"signals", "settings", "signalspoll"}, Template: true},
	{Name: "SIGNALS_URL", Functions: []string{"settings"}, Template: true},
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

// Package config reads the functions' configuration from environment
// variables (named as in template.yaml) and checks it; it builds nothing
// (shared/wiring builds the functions from it). Load reports every
// missing or malformed variable at once. Every variable has a default in
// Variables except TRUSTED_ISSUERS, ENVIRONMENTS and TABLE_NAME. Every
// remote endpoint in it must be https, or plain http only to a loopback
// host (endpoint.Check).
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/endpoint"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/globallogout"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Config is everything the functions read from their environment.
type Config struct {
	Token token.Config
	// AllowedOrigins may call the sessions API from a browser, with
	// credentials (CORS_ALLOWED_ORIGINS; endpoint.Origin's form).
	AllowedOrigins []string
	// KeySetSnapshots: the verifiers keep their key sets in the table and
	// a cold start verifies with them (JWKS_SNAPSHOT, token.Snapshots).
	KeySetSnapshots bool
	Environments    environment.Config
	Enforcement     policy.Enforcement
	Sources         identity.Sources
	// DPoPMaxAge and DPoPMaxFuture bound a DPoP proof's iat: at most this
	// old, at most this far ahead of the clock
	// (DPOP_PROOF_MAX_AGE_SECONDS, DPOP_PROOF_MAX_FUTURE_SECONDS).
	DPoPMaxAge, DPoPMaxFuture time.Duration
	SimpleResponses           bool
	// TableName is the DynamoDB table (TABLE_NAME, required).
	TableName string
	// AdminRole is the role that grants the admin API everywhere;
	// "<AdminRole>:<environment>" grants it for one environment.
	AdminRole string
	// Limits are the ranges settings must fall in (SETTINGS_LIMITS, a
	// JSON object overriding some of policy.DefaultLimits).
	Limits policy.Limits
	// Directory is where the refresher re-checks users.
	Directory Directory
	// Console is the admin console's sign-in at the issuer (CONSOLE_*).
	Console Console
	// Signals are the Shared Signals transmitters whose SETs the signals
	// function accepts (SIGNALS_TRANSMITTERS, the format of
	// TRUSTED_ISSUERS; audiences: this receiver's id).
	Signals []token.Issuer
	// SignalsCredentials name, by transmitter, the secret holding its
	// stream management credential ("credential" in SIGNALS_TRANSMITTERS).
	SignalsCredentials map[string]string
	// SignalsSubjectIssuers list, by transmitter, the TRUSTED_ISSUERS
	// issuers whose users it may revoke ("subjectIssuers" in
	// SIGNALS_TRANSMITTERS); SubjectIssuers applies the default.
	SignalsSubjectIssuers map[string][]string
	// SignalsURL is this deployment's push endpoint, for the streams it
	// sets up (SIGNALS_URL).
	SignalsURL string
	// UniversalLogout are the TRUSTED_ISSUERS entries whose identity
	// provider may end their users' sessions through the global token
	// revocation endpoint ("universalLogout" in an entry), in the order
	// of TRUSTED_ISSUERS.
	UniversalLogout []globallogout.Entry
}

// Console is the admin console's sign-in at the issuer.
type Console struct{ AuthorizeURL, TokenURL, ClientID string }

// Load reads the configuration through getenv (os.Getenv in production).
// An unset variable takes its default in Variables.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	r := newReader(getenv)
	c.loadIssuers(r)
	c.loadEnvironments(r)
	c.loadRequests(r)
	c.loadAdmin(r)
	c.loadDirectory(r)
	if len(r.problems) > 0 {
		return Config{}, errors.New("config: " + strings.Join(r.problems, "; "))
	}
	return c, nil
}

// loadIssuers reads the trusted issuers, the verifier's limits and the
// Shared Signals transmitters.
func (c *Config) loadIssuers(r *reader) {
	if r.getenv("TRUSTED_ISSUERS") == "" {
		if !r.unset["TRUSTED_ISSUERS"] {
			r.bad(`TRUSTED_ISSUERS is required: a JSON list such as [{"issuer":"https://login.example.com/","audiences":["api://app"]}]`)
		}
	} else {
		trusted := r.issuers("TRUSTED_ISSUERS")
		c.Token.Issuers = trusted.issuers
		if len(trusted.credentials) > 0 {
			r.bad("TRUSTED_ISSUERS: credential is for SIGNALS_TRANSMITTERS entries")
		}
		if len(trusted.subjects) > 0 {
			r.bad("TRUSTED_ISSUERS: subjectIssuers is for SIGNALS_TRANSMITTERS entries")
		}
		c.loadUniversalLogout(r, trusted.logouts)
	}
	transmitters := r.issuers("SIGNALS_TRANSMITTERS")
	if len(transmitters.logouts) > 0 {
		r.bad("SIGNALS_TRANSMITTERS: universalLogout is for TRUSTED_ISSUERS entries")
	}
	c.Signals, c.SignalsCredentials, c.SignalsSubjectIssuers = transmitters.issuers, transmitters.credentials, transmitters.subjects
	c.checkTransmitters(r)
	if c.SignalsURL = r.str("SIGNALS_URL"); c.SignalsURL != "" {
		r.checkURL("SIGNALS_URL", c.SignalsURL)
	}
	c.Token.MaxTokenBytes = r.num("MAX_TOKEN_BYTES", 256, 65536)
	c.Token.ClockSkew = time.Duration(r.num("CLOCK_SKEW_SECONDS", 0, int(token.MaxClockSkew/time.Second))) * time.Second
	c.Token.KeySetMaxAge = time.Duration(r.num("JWKS_MAX_AGE_SECONDS", 60, 86400)) * time.Second
	c.Token.UnknownKidCooldown = time.Duration(r.num("JWKS_UNKNOWN_KID_COOLDOWN_SECONDS", 10, 3600)) * time.Second
	c.Token.FetchTimeout = time.Duration(r.num("JWKS_FETCH_TIMEOUT_MS", 100, 5000)) * time.Millisecond
	c.Token.NoCache = !r.onOff("TOKEN_CACHE")
	c.KeySetSnapshots = r.onOff("JWKS_SNAPSHOT")
	c.Token.SnapshotMaxAge = time.Duration(r.num("JWKS_SNAPSHOT_MAX_AGE_SECONDS", 60, int(token.MaxSnapshotMaxAge/time.Second))) * time.Second
}

// loadEnvironments reads the environments served and where a request
// names its own.
func (c *Config) loadEnvironments(r *reader) {
	c.Environments.Source = r.str("ENVIRONMENT_SOURCE")
	c.Environments.Name = r.str("ENVIRONMENT_NAME")
	for _, e := range strings.Split(r.getenv("ENVIRONMENTS"), ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.Environments.Known = append(c.Environments.Known, e)
		}
	}
	if hosts := r.getenv("ENVIRONMENT_HOSTS"); hosts != "" {
		c.Environments.Hosts = map[string]string{}
		for _, pair := range strings.Split(hosts, ",") {
			h, e, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || h == "" || e == "" {
				r.bad("ENVIRONMENT_HOSTS: %q is not host=environment", pair)
				continue
			}
			c.Environments.Hosts[strings.ToLower(h)] = e
		}
	}
	if err := c.Environments.Validate(); err != nil {
		r.bad("ENVIRONMENTS/ENVIRONMENT_SOURCE/ENVIRONMENT_NAME/ENVIRONMENT_HOSTS: %v", err)
	}
}

// loadRequests reads how requests are judged and answered: the
// authorizer's answer and cache, the policy checks, the identity sources
// and the table.
func (c *Config) loadRequests(r *reader) {
	switch v := r.str("AUTHORIZER_RESPONSE"); v {
	case "simple":
		c.SimpleResponses = true
	case "iam":
	default:
		r.bad("AUTHORIZER_RESPONSE=%q: want simple or iam", v)
	}
	c.Enforcement.Horizon = time.Duration(r.num("AUTHORIZER_CACHE_TTL_SECONDS", 0, 3600)) * time.Second
	c.Enforcement.PolicyChecks = r.onOff("POLICY_CHECKS")
	c.Enforcement.CheckSlack = time.Duration(r.num("POLICY_CHECK_SLACK_MINUTES", 0, 1440)) * time.Minute
	c.DPoPMaxAge = time.Duration(r.num("DPOP_PROOF_MAX_AGE_SECONDS", 5, 300)) * time.Second
	c.DPoPMaxFuture = time.Duration(r.num("DPOP_PROOF_MAX_FUTURE_SECONDS", 0, 60)) * time.Second
	c.Sources.SessionHeader = r.str("SESSION_HEADER")
	c.Sources.SessionCookie = r.str("SESSION_COOKIE")
	for _, o := range strings.Split(r.str("CORS_ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if origin, err := endpoint.Origin(o); err != nil {
			r.bad("CORS_ALLOWED_ORIGINS: %v", err)
		} else {
			c.AllowedOrigins = append(c.AllowedOrigins, origin)
		}
	}
	c.TableName = r.str("TABLE_NAME")
	if c.TableName == "" && !r.unset["TABLE_NAME"] {
		r.bad("TABLE_NAME is required: the DynamoDB table of sessions and settings")
	}
}

// loadAdmin reads the admin API's role, the settings' ranges and the
// console's sign-in.
func (c *Config) loadAdmin(r *reader) {
	c.AdminRole = r.str("ADMIN_ROLE")
	c.Limits = policy.DefaultLimits()
	if raw := r.getenv("SETTINGS_LIMITS"); raw != "" {
		if err := decodeStrict(raw, &c.Limits); err != nil {
			r.bad("SETTINGS_LIMITS: %v", err)
		}
		if err := c.Limits.Check(); err != nil {
			r.bad("SETTINGS_LIMITS: %v", err)
		}
	}
	c.Console.AuthorizeURL, c.Console.TokenURL, c.Console.ClientID = r.str("CONSOLE_AUTHORIZE_URL"), r.str("CONSOLE_TOKEN_URL"), r.str("CONSOLE_CLIENT_ID")
	if c.Console.AuthorizeURL != "" {
		r.checkURL("CONSOLE_AUTHORIZE_URL", c.Console.AuthorizeURL)
	}
	if c.Console.TokenURL != "" {
		r.checkURL("CONSOLE_TOKEN_URL", c.Console.TokenURL)
	}
}

// A reader reads variables for Load and collects every problem.
type reader struct {
	getenv   func(string) string
	problems []string
	unset    map[string]bool // holding a placeholder
}

// newReader reads through getenv; a required variable holding its
// placeholder is reported once and then read as unset.
func newReader(getenv func(string) string) *reader {
	r := &reader{getenv: getenv, unset: map[string]bool{}}
	for _, p := range Placeholders {
		if strings.TrimSpace(getenv(p.Variable)) == p.Name {
			r.unset[p.Variable] = true
			r.bad("%s is %q, the template's name for its value, not a value (sam local passes the name when the template has no value for it): set %s, e.g. with sam local --env-vars env.json", p.Variable, p.Name, p.Variable)
		}
	}
	if len(r.unset) > 0 {
		r.getenv = func(name string) string {
			if r.unset[name] {
				return ""
			}
			return getenv(name)
		}
	}
	return r
}

func (r *reader) bad(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// str is the variable's value, spaces trimmed, or its default.
func (r *reader) str(name string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return defaultOf(name)
}

// num is the variable's value, or its default, as a whole number from lo
// to hi.
func (r *reader) num(name string, lo, hi int) int {
	v := r.getenv(name)
	if v == "" {
		v = defaultOf(name)
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		r.bad("%s=%q: want a whole number from %d to %d", name, v, lo, hi)
		return 0
	}
	return n
}

// onOff is the variable's value, or its default, as on (true) or off.
func (r *reader) onOff(name string) bool {
	switch v := r.str(name); v {
	case "on":
		return true
	case "off":
	default:
		r.bad("%s=%q: want on or off", name, v)
	}
	return false
}

// Package config reads the functions' configuration from environment
// variables (named as in template.yaml). Load reports every missing or
// malformed variable at once. Every variable has a documented default
// except TRUSTED_ISSUERS and ENVIRONMENTS. Every remote endpoint in it
// must be https, or plain http only to a loopback host (endpoint.Check).
package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/authorizer"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/endpoint"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/secrets"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Config is everything the functions read from their environment.
type Config struct {
	Token           token.Config
	Environments    authorizer.Environments
	Enforcement     policy.Enforcement
	Sources         authorizer.Sources
	SimpleResponses bool
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
}

// Console is the admin console's sign-in at the issuer.
type Console struct{ AuthorizeURL, TokenURL, ClientID string }

// Directory configures the refresher's directory (DIRECTORY_*).
type Directory struct {
	Kind        string // none, graph, scim, http or cognito
	UserPoolID  string // cognito: the user pool
	URL         string // graph: the Graph base URL (default v1.0); scim/http: the base URL
	TokenURL    string // graph: the tenant's token endpoint
	ClientID    string // graph: the app's client id
	SecretRef   string // graph: the client secret; scim/http: a bearer token (optional). Secrets Manager id/ARN or ssm:<name>
	Concurrency int
	GuardShare  float64
	GuardMin    int
	// Changes: graph and scim runs read the directory's changes first
	// (users/delta; a meta.lastModified filter) (DIRECTORY_CHANGES).
	Changes bool
	// QueueURL is the refresh queue (REFRESH_QUEUE_URL): a due set above
	// FanOutAbove users is split into shards of ShardUsers for workers.
	QueueURL    string
	FanOutAbove int
	ShardUsers  int
}

// Verifier builds the token verifier and fetches its key sets, as a cold
// start does; a failed fetch is logged and retried on use, not fatal.
func (c Config) Verifier(ctx context.Context, log *slog.Logger) (*token.Verifier, error) {
	v, err := token.NewVerifier(c.Token)
	if err != nil {
		return nil, err
	}
	if err := v.Prefetch(ctx); err != nil {
		log.Warn("start: key sets not fetched; retrying on use", "err", err)
	}
	return v, nil
}

// issuerJSON is one element of TRUSTED_ISSUERS.
type issuerJSON struct {
	Issuer      string   `json:"issuer"`
	JWKSURL     string   `json:"jwksUrl"`
	Profile     string   `json:"profile"`
	ClientIDs   []string `json:"clientIds"`
	Tenants     []string `json:"tenants"`
	Audiences   []string `json:"audiences"`
	Algorithms  []string `json:"algorithms"`
	UserClaim   string   `json:"userClaim"`
	TenantClaim string   `json:"tenantClaim"`
	RoleClaim   string   `json:"roleClaim"`
	// GrantsAdmin (TRUSTED_ISSUERS only): the admin API takes the admin
	// role from this issuer's tokens (AdminIssuers).
	GrantsAdmin bool `json:"grantsAdmin"`
	// Credential (SIGNALS_TRANSMITTERS only) names the secret holding the
	// transmitter's bearer credential for its stream management API.
	Credential string `json:"credential"`
	// SubjectIssuers (SIGNALS_TRANSMITTERS only) are the TRUSTED_ISSUERS
	// issuers whose users the transmitter may revoke.
	SubjectIssuers []string `json:"subjectIssuers"`
}

// issuerList is a parsed TRUSTED_ISSUERS or SIGNALS_TRANSMITTERS.
type issuerList struct {
	issuers     []token.Issuer
	credentials map[string]string   // by issuer, when set
	subjects    map[string][]string // by issuer, when set (an empty list too)
}

// issuersOf reads a JSON list of issuers from the variable name; the key
// set of each must be read over https (or from a loopback host).
func issuersOf(getenv func(string) string, name string, bad func(string, ...any)) issuerList {
	raw := getenv(name)
	if raw == "" {
		return issuerList{}
	}
	var issuers []issuerJSON
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&issuers); err != nil {
		bad("%s: %v", name, err)
		return issuerList{}
	}
	out := issuerList{credentials: map[string]string{}, subjects: map[string][]string{}}
	for _, is := range issuers {
		if is.Credential != "" {
			out.credentials[is.Issuer] = is.Credential
		}
		if is.SubjectIssuers != nil {
			out.subjects[is.Issuer] = is.SubjectIssuers
		}
		ti := token.Issuer{
			Issuer: is.Issuer, JWKSURL: is.JWKSURL, Audiences: is.Audiences, Profile: is.Profile, ClientIDs: is.ClientIDs, Tenants: is.Tenants,
			Algorithms: is.Algorithms, UserClaim: is.UserClaim, TenantClaim: is.TenantClaim, RoleClaim: is.RoleClaim, GrantsAdmin: is.GrantsAdmin,
		}
		if u, discovered := ti.KeySetURL(); discovered {
			checkURL(bad, fmt.Sprintf("%s: issuer %q has no jwksUrl, so its key set is found through its discovery document", name, is.Issuer), u)
		} else {
			checkURL(bad, fmt.Sprintf("%s: issuer %q: jwksUrl", name, is.Issuer), u)
		}
		out.issuers = append(out.issuers, ti)
	}
	return out
}

// checkURL reports u, named what, unless endpoint.Check allows it.
func checkURL(bad func(string, ...any), what, u string) {
	if err := endpoint.Check(u); err != nil {
		bad("%s: %v", what, err)
	}
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

// Load reads the configuration through getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	unset := map[string]bool{} // holding a placeholder
	for _, p := range Placeholders {
		if strings.TrimSpace(getenv(p.Variable)) == p.Name {
			unset[p.Variable] = true
			bad("%s is %q, the template's name for its value, not a value (sam local passes the name when the template has no value for it): set %s, e.g. with sam local --env-vars env.json", p.Variable, p.Name, p.Variable)
		}
	}
	if len(unset) > 0 {
		env := getenv
		getenv = func(name string) string {
			if unset[name] {
				return ""
			}
			return env(name)
		}
	}
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	num := func(name string, def, lo, hi int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			bad("%s=%q: want a whole number from %d to %d", name, v, lo, hi)
			return def
		}
		return n
	}

	if getenv("TRUSTED_ISSUERS") == "" {
		if !unset["TRUSTED_ISSUERS"] {
			bad(`TRUSTED_ISSUERS is required: a JSON list such as [{"issuer":"https://login.example.com/","audiences":["api://app"]}]`)
		}
	} else {
		trusted := issuersOf(getenv, "TRUSTED_ISSUERS", bad)
		c.Token.Issuers = trusted.issuers
		if len(trusted.credentials) > 0 {
			bad("TRUSTED_ISSUERS: credential is for SIGNALS_TRANSMITTERS entries")
		}
		if len(trusted.subjects) > 0 {
			bad("TRUSTED_ISSUERS: subjectIssuers is for SIGNALS_TRANSMITTERS entries")
		}
	}
	transmitters := issuersOf(getenv, "SIGNALS_TRANSMITTERS", bad)
	c.Signals, c.SignalsCredentials, c.SignalsSubjectIssuers = transmitters.issuers, transmitters.credentials, transmitters.subjects
	c.checkTransmitters(bad)
	c.SignalsURL = str("SIGNALS_URL", "")
	if c.SignalsURL != "" {
		checkURL(bad, "SIGNALS_URL", c.SignalsURL)
	}
	c.Token.MaxTokenBytes = num("MAX_TOKEN_BYTES", 8192, 256, 65536)
	c.Token.ClockSkew = time.Duration(num("CLOCK_SKEW_SECONDS", 60, 0, 300)) * time.Second
	c.Token.KeySetMaxAge = time.Duration(num("JWKS_MAX_AGE_SECONDS", 900, 60, 86400)) * time.Second
	c.Token.UnknownKidCooldown = time.Duration(num("JWKS_UNKNOWN_KID_COOLDOWN_SECONDS", 300, 10, 3600)) * time.Second
	c.Token.FetchTimeout = time.Duration(num("JWKS_FETCH_TIMEOUT_MS", 2000, 100, 5000)) * time.Millisecond

	c.Environments.Source = str("ENVIRONMENT_SOURCE", "stage")
	c.Environments.Name = str("ENVIRONMENT_NAME", "environment")
	for _, e := range strings.Split(getenv("ENVIRONMENTS"), ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.Environments.Known = append(c.Environments.Known, e)
		}
	}
	if hosts := getenv("ENVIRONMENT_HOSTS"); hosts != "" {
		c.Environments.Hosts = map[string]string{}
		for _, pair := range strings.Split(hosts, ",") {
			h, e, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || h == "" || e == "" {
				bad("ENVIRONMENT_HOSTS: %q is not host=environment", pair)
				continue
			}
			c.Environments.Hosts[strings.ToLower(h)] = e
		}
	}
	if err := c.Environments.Validate(); err != nil {
		bad("ENVIRONMENTS/ENVIRONMENT_SOURCE/ENVIRONMENT_NAME/ENVIRONMENT_HOSTS: %v", err)
	}

	switch v := str("AUTHORIZER_RESPONSE", "simple"); v {
	case "simple":
		c.SimpleResponses = true
	case "iam":
	default:
		bad("AUTHORIZER_RESPONSE=%q: want simple or iam", v)
	}
	c.Enforcement.Horizon = time.Duration(num("AUTHORIZER_CACHE_TTL_SECONDS", 0, 0, 3600)) * time.Second
	switch v := str("POLICY_CHECKS", "off"); v {
	case "on":
		c.Enforcement.PolicyChecks = true
	case "off":
	default:
		bad("POLICY_CHECKS=%q: want on or off", v)
	}
	c.Enforcement.CheckSlack = time.Duration(num("POLICY_CHECK_SLACK_MINUTES", 15, 0, 1440)) * time.Minute
	c.Sources.SessionHeader = str("SESSION_HEADER", authorizer.DefaultSessionHeader)
	c.Sources.SessionCookie = str("SESSION_COOKIE", authorizer.DefaultSessionCookie)

	c.TableName = str("TABLE_NAME", "")
	if c.TableName == "" && !unset["TABLE_NAME"] {
		bad("TABLE_NAME is required: the DynamoDB table of sessions and settings")
	}
	c.AdminRole = str("ADMIN_ROLE", "sessionguard-admin")
	c.Limits = policy.DefaultLimits()
	if raw := getenv("SETTINGS_LIMITS"); raw != "" {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.Limits); err != nil {
			bad("SETTINGS_LIMITS: %v", err)
		}
		if err := c.Limits.Check(); err != nil {
			bad("SETTINGS_LIMITS: %v", err)
		}
	}

	c.Console.AuthorizeURL, c.Console.TokenURL, c.Console.ClientID = str("CONSOLE_AUTHORIZE_URL", ""), str("CONSOLE_TOKEN_URL", ""), str("CONSOLE_CLIENT_ID", "")
	if c.Console.AuthorizeURL != "" {
		checkURL(bad, "CONSOLE_AUTHORIZE_URL", c.Console.AuthorizeURL)
	}
	if c.Console.TokenURL != "" {
		checkURL(bad, "CONSOLE_TOKEN_URL", c.Console.TokenURL)
	}

	d := &c.Directory
	d.Kind = str("DIRECTORY", "none")
	d.URL, d.TokenURL, d.ClientID, d.SecretRef = str("DIRECTORY_URL", ""), str("DIRECTORY_TOKEN_URL", ""), str("DIRECTORY_CLIENT_ID", ""), str("DIRECTORY_SECRET", "")
	d.UserPoolID = str("DIRECTORY_USER_POOL_ID", "")
	if d.URL != "" {
		checkURL(bad, "DIRECTORY_URL", d.URL)
	}
	if d.TokenURL != "" {
		checkURL(bad, "DIRECTORY_TOKEN_URL", d.TokenURL)
	}
	switch d.Kind {
	case "none":
	case "graph":
		if d.TokenURL == "" || d.ClientID == "" || d.SecretRef == "" {
			bad("DIRECTORY=graph needs DIRECTORY_TOKEN_URL, DIRECTORY_CLIENT_ID and DIRECTORY_SECRET")
		}
	case "scim", "http":
		if d.URL == "" {
			bad("DIRECTORY=%s needs DIRECTORY_URL", d.Kind)
		}
	case "cognito":
		if d.UserPoolID == "" {
			bad("DIRECTORY=cognito needs DIRECTORY_USER_POOL_ID")
		} else if _, ok := directory.PoolIssuer(c.IssuerNames(), d.UserPoolID); !ok {
			bad("DIRECTORY_USER_POOL_ID=%q: no TRUSTED_ISSUERS entry is that user pool's issuer", d.UserPoolID)
		}
	default:
		bad("DIRECTORY=%q: want none, graph, scim, http or cognito", d.Kind)
	}
	switch v := str("DIRECTORY_CHANGES", "on"); v {
	case "on":
		d.Changes = d.Kind == "graph" || d.Kind == "scim"
	case "off":
	default:
		bad("DIRECTORY_CHANGES=%q: want on or off", v)
	}
	d.QueueURL = str("REFRESH_QUEUE_URL", "")
	d.FanOutAbove = num("REFRESHER_FANOUT_ABOVE", 50000, 1, 10000000)
	d.ShardUsers = num("REFRESHER_SHARD_USERS", 1000, 10, 1500)
	d.Concurrency = num("DIRECTORY_CONCURRENCY", 8, 1, 64)
	d.GuardShare = float64(num("MASS_REVOCATION_GUARD_PERCENT", 20, 1, 100)) / 100
	d.GuardMin = num("MASS_REVOCATION_GUARD_MIN_USERS", 5, 1, 100000)

	if len(problems) > 0 {
		return Config{}, errors.New("config: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// checkTransmitters holds each SIGNALS_TRANSMITTERS entry to its scope:
// its subjectIssuers must be trusted issuers, and with several trusted
// issuers an entry must list them (it cannot default to the one); its
// issuer is where its Shared Signals metadata is read (the metadata names
// the stream endpoints, which are sent its credential), so it must be
// https. grantsAdmin is for TRUSTED_ISSUERS entries.
func (c Config) checkTransmitters(bad func(string, ...any)) {
	trusted := c.IssuerNames()
	for _, t := range c.Signals {
		if t.GrantsAdmin {
			bad("SIGNALS_TRANSMITTERS: transmitter %q: grantsAdmin is for TRUSTED_ISSUERS entries", t.Issuer)
		}
		checkURL(bad, fmt.Sprintf("SIGNALS_TRANSMITTERS: transmitter %q: its Shared Signals metadata is read under the issuer", t.Issuer), t.Issuer)
		subjects, ok := c.SignalsSubjectIssuers[t.Issuer]
		switch {
		case !ok && len(trusted) > 1:
			bad("SIGNALS_TRANSMITTERS: transmitter %q has no subjectIssuers: with %d TRUSTED_ISSUERS entries, list the issuers whose users it may revoke", t.Issuer, len(trusted))
		case ok && len(subjects) == 0:
			bad("SIGNALS_TRANSMITTERS: transmitter %q: subjectIssuers is empty: list the TRUSTED_ISSUERS issuers whose users it may revoke", t.Issuer)
		}
		for _, s := range subjects {
			if !slices.Contains(trusted, s) {
				bad("SIGNALS_TRANSMITTERS: transmitter %q: subjectIssuers: %q is not a TRUSTED_ISSUERS issuer", t.Issuer, s)
			}
		}
	}
}

// SubjectIssuers lists, by transmitter, the trusted issuers whose users
// it may revoke: its subjectIssuers, or, when it has none and there is
// exactly one trusted issuer, that one. A transmitter without either
// revokes no one (Load refuses that configuration).
func (c Config) SubjectIssuers() map[string][]string {
	out := map[string][]string{}
	for _, t := range c.Signals {
		if s, ok := c.SignalsSubjectIssuers[t.Issuer]; ok {
			out[t.Issuer] = s
		} else if len(c.Token.Issuers) == 1 {
			out[t.Issuer] = []string{c.Token.Issuers[0].Issuer}
		}
	}
	return out
}

// AdminIssuers lists the trusted issuers whose tokens may carry the admin
// role: the entries with grantsAdmin, or, when none has it and there is
// exactly one single-tenant entry, that one. With several and none marked,
// or one multi-tenant entry (whose every tenant would grant it), it is
// empty: the admin API refuses everyone.
func (c Config) AdminIssuers() []string {
	var out []string
	for _, is := range c.Token.Issuers {
		if is.GrantsAdmin {
			out = append(out, is.Issuer)
		}
	}
	if len(out) == 0 && len(c.Token.Issuers) == 1 && !strings.Contains(c.Token.Issuers[0].Issuer, token.TenantPlaceholder) {
		out = []string{c.Token.Issuers[0].Issuer}
	}
	return out
}

// IssuerNames lists the trusted issuers' "iss" values.
func (c Config) IssuerNames() []string {
	out := make([]string, len(c.Token.Issuers))
	for i, is := range c.Token.Issuers {
		out[i] = is.Issuer
	}
	return out
}

// DirectoryKeys maps a directory id (Graph's object id) to the keys its
// user may have in the store: under each trusted issuer, the id, or
// "tenant/id" for an issuer with a tenant claim (Entra's tid), the tenant
// being the one in DIRECTORY_TOKEN_URL.
func (c Config) DirectoryKeys(id string) []session.UserKey {
	tenant := ""
	if u, err := url.Parse(c.Directory.TokenURL); err == nil {
		tenant, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	}
	out := make([]session.UserKey, 0, len(c.Token.Issuers))
	for _, is := range c.Token.Issuers {
		sub := id
		if tc := is.TenantClaim; tc != "" || token.Profiles[is.Profile].TenantClaim != "" {
			sub = tenant + "/" + id
		}
		out = append(out, session.UserKey{Issuer: is.Issuer, Subject: sub})
	}
	return out
}

// NewDirectory builds the configured directory adapter, reading its secret
// through the Parameters and Secrets extension; a Cognito directory finds
// usernames in usernames (the store).
func (c Config) NewDirectory(ctx context.Context, usernames directory.Usernames) (refresher.Directory, error) {
	d := c.Directory
	secret := ""
	if d.SecretRef != "" {
		var err error
		if secret, err = secrets.Get(ctx, d.SecretRef); err != nil {
			return nil, err
		}
	}
	switch d.Kind {
	case "graph":
		return &directory.Graph{TokenURL: d.TokenURL, GraphURL: d.URL, ClientID: d.ClientID, ClientSecret: secret}, nil
	case "scim":
		return &directory.SCIM{BaseURL: d.URL, Token: secret}, nil
	case "http":
		return &directory.HTTPJSON{BaseURL: d.URL, Token: secret}, nil
	case "cognito":
		client, err := directory.NewCognitoClient(ctx)
		if err != nil {
			return nil, err
		}
		iss, _ := directory.PoolIssuer(c.IssuerNames(), d.UserPoolID)
		return &directory.Cognito{Client: client, UserPoolID: d.UserPoolID, Issuer: iss, Usernames: usernames}, nil
	}
	return nil, errors.New("config: DIRECTORY is none: the refresher has no directory to check users against")
}

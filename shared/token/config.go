package token

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// Issuer is one trusted token issuer.
type Issuer struct {
	// Issuer is the exact "iss" value.
	Issuer string
	// JWKSURL is where the key set lives. Empty: read jwks_uri from the
	// issuer's OIDC discovery document.
	JWKSURL string
	// Audiences are the accepted "aud" values; a token must carry one
	// (unless its profile's audience rule says otherwise).
	Audiences []string
	// Profile names the issuer's profile (ProfileNamed): how its tokens are
	// shaped. Default oidc.
	Profile string
	// ClientIDs, when set, are the only clients whose tokens are accepted,
	// whatever the profile. The cognito and google profiles need them.
	ClientIDs []string
	// Tenants are the accepted tenants of a multi-tenant Entra issuer
	// ("https://login.microsoftonline.com/{tenantid}/v2.0"): each token's
	// tid fills the placeholder, the result must equal its iss, and the
	// tenant must be listed.
	Tenants []string
	// Algorithms is the allow-list of "alg" values. Default: RS256.
	Algorithms []string
	// UserClaim names the claim that identifies the user. Default: the
	// profile's (sub; entra oid, okta uid).
	UserClaim string
	// TenantClaim, when set (Entra: tid), is prefixed to the user claim:
	// the subject becomes "<tid>/<oid>". Default: the profile's.
	TenantClaim string
	// RoleClaim names the claim that lists the user's roles (a string or
	// an array of strings), read when Config.Roles is set. Default: the
	// profile's (roles; cognito cognito:groups).
	RoleClaim string
	// GrantsAdmin marks an issuer whose role claim may carry the admin
	// role (the admin API reads it through Claims.TrustedIssuer; the
	// verifier itself does not use it).
	GrantsAdmin bool
}

// KeySetURL is where the issuer's keys are read from: JWKSURL, else the
// profile's key-set path under the issuer (cognito), else every Entra
// tenant's keys (a multi-tenant entry), else the issuer's OIDC discovery
// document (discovered true), which names the key set's URL.
func (is Issuer) KeySetURL() (u string, discovered bool) {
	p := profiles[firstNonEmpty(is.Profile, "oidc")]
	switch {
	case is.JWKSURL != "":
		return is.JWKSURL, false
	case p.JWKSPath != "":
		return strings.TrimSuffix(is.Issuer, "/") + p.JWKSPath, false
	case strings.Contains(is.Issuer, TenantPlaceholder):
		return "https://login.microsoftonline.com/common/discovery/v2.0/keys", false // every tenant's keys
	}
	return strings.TrimSuffix(is.Issuer, "/") + "/.well-known/openid-configuration", true
}

// UserClaims names the claims that key the issuer's users: the user
// claim (UserClaim, else the profile's, else sub) and the tenant claim
// prefixed to it (TenantClaim, else the profile's; "" for none).
func (is Issuer) UserClaims() (user, tenant string) {
	p := profiles[firstNonEmpty(is.Profile, "oidc")]
	return firstNonEmpty(is.UserClaim, p.UserClaim, "sub"), firstNonEmpty(is.TenantClaim, p.TenantClaim)
}

// The verifier's defaults: a Config field left zero takes its default
// here, and config.Load gives an unset variable the same value.
const (
	DefaultMaxTokenBytes      = 8192
	DefaultClockSkew          = 60 * time.Second
	DefaultKeySetMaxAge       = 15 * time.Minute
	DefaultUnknownKidCooldown = 5 * time.Minute
	DefaultRetryAfterFailure  = 10 * time.Second
	DefaultFetchTimeout       = 2 * time.Second
)

// MaxClockSkew is the largest clock skew a verifier accepts.
const MaxClockSkew = 5 * time.Minute

// Config configures a Verifier. Zero durations and sizes take the
// defaults above.
type Config struct {
	Issuers []Issuer
	// MaxTokenBytes caps the token's length. Default DefaultMaxTokenBytes.
	MaxTokenBytes int
	// ClockSkew is the tolerance for exp, nbf and iat. Default
	// DefaultClockSkew, at most MaxClockSkew.
	ClockSkew time.Duration
	// KeySetMaxAge is how long a fetched key set is used before the next
	// verification refreshes it. Default DefaultKeySetMaxAge.
	KeySetMaxAge time.Duration
	// UnknownKidCooldown is the least time between two fetches triggered by
	// an unknown kid, per issuer. Default DefaultUnknownKidCooldown.
	UnknownKidCooldown time.Duration
	// RetryAfterFailure is the least time between two fetches after one
	// failed, so an outage does not cost every request a timeout. Default
	// DefaultRetryAfterFailure.
	RetryAfterFailure time.Duration
	// FetchTimeout bounds one key-set or discovery fetch. Default
	// DefaultFetchTimeout, well inside API Gateway's 10s authorizer limit.
	FetchTimeout time.Duration
	// HTTPClient fetches key sets. Default: a client that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Roles fills Claims.Roles from each issuer's RoleClaim. Off for the
	// authorizer, which does not need roles and saves the payload scan.
	Roles bool
	// NoCache turns off the cache of verified access tokens (cache.go):
	// every Verify then checks the signature.
	NoCache bool
	// Snapshots, when set, keeps a copy of every key set fetched, and
	// Prefetch verifies with a copy younger than SnapshotMaxAge instead of
	// asking the IdP (snapshot.go). Nil: no snapshots.
	Snapshots Snapshots
	// SnapshotMaxAge is the age past which a snapshot is not used.
	// Default DefaultSnapshotMaxAge.
	SnapshotMaxAge time.Duration
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	issuers map[string]issuerRef // by every exact "iss" accepted
	cache   *tokenCache          // nil with Config.NoCache
}

type issuer struct {
	Issuer
	profile Profile
	keys    *keyCache
}

// issuerRef is an accepted "iss": its issuer entry and, for a
// multi-tenant entry, the tenant that spelling belongs to.
type issuerRef struct {
	*issuer
	tenant string
}

// allowedAlgs are the algorithms a verifier can check. HMAC is absent on
// purpose: an asymmetric issuer's public key must never serve as a secret.
var allowedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// NewVerifier checks cfg and returns a Verifier. Key sets are fetched on
// first use, or by Prefetch at cold start.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.MaxTokenBytes == 0 {
		cfg.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
	}
	if cfg.KeySetMaxAge == 0 {
		cfg.KeySetMaxAge = DefaultKeySetMaxAge
	}
	if cfg.UnknownKidCooldown == 0 {
		cfg.UnknownKidCooldown = DefaultUnknownKidCooldown
	}
	if cfg.RetryAfterFailure == 0 {
		cfg.RetryAfterFailure = DefaultRetryAfterFailure
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	if cfg.SnapshotMaxAge == 0 {
		cfg.SnapshotMaxAge = DefaultSnapshotMaxAge
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed for key sets")
		}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var problems []string
	if len(cfg.Issuers) == 0 {
		problems = append(problems, "no trusted issuers")
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew {
		problems = append(problems, fmt.Sprintf("clock skew %v is outside 0..5m", cfg.ClockSkew))
	}
	if cfg.SnapshotMaxAge < 0 || cfg.SnapshotMaxAge > MaxSnapshotMaxAge {
		problems = append(problems, fmt.Sprintf("key-set snapshot max age %v is outside 0..%v", cfg.SnapshotMaxAge, MaxSnapshotMaxAge))
	}
	if cfg.MaxTokenBytes < 256 || cfg.MaxTokenBytes > 64<<10 {
		problems = append(problems, fmt.Sprintf("max token bytes %d is outside 256..65536", cfg.MaxTokenBytes))
	}
	v := &Verifier{cfg: cfg, issuers: make(map[string]issuerRef, len(cfg.Issuers))}
	if !cfg.NoCache {
		v.cache = newTokenCache(DefaultCacheEntries)
	}
	for _, is := range cfg.Issuers {
		problems = append(problems, v.addIssuer(is)...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("token: invalid config: %s", strings.Join(problems, "; "))
	}
	return v, nil
}

// addIssuer checks one issuer entry against its profile and adds every
// spelling of its "iss"; it returns what is wrong with the entry.
func (v *Verifier) addIssuer(is Issuer) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("issuer %q: ", is.Issuer)+fmt.Sprintf(format, args...))
	}
	if is.Issuer == "" {
		return []string{"an issuer has an empty issuer value"}
	}
	if is.Profile == "" {
		is.Profile = "oidc"
	}
	p, ok := profiles[is.Profile]
	if !ok {
		bad("profile %q is not one of %s", is.Profile, strings.Join(ProfileNames(), ", "))
		return problems
	}
	switch p.Audience {
	case AudienceListed:
		if len(is.Audiences) == 0 {
			bad("profile %s needs audiences", p.Name)
		}
		if i := slices.IndexFunc(is.Audiences, func(a string) bool { return slices.Contains(is.ClientIDs, a) }); i >= 0 && p.audienceAlone() {
			bad("audience %q is also a client id: under profile %s the audience alone tells access tokens from ID tokens (whose aud is the client id), so that client's ID tokens would pass; list the API's audience, or use a profile that types access tokens (rfc9068)", is.Audiences[i], p.Name)
		}
	case AudienceNone, AudienceClient:
		if len(is.ClientIDs) == 0 {
			bad("profile %s needs clientIds", p.Name)
		}
	case AudienceListedOrAccountClient:
		if len(is.Audiences) == 0 && len(is.ClientIDs) == 0 {
			bad("profile %s needs audiences (with an audience mapper) or clientIds", p.Name)
		}
	}
	multiTenant := strings.Contains(is.Issuer, TenantPlaceholder)
	switch {
	case multiTenant && p.Name != "entra":
		bad("only the entra profile takes %s in the issuer", TenantPlaceholder)
	case multiTenant && len(is.Tenants) == 0:
		bad("a multi-tenant issuer needs tenants: the tenant ids accepted")
	case !multiTenant && len(is.Tenants) > 0:
		bad("tenants are for a multi-tenant issuer (with %s)", TenantPlaceholder)
	case multiTenant && is.GrantsAdmin:
		bad("grantsAdmin cannot be set on a multi-tenant issuer: every listed tenant could make its users admins; list your own tenant as an entry of its own with grantsAdmin")
	}
	if len(is.Algorithms) == 0 {
		is.Algorithms = []string{"RS256"}
	}
	for _, a := range is.Algorithms {
		if !slices.Contains(allowedAlgs, a) {
			bad("algorithm %q is not allowed (allowed: %s)", a, strings.Join(allowedAlgs, ", "))
		}
	}
	is.UserClaim, is.TenantClaim = is.UserClaims()
	is.RoleClaim = firstNonEmpty(is.RoleClaim, p.RoleClaim, "roles")
	jwksURL, discovered := is.KeySetURL()
	if err := endpoint.Check(jwksURL); err != nil {
		if discovered {
			bad("no jwksUrl, so the key set is found through the discovery document, which must be https: %v", err)
		} else {
			bad("jwksUrl: %v", err)
		}
	}
	entry := &issuer{Issuer: is, profile: p, keys: newKeyCache(is.Issuer, jwksURL, discovered, &v.cfg)}
	add := func(iss, tenant string) {
		if _, dup := v.issuers[iss]; dup {
			problems = append(problems, fmt.Sprintf("issuer %q is listed twice", iss))
			return
		}
		v.issuers[iss] = issuerRef{issuer: entry, tenant: tenant}
	}
	spellings := func(iss, tenant string) {
		add(iss, tenant)
		if p.Variants != nil {
			for _, alt := range p.Variants(iss) {
				add(alt, tenant)
			}
		}
	}
	if !multiTenant {
		spellings(is.Issuer, "")
		return problems
	}
	for _, t := range is.Tenants {
		if t == "" || strings.ContainsAny(t, "/{}") {
			bad("tenant %q is not a tenant id", t)
			continue
		}
		spellings(strings.ReplaceAll(is.Issuer, TenantPlaceholder, t), t)
	}
	return problems
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

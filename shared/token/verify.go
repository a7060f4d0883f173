// Package token verifies IdP access tokens (JWS compact JWTs) against the
// key sets of a fixed list of trusted issuers.
//
// Keys come only from each issuer's configured JWKS URL (or its OIDC
// discovery document); jku, x5u, jwk and x5c headers are never followed.
// Both, and a jwks_uri a discovery document names, must be https (plain
// http only to a loopback host): endpoint.Check.
// Verification itself runs over crypto/* with keys parsed in advance by jwx,
// so the per-request cost stays close to the bare signature check.
package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/endpoint"
	"github.com/sessionguard/sessionguard/shared/reason"
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
	// Profile names the issuer's profile (Profiles): how its tokens are
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
	// UserClaim names the claim that identifies the user. Default: sub.
	// Entra deployments use oid.
	// Default: the profile's (sub; entra oid, okta uid).
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

// Config configures a Verifier. Zero durations take the documented defaults.
type Config struct {
	Issuers []Issuer
	// MaxTokenBytes caps the token's length. Default 8192.
	MaxTokenBytes int
	// ClockSkew is the tolerance for exp, nbf and iat. Default 60s, at most 5m.
	ClockSkew time.Duration
	// KeySetMaxAge is how long a fetched key set is used before the next
	// verification refreshes it. Default 15m.
	KeySetMaxAge time.Duration
	// UnknownKidCooldown is the least time between two fetches triggered by
	// an unknown kid, per issuer. Default 5m.
	UnknownKidCooldown time.Duration
	// RetryAfterFailure is the least time between two fetches after one
	// failed, so an outage does not cost every request a timeout. Default 10s.
	RetryAfterFailure time.Duration
	// FetchTimeout bounds one key-set or discovery fetch. Default 2s, well
	// inside API Gateway's 10s authorizer limit.
	FetchTimeout time.Duration
	// HTTPClient fetches key sets. Default: a client that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Roles fills Claims.Roles from each issuer's RoleClaim. Off for the
	// authorizer, which does not need roles and saves the payload scan.
	Roles bool
}

// Claims is what sessionguard uses of a verified token.
type Claims struct {
	// Issuer is the configured entry that accepted the token, in the
	// entry's own spelling: one value for every spelling of that issuer
	// (Google's bare issuer, Entra's v1 and v2 issuers, each tenant of a
	// multi-tenant entry, whose users' subjects carry their tenant). A
	// user's key, sign-out and revocations are recorded under it, so no
	// spelling escapes them.
	Issuer string
	// TokenIssuer is the token's own iss.
	TokenIssuer string
	Subject     string // the configured user claim, tenant-prefixed if configured
	ClientID    string // as the issuer's profile names it (oidc: azp, else appid, else client_id)
	Username    string // "username" (Cognito), when present
	SessionID   string // "sid": the IdP's session, when present
	Audience    []string
	ExpiresAt   time.Time
	NotBefore   time.Time // zero when absent
	IssuedAt    time.Time // zero when absent
	AuthTime    time.Time // zero when absent
	Roles       []string  // the issuer's role claim; read only with Config.Roles
}

// AuthenticatedAt is when the user last authenticated: auth_time, else iat.
func (c Claims) AuthenticatedAt() time.Time {
	if !c.AuthTime.IsZero() {
		return c.AuthTime
	}
	return c.IssuedAt
}

// Verifier verifies tokens. It is safe for concurrent use.
type Verifier struct {
	cfg     Config
	issuers map[string]issuerRef // by every exact "iss" accepted
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
		cfg.MaxTokenBytes = 8192
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = 60 * time.Second
	}
	if cfg.KeySetMaxAge == 0 {
		cfg.KeySetMaxAge = 15 * time.Minute
	}
	if cfg.UnknownKidCooldown == 0 {
		cfg.UnknownKidCooldown = 5 * time.Minute
	}
	if cfg.RetryAfterFailure == 0 {
		cfg.RetryAfterFailure = 10 * time.Second
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = 2 * time.Second
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
	if cfg.ClockSkew < 0 || cfg.ClockSkew > 5*time.Minute {
		problems = append(problems, fmt.Sprintf("clock skew %v is outside 0..5m", cfg.ClockSkew))
	}
	if cfg.MaxTokenBytes < 256 || cfg.MaxTokenBytes > 64<<10 {
		problems = append(problems, fmt.Sprintf("max token bytes %d is outside 256..65536", cfg.MaxTokenBytes))
	}
	v := &Verifier{cfg: cfg, issuers: make(map[string]issuerRef, len(cfg.Issuers))}
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
	p, ok := Profiles[is.Profile]
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
	is.UserClaim = firstNonEmpty(is.UserClaim, p.UserClaim, "sub")
	is.TenantClaim = firstNonEmpty(is.TenantClaim, p.TenantClaim)
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

// KeySetURL is where the issuer's keys are read from: JWKSURL, else the
// profile's key-set path under the issuer (cognito), else every Entra
// tenant's keys (a multi-tenant entry), else the issuer's OIDC discovery
// document (discovered true), which names the key set's URL.
func (is Issuer) KeySetURL() (u string, discovered bool) {
	p := Profiles[firstNonEmpty(is.Profile, "oidc")]
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

// Prefetch fetches every issuer's key set, for use at cold start. It returns
// the joined errors of the fetches that failed; verification still works for
// the others, and retries the failed ones on use.
func (v *Verifier) Prefetch(ctx context.Context) error {
	var errs []error
	seen := map[*issuer]bool{}
	for _, ref := range v.issuers {
		if seen[ref.issuer] {
			continue
		}
		seen[ref.issuer] = true
		if _, err := ref.keys.refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Verify checks raw and returns its claims, or a *reason.Error whose code
// says why it was refused. Checks run cheapest first: size, shape, issuer,
// algorithm, time claims, audience, then the signature; so a token that
// fails several checks reports the first of them.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	jws, is, client, err := v.check(ctx, raw, accessToken)
	if err != nil {
		return Claims{}, err
	}
	defer jws.release()
	return v.claimsOf(is, jws, client)
}

// isSETType reports whether a typ header names a Security Event Token.
func isSETType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "secevent+jwt" || typ == "application/secevent+jwt"
}

// check runs every check but the claims extraction; for a SET (RFC 8417),
// exp is optional, iat and jti are required, and typ, when present, must
// be secevent+jwt. An access token must not be typed as a SET, and a SET
// must not be typed otherwise: neither passes for the other. The caller
// releases the result.
// kind is what a token is verified as. An access token, a security event
// token and a back-channel logout token never pass for one another.
type kind int

const (
	accessToken kind = iota
	securityEvent
	logoutToken
)

// BackchannelLogoutEvent is the event member of a logout token (OpenID
// Connect Back-Channel Logout 1.0, section 2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutMaxAge is how old a logout token may be (by iat): they are posted
// the moment a user signs out, and their jti is remembered this long.
const LogoutMaxAge = 5 * time.Minute

func isLogoutType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "logout+jwt" || typ == "application/logout+jwt"
}

func (v *Verifier) check(ctx context.Context, raw string, set kind) (*compact, *issuer, string, error) {
	if raw == "" {
		return nil, nil, "", reason.New(reason.TokenMissing, "no token")
	}
	if len(raw) > v.cfg.MaxTokenBytes {
		return nil, nil, "", reason.New(reason.TokenTooLarge, "token of %d bytes exceeds %d", len(raw), v.cfg.MaxTokenBytes)
	}
	jws, err := parseCompact(raw)
	if err != nil {
		return nil, nil, "", reason.New(reason.TokenMalformed, "%w", err)
	}
	is, client, err := v.checkParsed(ctx, jws, set)
	if err != nil {
		jws.release()
		return nil, nil, "", err
	}
	return jws, is, client, nil
}

// checkParsed runs the checks on a parsed token and returns its issuer
// and, for an access token, its client id as the issuer's profile names it.
func (v *Verifier) checkParsed(ctx context.Context, jws *compact, k kind) (*issuer, string, error) {
	ref, ok := v.issuers[jws.claims.Iss]
	if !ok {
		return nil, "", reason.New(reason.TokenIssuer, "issuer %q is not trusted", truncate(jws.claims.Iss, 100))
	}
	is := ref.issuer
	if !slices.Contains(is.Algorithms, jws.header.Alg) {
		return nil, "", reason.New(reason.TokenSignature, "algorithm %q is not allowed for issuer %q", truncate(jws.header.Alg, 20), is.Issuer.Issuer)
	}
	now := v.cfg.Now().Truncate(time.Second)
	skew := v.cfg.ClockSkew
	c := &jws.claims
	if err := kindRules(k, jws, now, skew); err != nil {
		return nil, "", err
	}
	switch {
	case c.Exp.set && !now.Before(c.Exp.t.Add(skew)):
		return nil, "", reason.New(reason.TokenExpired, "expired at %s", c.Exp.t.Format(time.RFC3339))
	case c.Nbf.set && now.Before(c.Nbf.t.Add(-skew)):
		return nil, "", reason.New(reason.TokenNotYetValid, "not valid before %s", c.Nbf.t.Format(time.RFC3339))
	case c.Iat.set && now.Before(c.Iat.t.Add(-skew)):
		return nil, "", reason.New(reason.TokenNotYetValid, "issued in the future at %s", c.Iat.t.Format(time.RFC3339))
	}
	var client string
	switch k {
	case securityEvent: // a SET names no client: the audience is the receiver
		if !c.Aud.containsAny(is.Audiences) {
			return nil, "", reason.New(reason.TokenAudience, "audience %q is not accepted by issuer %q", truncate(strings.Join(c.Aud, ","), 200), is.Issuer.Issuer)
		}
	case logoutToken: // addressed to the relying party: one of the issuer's clients
		if len(is.ClientIDs) == 0 || !c.Aud.containsAny(is.ClientIDs) {
			return nil, "", reason.New(reason.TokenAudience, "audience %q is not one of issuer %q's clientIds", truncate(strings.Join(c.Aud, ","), 200), is.Issuer.Issuer)
		}
	default:
		var err error
		if client, err = is.checkProfile(jws, ref.tenant); err != nil {
			return nil, "", err
		}
	}
	if jws.header.Kid == "" {
		return nil, "", reason.New(reason.TokenSignature, "token has no kid")
	}
	if err := is.keys.verify(ctx, jws); err != nil {
		return nil, "", err
	}
	return is, client, nil
}

// kindRules are what makes a token one kind and not the others: the
// header typ, the events claim, the claims each kind requires.
func kindRules(k kind, jws *compact, now time.Time, skew time.Duration) error {
	c, typ := &jws.claims, jws.header.Typ
	logoutEvent := c.hasEvent(BackchannelLogoutEvent)
	switch k {
	case accessToken:
		switch {
		case isSETType(typ) || isLogoutType(typ) || c.Events != nil:
			return reason.New(reason.TokenMalformed, "an event token (a security event or logout token) is not an access token")
		case !c.Exp.set:
			return reason.New(reason.TokenMalformed, "token has no exp")
		}
	case securityEvent:
		switch {
		case typ != "" && !isSETType(typ):
			return reason.New(reason.TokenMalformed, "typ %q is not secevent+jwt", truncate(typ, 40))
		case logoutEvent:
			return reason.New(reason.TokenMalformed, "a logout token is not a security event token for this receiver")
		case !c.Iat.set || c.Jti == "":
			return reason.New(reason.TokenMalformed, "a security event token needs iat and jti")
		case !c.eventsObject():
			// Without it an access token that carries jti and iat, and no
			// typ, would pass for a SET.
			return reason.New(reason.TokenMalformed, `a security event token needs "events": an object of one or more events, each an object`)
		}
	case logoutToken: // OpenID Connect Back-Channel Logout 1.0, section 2.6
		switch {
		case typ != "" && !isLogoutType(typ):
			return reason.New(reason.TokenMalformed, "typ %q is not logout+jwt", truncate(typ, 40))
		case !logoutEvent:
			return reason.New(reason.TokenMalformed, "events has no %s member (an object)", BackchannelLogoutEvent)
		case c.Sub == "" && c.Sid == "":
			return reason.New(reason.TokenMalformed, "a logout token needs sub or sid")
		case c.HasNonce:
			return reason.New(reason.TokenMalformed, "a logout token must not carry a nonce")
		case c.Jti == "":
			return reason.New(reason.TokenMalformed, "a logout token needs jti")
		case !c.Iat.set:
			return reason.New(reason.TokenMalformed, "a logout token needs iat")
		case now.After(c.Iat.t.Add(LogoutMaxAge + skew)):
			return reason.New(reason.TokenExpired, "issued at %s, more than %v ago", c.Iat.t.Format(time.RFC3339), LogoutMaxAge)
		}
	}
	return nil
}

// Logout is a verified back-channel logout token.
type Logout struct {
	Issuer    string // the accepting entry's spelling, as Claims.Issuer
	Subject   string // "sub", when present
	SessionID string // "sid", when present
	JTI       string
	IssuedAt  time.Time
	// RefusedFrom is the first instant at which this verifier refuses the
	// token as too old (past its iat plus LogoutMaxAge, or at its exp, each
	// with the clock skew): a receiver remembers its jti until then.
	RefusedFrom time.Time
}

// VerifyLogout verifies an OpenID Connect Back-Channel Logout 1.0 token
// (section 2.6): signed by a trusted issuer's key, iss exact, aud one of
// the issuer's clientIds, iat within the clock skew and at most
// LogoutMaxAge old, jti present, events holding the back-channel logout
// event, sub and/or sid, no nonce, and typ logout+jwt when present. It
// never accepts an access token or a SET, and neither accepts it.
func (v *Verifier) VerifyLogout(ctx context.Context, raw string) (Logout, error) {
	jws, is, _, err := v.check(ctx, raw, logoutToken)
	if err != nil {
		return Logout{}, err
	}
	defer jws.release()
	c := &jws.claims
	until := c.Iat.t.Add(LogoutMaxAge + v.cfg.ClockSkew + time.Nanosecond) // accepted up to and including iat+max+skew
	if c.Exp.set && c.Exp.t.Add(v.cfg.ClockSkew).Before(until) {
		until = c.Exp.t.Add(v.cfg.ClockSkew) // refused from exp+skew on
	}
	return Logout{Issuer: is.Issuer.Issuer, Subject: c.Sub, SessionID: c.Sid, JTI: c.Jti, IssuedAt: c.Iat.t, RefusedFrom: until}, nil
}

// SET is a verified Security Event Token.
type SET struct {
	Issuer   string
	JTI      string
	IssuedAt time.Time
	Payload  []byte // the claims, JSON, for the events
}

// VerifySET verifies a Security Event Token (RFC 8417) like an access
// token, with the differences check describes.
func (v *Verifier) VerifySET(ctx context.Context, raw string) (SET, error) {
	jws, _, _, err := v.check(ctx, raw, securityEvent)
	if err != nil {
		return SET{}, err
	}
	defer jws.release()
	return SET{Issuer: jws.claims.Iss, JTI: jws.claims.Jti, IssuedAt: jws.claims.Iat.t, Payload: append([]byte(nil), jws.payload...)}, nil
}

func (v *Verifier) claimsOf(is *issuer, jws *compact, client string) (Claims, error) {
	c := &jws.claims
	sub, err := c.stringClaim(jws.payload, is.UserClaim)
	if err != nil || sub == "" {
		return Claims{}, reason.New(reason.TokenMalformed, "user claim %q is missing or not a string", is.UserClaim)
	}
	if is.TenantClaim != "" {
		tid, err := c.stringClaim(jws.payload, is.TenantClaim)
		if err != nil || tid == "" {
			return Claims{}, reason.New(reason.TokenMalformed, "tenant claim %q is missing or not a string", is.TenantClaim)
		}
		sub = tid + "/" + sub
	}
	out := Claims{
		Issuer:      is.Issuer.Issuer,
		TokenIssuer: c.Iss,
		Subject:     sub,
		ClientID:    client,
		Username:    c.Username,
		SessionID:   c.Sid,
		Audience:    c.Aud,
		ExpiresAt:   c.Exp.t,
	}
	if c.Iat.set {
		out.IssuedAt = c.Iat.t
	}
	if c.Nbf.set {
		out.NotBefore = c.Nbf.t
	}
	if c.AuthTime.set {
		out.AuthTime = c.AuthTime.t
	}
	if v.cfg.Roles {
		out.Roles = rolesClaim(jws.payload, is.RoleClaim)
	}
	return out, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SubjectIsSub reports whether the issuer's users are keyed by the plain
// "sub" claim (no other user claim, no tenant prefix).
func (v *Verifier) SubjectIsSub(iss string) bool {
	for _, ref := range v.issuers {
		if ref.Issuer.Issuer == iss {
			return ref.UserClaim == "sub" && ref.TenantClaim == ""
		}
	}
	return false
}

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
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/reason"
)

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
	// KeyThumbprint is the token's cnf.jkt: the thumbprint of the key a
	// DPoP-bound token is bound to, "" for a token bound to none. It is
	// part of what the cache keeps, so a cached token is bound as a fresh
	// one is; its proof is checked on every request (shared/dpop).
	KeyThumbprint string
	// Cached: the claims came from the verifier's cache of verified tokens
	// (cache.go), not from a signature check on this call.
	Cached bool
	// KeySource says where the issuer's keys that verified the token came
	// from: KeysFromIdP (fetched by this process) or KeysFromSnapshot (the
	// table's copy, read at cold start: snapshot.go).
	KeySource string
}

// AuthenticatedAt is when the user last authenticated: auth_time, else iat.
func (c Claims) AuthenticatedAt() time.Time {
	if !c.AuthTime.IsZero() {
		return c.AuthTime
	}
	return c.IssuedAt
}

// Verify checks raw and returns its claims, or a *reason.Error whose code
// says why it was refused. Checks run cheapest first: size, shape, issuer,
// algorithm, what makes it an access token (kindRules), time claims, the
// issuer's profile (checkProfile: typ, client, audience), then the
// signature; so a token that fails several checks reports the first of
// them.
//
// Unless Config.NoCache, a token that verified is cached (cache.go), and
// a hit is taken only when a fresh check would accept the token now.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	cacheable := v.cache != nil && raw != "" && len(raw) <= maxCachedTokenBytes && len(raw) <= v.cfg.MaxTokenBytes
	var key [32]byte
	if cacheable {
		key = cacheKey(raw)
		if c, ok := v.fromCache(ctx, key); ok {
			return c, nil
		}
	}
	var ks *keySet
	jws, is, client, err := v.check(ctx, raw, accessToken, &ks)
	if err != nil {
		return Claims{}, err
	}
	defer jws.release()
	c, err := v.claimsOf(is, jws, client)
	c.KeySource = ks.source
	if err == nil && cacheable {
		v.cache.put(key, &cacheEntry{claims: c, exp: jws.claims.Exp, nbf: jws.claims.Nbf, iat: jws.claims.Iat,
			issuer: is, kid: strings.Clone(jws.header.Kid), generation: ks.generation})
	}
	return c, err
}

// check runs every check on raw but the claims extraction, verifying it as
// a token of kind k (kindRules: what makes each kind, and not the others),
// and returns the parsed token, its issuer and, for an access token, its
// client id. The caller releases the token. A non-nil verifiedBy gets the
// issuer's key set that verified the signature.
func (v *Verifier) check(ctx context.Context, raw string, k kind, verifiedBy **keySet) (*compact, *issuer, string, error) {
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
	is, client, err := v.checkParsed(ctx, jws, k, verifiedBy)
	if err != nil {
		jws.release()
		return nil, nil, "", err
	}
	return jws, is, client, nil
}

// checkParsed runs the checks on a parsed token and returns its issuer
// and, for an access token, its client id as the issuer's profile names it.
func (v *Verifier) checkParsed(ctx context.Context, jws *compact, k kind, verifiedBy **keySet) (*issuer, string, error) {
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
	if err := checkTimes(c.Exp, c.Nbf, c.Iat, now, skew); err != nil {
		return nil, "", err
	}
	var client string
	switch k {
	case securityEvent, revocationRequest: // neither names a client: the audience is the receiver
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
	ks, err := is.keys.verify(ctx, jws)
	if err != nil {
		return nil, "", err
	}
	if verifiedBy != nil {
		*verifiedBy = ks
	}
	return is, client, nil
}

// checkTimes is the time rule of every token, and of every cache hit:
// refused at or after exp (plus skew), before nbf or iat (less skew).
// now is whole seconds.
func checkTimes(exp, nbf, iat numericDate, now time.Time, skew time.Duration) error {
	switch {
	case exp.set && !now.Before(exp.t.Add(skew)):
		return reason.New(reason.TokenExpired, "expired at %s", exp.t.Format(time.RFC3339))
	case nbf.set && now.Before(nbf.t.Add(-skew)):
		return reason.New(reason.TokenNotYetValid, "not valid before %s", nbf.t.Format(time.RFC3339))
	case iat.set && now.Before(iat.t.Add(-skew)):
		return reason.New(reason.TokenNotYetValid, "issued in the future at %s", iat.t.Format(time.RFC3339))
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

// VerifyLogout verifies an OpenID Connect back-channel logout token:
// signed by a trusted issuer's key, iss exact, aud one of
// the issuer's clientIds, iat within the clock skew and at most
// LogoutMaxAge old, jti present, events holding the back-channel logout
// event, sub and/or sid, no nonce, and typ logout+jwt when present. It
// never accepts an access token or a SET, and neither accepts it.
func (v *Verifier) VerifyLogout(ctx context.Context, raw string) (Logout, error) {
	jws, is, _, err := v.check(ctx, raw, logoutToken, nil)
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

// Revocation is the verified JWT of a global token revocation request.
type Revocation struct {
	Issuer   string   // the accepting entry's spelling, as Claims.Issuer
	Caller   string   // "sub": the IdP's id of the app integration that calls (an OIDC client id, a SAML app instance id)
	Audience []string // "aud": the endpoint URLs it is addressed to
	JTI      string
	IssuedAt time.Time
	// RefusedFrom is the first instant at which this verifier refuses the
	// token as too old (past its iat plus RevocationMaxAge, or at its exp,
	// each with the clock skew): a receiver remembers its jti until then.
	RefusedFrom time.Time
}

// VerifyRevocation verifies the JWT that authenticates a global token
// revocation request (sent as its bearer token): signed by a trusted
// issuer's key, iss exact, aud one of the issuer's audiences (the
// endpoint's URLs; the profile's rules do not apply), exp, nbf and iat
// judged with the clock skew, iat at most RevocationMaxAge old, sub and
// jti present, typ global-token-revocation+jwt, JWT or absent, and no
// events, client claim or nonce. It never accepts an access, ID, logout
// or security event token, and none of them accepts it.
func (v *Verifier) VerifyRevocation(ctx context.Context, raw string) (Revocation, error) {
	jws, is, _, err := v.check(ctx, raw, revocationRequest, nil)
	if err != nil {
		return Revocation{}, err
	}
	defer jws.release()
	c := &jws.claims
	until := c.Iat.t.Add(RevocationMaxAge + v.cfg.ClockSkew + time.Nanosecond) // accepted up to and including iat+max+skew
	if c.Exp.t.Add(v.cfg.ClockSkew).Before(until) {
		until = c.Exp.t.Add(v.cfg.ClockSkew) // refused from exp+skew on
	}
	return Revocation{Issuer: is.Issuer.Issuer, Caller: c.Sub, Audience: slices.Clone([]string(c.Aud)), JTI: c.Jti, IssuedAt: c.Iat.t, RefusedFrom: until}, nil
}

// SET is a verified Security Event Token.
type SET struct {
	Issuer   string
	JTI      string
	IssuedAt time.Time
	Payload  []byte // the claims, JSON, for the events
}

// VerifySET verifies a Security Event Token (RFC 8417): signed by a
// trusted issuer's key, iss exact, aud one of the issuer's audiences (a SET
// names no client, so the profile's rules do not apply), exp, nbf and iat
// judged with the clock skew when present (exp is optional), iat and jti
// present, "events" an object of one or more events and no back-channel
// logout event, and typ secevent+jwt when present. It never accepts
// an access token or a logout token, and neither accepts it.
func (v *Verifier) VerifySET(ctx context.Context, raw string) (SET, error) {
	jws, _, _, err := v.check(ctx, raw, securityEvent, nil)
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

		KeyThumbprint: c.Jkt,
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

package token

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// A Profile declares how one kind of identity provider shapes its tokens:
// which claim names the client, how the audience is checked, what makes a
// token an access token there (and an ID token not one), the default user
// and role claims, and the issuer's other spellings. Profiles are data;
// the checks that read them are the same for every provider.
type Profile struct {
	Name string
	// ClientClaims name the client: the first present one wins.
	ClientClaims []string
	// Audience is the audience rule.
	Audience AudienceRule
	// HeaderTypes, when set, are the accepted header "typ" values
	// (case-insensitive); a token without one of them is not an access
	// token here.
	HeaderTypes []string
	// ClaimEquals are claims that must hold these exact values (Cognito
	// token_use=access, Keycloak typ=Bearer).
	ClaimEquals map[string]string
	// RequireClient refuses a token whose client claim is absent: an ID
	// token carries none (Entra, Okta), an RFC 9068 access token must.
	RequireClient bool
	// RefuseHeaderNonce refuses a header "nonce": Microsoft Graph's
	// tokens carry one and are not meant for anyone else to verify.
	RefuseHeaderNonce bool
	// UserClaim, TenantClaim and RoleClaim are the defaults an issuer
	// entry may override.
	UserClaim, TenantClaim, RoleClaim string
	// Variants returns the other exact spellings of issuer that mean the
	// same issuer (nil: none).
	Variants func(issuer string) []string
	// JWKSPath, when set, is where the key set lives under the issuer
	// (instead of OIDC discovery).
	JWKSPath string
}

// AudienceRule is how a profile checks "aud".
type AudienceRule int

// The audience rules.
const (
	// AudienceListed: aud (a string or an array) contains one of the
	// issuer's audiences.
	AudienceListed AudienceRule = iota
	// AudienceNone: no aud is needed; the client (in clientIds) is the
	// check (Cognito access tokens carry client_id and no aud).
	AudienceNone
	// AudienceListedOrAccountClient: aud contains one of the audiences, or
	// aud is only "account" (Keycloak's default without an audience
	// mapper) and the client is in clientIds.
	AudienceListedOrAccountClient
	// AudienceClient: aud contains one of clientIds (ID tokens: Google).
	AudienceClient
)

var (
	entraV1 = regexp.MustCompile(`^https://sts\.windows\.net/([^/]+)/$`)
	entraV2 = regexp.MustCompile(`^https://login\.microsoftonline\.com/([^/]+)/v2\.0$`)
)

// TenantPlaceholder is the part of a multi-tenant Entra issuer that each
// token's tid fills in.
const TenantPlaceholder = "{tenantid}"

// entraVariants: a tenant's v1 and v2 issuers are one issuer.
func entraVariants(iss string) []string {
	if m := entraV1.FindStringSubmatch(iss); m != nil {
		return []string{"https://login.microsoftonline.com/" + m[1] + "/v2.0"}
	}
	if m := entraV2.FindStringSubmatch(iss); m != nil {
		return []string{"https://sts.windows.net/" + m[1] + "/"}
	}
	return nil
}

// googleVariants: Google's ID tokens use either spelling.
func googleVariants(iss string) []string {
	switch iss {
	case "accounts.google.com":
		return []string{"https://accounts.google.com"}
	case "https://accounts.google.com":
		return []string{"accounts.google.com"}
	}
	return nil
}

// ProfileNamed returns the known profile of that name: a copy, so no
// caller changes what a profile means.
func ProfileNamed(name string) (Profile, bool) {
	p, ok := profiles[name]
	p.ClientClaims, p.HeaderTypes, p.ClaimEquals = slices.Clone(p.ClientClaims), slices.Clone(p.HeaderTypes), maps.Clone(p.ClaimEquals)
	return p, ok
}

// profiles are the known profiles by name.
var profiles = map[string]Profile{
	"oidc": {Name: "oidc", ClientClaims: []string{"azp", "appid", "client_id"}, Audience: AudienceListed},
	"rfc9068": {Name: "rfc9068", ClientClaims: []string{"client_id"}, Audience: AudienceListed,
		HeaderTypes: []string{"at+jwt", "application/at+jwt"}, RequireClient: true},
	"cognito": {Name: "cognito", ClientClaims: []string{"client_id"}, Audience: AudienceNone,
		ClaimEquals: map[string]string{"token_use": "access"}, RequireClient: true, RoleClaim: "cognito:groups",
		JWKSPath: "/.well-known/jwks.json"},
	"entra": {Name: "entra", ClientClaims: []string{"azp", "appid"}, Audience: AudienceListed, RequireClient: true,
		RefuseHeaderNonce: true, UserClaim: "oid", TenantClaim: "tid", Variants: entraVariants},
	"okta":  {Name: "okta", ClientClaims: []string{"cid"}, Audience: AudienceListed, RequireClient: true, UserClaim: "uid"},
	"auth0": {Name: "auth0", ClientClaims: []string{"azp", "client_id"}, Audience: AudienceListed},
	"keycloak": {Name: "keycloak", ClientClaims: []string{"azp"}, Audience: AudienceListedOrAccountClient,
		ClaimEquals: map[string]string{"typ": "Bearer"}, RequireClient: true},
	"google": {Name: "google", ClientClaims: []string{"azp"}, Audience: AudienceClient, Variants: googleVariants},
}

// audienceAlone reports whether the audience is all that tells this
// profile's access tokens from its ID tokens: no header typ, no claim
// value, no required client claim. An ID token's aud is its client id, so
// under such a profile a client id listed among the audiences would let
// that client's ID tokens pass as access tokens.
func (p *Profile) audienceAlone() bool {
	return p.Audience == AudienceListed && len(p.HeaderTypes) == 0 && len(p.ClaimEquals) == 0 && !p.RequireClient
}

// ProfileNames lists the profiles, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// profileRule is a refusal by a profile's rule: the reason code and, for
// the log, which rule of which profile.
func profileRule(code reason.Code, p *Profile, format string, args ...any) error {
	return reason.New(code, "profile %s: %s", p.Name, fmt.Sprintf(format, args...))
}

// checkProfile applies the issuer's profile to a parsed token whose
// issuer, algorithm, kind and times are checked, and returns the client
// id. The signature is checked after it (the cheaper checks first), so a
// refusal here may be of a forged token, and the client id counts only
// once the signature holds.
func (is *issuer) checkProfile(jws *compact, tenant string) (string, error) {
	p := &is.profile
	c := &jws.claims
	if p.RefuseHeaderNonce && jws.header.HasNonce {
		return "", profileRule(reason.TokenMalformed, p, `a header "nonce" marks a token not meant for this API (a Microsoft Graph token)`)
	}
	if len(p.HeaderTypes) > 0 && !slices.ContainsFunc(p.HeaderTypes, func(t string) bool { return strings.EqualFold(t, jws.header.Typ) }) {
		return "", profileRule(reason.TokenMalformed, p, "header typ %q is not %s: not an access token", truncate(jws.header.Typ, 40), strings.Join(p.HeaderTypes, " or "))
	}
	for name, want := range p.ClaimEquals {
		if got := c.claim(name); got != want {
			return "", profileRule(reason.TokenMalformed, p, "claim %s is %q, want %q: not an access token", name, truncate(got, 40), want)
		}
	}
	if tenant != "" && c.Tid != tenant {
		return "", profileRule(reason.TokenIssuer, p, "tid %q does not match the issuer's tenant %q", truncate(c.Tid, 60), tenant)
	}
	client := ""
	for _, name := range p.ClientClaims {
		if client = c.claim(name); client != "" {
			break
		}
	}
	if p.Audience == AudienceClient && client == "" && len(c.Aud) == 1 {
		client = c.Aud[0] // a Google ID token without azp: its audience is the client
	}
	if client == "" && p.RequireClient {
		return "", profileRule(reason.TokenMalformed, p, "no client claim (%s): not an access token", strings.Join(p.ClientClaims, ", "))
	}
	switch p.Audience {
	case AudienceListed:
		if !c.Aud.containsAny(is.Audiences) {
			return "", profileRule(reason.TokenAudience, p, "audience %q is not accepted by issuer %q", truncate(strings.Join(c.Aud, ","), 200), is.Issuer.Issuer)
		}
	case AudienceClient:
		if !c.Aud.containsAny(is.ClientIDs) {
			return "", profileRule(reason.TokenAudience, p, "audience %q is not one of the issuer's clientIds", truncate(strings.Join(c.Aud, ","), 200))
		}
	case AudienceListedOrAccountClient:
		onlyAccount := len(c.Aud) == 1 && c.Aud[0] == "account"
		if !c.Aud.containsAny(is.Audiences) && !(onlyAccount && slices.Contains(is.ClientIDs, client)) {
			return "", profileRule(reason.TokenAudience, p, "audience %q is not accepted, and it is not only \"account\" from a listed client", truncate(strings.Join(c.Aud, ","), 200))
		}
	}
	if len(is.ClientIDs) > 0 && !slices.Contains(is.ClientIDs, client) {
		return "", profileRule(reason.TokenAudience, p, "client %q is not one of the issuer's clientIds", truncate(client, 100))
	}
	return client, nil
}

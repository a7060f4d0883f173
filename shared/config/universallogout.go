package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sessionguard/sessionguard/shared/globallogout"
	"github.com/sessionguard/sessionguard/shared/token"
)

// universalLogoutJSON is an entry's "universalLogout": the global token
// revocation endpoint accepts requests signed for the entry's users.
type universalLogoutJSON struct {
	// Audience is the endpoint's URL as the identity provider calls it
	// (https://<API>/global-token-revocation): the requests' JWTs must
	// carry it as aud. Required.
	Audience string `json:"audience"`
	// Issuer is who signs the requests (their JWTs' iss), when it is not
	// the entry's issuer: Okta's org authorization server
	// (https://<org>.okta.com) signs them for an entry of a custom
	// authorization server of that org.
	Issuer string `json:"issuer"`
	// JWKSURL is the signer's key set; default the entry's own key set
	// when the entry's issuer signs, else the signer's discovery
	// document.
	JWKSURL string `json:"jwksUrl"`
	// Callers, when set, are the only accepted "sub" values of the
	// requests' JWTs: the identity provider's ids of the app integrations
	// that may call (an Okta OIDC app's client id).
	Callers []string `json:"callers"`
}

// loadUniversalLogout reads the entries' universalLogout (logouts, by
// issuer) into UniversalLogout and checks each: an endpoint URL as its
// audience that no trusted issuer's tokens are addressed to (so that no
// access or ID token can pass for a request), a key set over https, no
// multi-tenant entry (its every tenant could sign), callers not empty.
func (c *Config) loadUniversalLogout(r *reader, logouts map[string]*universalLogoutJSON) {
	for _, is := range c.Token.Issuers {
		ul := logouts[is.Issuer]
		if ul == nil {
			continue
		}
		what := fmt.Sprintf("TRUSTED_ISSUERS: issuer %q: universalLogout", is.Issuer)
		e := globallogout.Entry{Issuer: is.Issuer, Signer: is.Issuer, Audience: ul.Audience, Callers: ul.Callers,
			Profile: is.Profile, Algorithms: is.Algorithms}
		if e.Profile == "" {
			e.Profile = "oidc"
		}
		e.UserClaim, e.TenantClaim = is.UserClaims()
		if ul.Issuer != "" {
			e.Signer = ul.Issuer
		}
		if err := globallogout.CheckAudience(ul.Audience); err != nil {
			r.bad("%s: audience: %v", what, err)
		}
		for _, o := range c.Token.Issuers {
			if ul.Audience != "" && (slices.Contains(o.Audiences, ul.Audience) || slices.Contains(o.ClientIDs, ul.Audience)) {
				r.bad("%s: audience %q is also an audience or client id of issuer %q, whose access or ID tokens could then pass for a revocation request: give the endpoint's own URL", what, ul.Audience, o.Issuer)
			}
		}
		if strings.Contains(is.Issuer, token.TenantPlaceholder) {
			r.bad("%s: not on a multi-tenant entry: every tenant it lists could sign requests", what)
		}
		switch {
		case ul.JWKSURL != "":
			e.SignerKeys = ul.JWKSURL
			r.checkURL(what+": jwksUrl", ul.JWKSURL)
		case e.Signer == is.Issuer:
			if u, discovered := is.KeySetURL(); !discovered {
				e.SignerKeys = u // checked with the entry's
			}
		default:
			r.checkURL(what+": issuer "+fmt.Sprintf("%q", e.Signer)+" has no jwksUrl here, so its key set is found through its discovery document", strings.TrimSuffix(e.Signer, "/")+"/.well-known/openid-configuration")
		}
		if ul.Callers != nil && (len(ul.Callers) == 0 || slices.Contains(ul.Callers, "")) {
			r.bad("%s: callers: list the app integrations' ids (the requests' sub), or leave callers out", what)
		}
		c.UniversalLogout = append(c.UniversalLogout, e)
	}
	if _, err := globallogout.Signers(c.UniversalLogout); err != nil {
		r.bad("TRUSTED_ISSUERS: universalLogout: %v", err)
	}
}

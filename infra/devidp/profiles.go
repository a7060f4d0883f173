package devidp

import (
	"crypto/sha256"
	"fmt"
	"slices"
)

// Profiles are the issuer profiles the development issuer can mint
// tokens for, each in the shape its provider documents (see the token
// package's profiles): `/token?profile=cognito&user=NAME`. Each profile's
// tokens carry their own issuer, ProfileIssuer(name), served from this
// issuer's key set, so one local deployment can trust every shape.
var Profiles = []string{"auth0", "cognito", "entra", "google", "keycloak", "okta", "rfc9068"}

// DevTenant is the tenant id of the entra-shaped tokens.
const DevTenant = "00000000-0000-0000-0000-000000000000"

// ProfileIssuer is the "iss" of the profile's tokens.
func (i *Issuer) ProfileIssuer(profile string) string { return i.URL() + "/p/" + profile }

// devID makes a stable, id-like string of user for claims such as Entra's
// oid or Okta's uid.
func devID(prefix, user string) string {
	sum := sha256.Sum256([]byte(user))
	return fmt.Sprintf("%s%x", prefix, sum[:8])
}

// MintProfile mints an access token of the profile's shape for t.User
// (with t's times, algorithm and roles: t.Claims["roles"] becomes the
// profile's role claim).
func (i *Issuer) MintProfile(profile string, t Token) (string, error) {
	if !slices.Contains(Profiles, profile) {
		return "", fmt.Errorf("devidp: profile %q: want one of %v", profile, Profiles)
	}
	iss := i.ProfileIssuer(profile)
	client := or(t.ClientID, DefaultClientID)
	var roles any // absent unless asked for
	if rs, _ := t.Claims["roles"].([]string); len(rs) > 0 {
		roles = rs
	}
	// Start from the generic claims, drop what the provider does not send.
	c := map[string]any{"azp": nil, "ver": nil, "tid": nil, "roles": nil}
	switch profile {
	case "cognito":
		c["aud"] = nil
		c["client_id"], c["token_use"], c["username"] = client, "access", t.User
		c["origin_jti"], c["event_id"], c["jti"] = devID("o-", t.User), devID("e-", t.User), devID("j-", t.User)
		c["cognito:groups"], c["scope"], c["version"] = roles, "openid email", 2
	case "entra":
		c["azp"], c["tid"], c["oid"], c["ver"], c["scp"] = client, DevTenant, devID("oid-", t.User), "2.0", "access_as_user"
		c["roles"] = roles
	case "okta":
		c["cid"], c["uid"], c["sub"], c["ver"], c["scp"] = client, devID("00u", t.User), t.User+"@example.test", 1, []string{"openid", "profile"}
		c["roles"] = roles
	case "auth0":
		c["aud"], c["azp"], c["roles"] = []string{DefaultAudience, iss + "/userinfo"}, client, roles
	case "keycloak":
		c["aud"], c["azp"], c["typ"], c["sid"], c["roles"] = "account", client, "Bearer", devID("sid-", t.User), roles
	case "google":
		c["aud"], c["azp"], c["email"], c["email_verified"] = client, client, t.User+"@example.test", true
	case "rfc9068":
		c["client_id"], c["jti"], c["roles"] = client, devID("j-", t.User), roles
	}
	for k, v := range t.Claims {
		if k != "roles" {
			c[k] = v
		}
	}
	t.Issuer, t.Claims = iss, c
	return i.Mint(t)
}

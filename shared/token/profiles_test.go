package token

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// fixtureToken signs testdata/profiles/<name>.json: its claims with iss
// set (where the file says {ISS}) and times around now, its header
// members beside alg and kid. edit may change the claims first.
func fixtureToken(t *testing.T, idp *devidp.Issuer, now time.Time, name, iss string, edit func(claims, header map[string]any)) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "profiles", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "{ISS}", iss))
	var f struct{ Header, Claims map[string]any }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	f.Claims["iat"], f.Claims["nbf"], f.Claims["exp"] = now.Unix(), now.Unix(), now.Add(time.Hour).Unix()
	if _, ok := f.Claims["auth_time"]; ok {
		f.Claims["auth_time"] = now.Unix()
	}
	key := idp.KeyFor(jwa.RS256)
	f.Header["alg"], f.Header["kid"] = "RS256", key.Kid
	if edit != nil {
		edit(f.Claims, f.Header)
	}
	h, _ := json.Marshal(f.Header)
	c, _ := json.Marshal(f.Claims)
	return signRaw(t, jwa.RS256, key.Private, h, c)
}

const (
	tenant      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	otherTenant = "0b8a1c2d-3e4f-5061-7283-94a5b6c7d8e9"
	entraClient = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	cognitoIss  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
	oktaIss     = "https://dev-123456.okta.com/oauth2/default"
	auth0Iss    = "https://example.eu.auth0.com/"
	keycloakIss = "https://sso.example.com/realms/acme"
	googleID    = "1234987819200.apps.googleusercontent.com"
)

// TestProfiles holds each profile's accept and refuse rules, on tokens of
// each provider's documented shape.
func TestProfiles(t *testing.T) {
	ck := devidp.NewClock(time.Now().Truncate(time.Second))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	jwks := idp.URL() + "/jwks.json"
	entraV2 := "https://login.microsoftonline.com/" + tenant + "/v2.0"
	v, err := NewVerifier(Config{Now: ck.Now, Issuers: []Issuer{
		{Issuer: cognitoIss, JWKSURL: jwks, Profile: "cognito", ClientIDs: []string{"1example23456789"}},
		{Issuer: entraV2, JWKSURL: jwks, Profile: "entra", Audiences: []string{"api://sessionguard-app", entraClient}},
		{Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", JWKSURL: jwks, Profile: "entra", Audiences: []string{"api://multi"},
			Tenants: []string{"11111111-2222-3333-4444-555555555555"}},
		{Issuer: oktaIss, JWKSURL: jwks, Profile: "okta", Audiences: []string{"api://default"}},
		{Issuer: auth0Iss, JWKSURL: jwks, Profile: "auth0", Audiences: []string{"https://api.example.com"}, ClientIDs: []string{"my-spa-client-id"}},
		{Issuer: keycloakIss, JWKSURL: jwks, Profile: "keycloak", ClientIDs: []string{"my-app"}},
		{Issuer: "https://accounts.google.com", JWKSURL: jwks, Profile: "google", ClientIDs: []string{googleID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	now := ck.Now()
	set := func(k string, val any) func(c, h map[string]any) { return func(c, _ map[string]any) { c[k] = val } }
	tests := []struct {
		name, fixture, iss string
		edit               func(c, h map[string]any)
		want               reason.Code
		user, client       string
	}{
		{"cognito access token", "cognito-access", cognitoIss, nil, reason.OK, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "1example23456789"},
		{"cognito ID token as an access token", "cognito-id", cognitoIss, nil, reason.TokenMalformed, "", ""},
		{"cognito ID token relabelled access, no client_id", "cognito-id", cognitoIss, set("token_use", "access"), reason.TokenMalformed, "", ""},
		{"cognito: another app client", "cognito-access", cognitoIss, set("client_id", "other-app-client"), reason.TokenAudience, "", ""},
		{"entra v2 access token", "entra-v2-access", entraV2, nil, reason.OK, tenant + "/690222be-ff1a-4d56-abd1-7e4f7d38e474", entraClient},
		{"entra v1 access token, same entry", "entra-v1-access", "https://sts.windows.net/" + tenant + "/", nil, reason.OK, tenant + "/690222be-ff1a-4d56-abd1-7e4f7d38e474", entraClient},
		{"entra v2 ID token as an access token", "entra-v2-id", entraV2, nil, reason.TokenMalformed, "", ""},
		{"entra Graph token (header nonce)", "entra-graph", "https://sts.windows.net/" + tenant + "/", nil, reason.TokenMalformed, "", ""},
		{"entra another tenant's v2 issuer", "entra-v2-access", "https://login.microsoftonline.com/" + otherTenant + "/v2.0", set("aud", "api://multi"), reason.TokenIssuer, "", ""},
		{"entra multi-tenant: a listed tenant", "entra-v2-access", "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
			func(c, _ map[string]any) { c["aud"], c["tid"] = "api://multi", "11111111-2222-3333-4444-555555555555" }, reason.OK,
			"11111111-2222-3333-4444-555555555555/690222be-ff1a-4d56-abd1-7e4f7d38e474", entraClient},
		{"entra multi-tenant: tid is not the issuer's tenant", "entra-v2-access", "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
			set("aud", "api://multi"), reason.TokenIssuer, "", ""},
		{"okta access token: user is uid", "okta-access", oktaIss, nil, reason.OK, "00u1pcla5qYIREDLWCQV", "0oa1pvp2x1iOuZ5I31d8"},
		{"okta ID token", "okta-id", oktaIss, nil, reason.TokenMalformed, "", ""},
		{"okta ID token with the API audience", "okta-id", oktaIss, set("aud", "api://default"), reason.TokenMalformed, "", ""},
		{"auth0 access token, aud array with /userinfo", "auth0-access", auth0Iss, nil, reason.OK, "auth0|5f7c8ec7c33c6c004bbafe82", "my-spa-client-id"},
		{"auth0 RFC 9068 access token", "auth0-rfc9068", auth0Iss, nil, reason.OK, "auth0|5f7c8ec7c33c6c004bbafe82", "my-spa-client-id"},
		{"auth0 another client", "auth0-access", auth0Iss, set("azp", "someone-else"), reason.TokenAudience, "", ""},
		{"keycloak access token, aud only account, listed client", "keycloak-access", keycloakIss, nil, reason.OK, "f1b2c3d4-1111-2222-3333-444455556666", "my-app"},
		{"keycloak ID token", "keycloak-id", keycloakIss, nil, reason.TokenMalformed, "", ""},
		{"keycloak another client", "keycloak-access", keycloakIss, set("azp", "other-app"), reason.TokenAudience, "", ""},
		{"keycloak aud account plus another API", "keycloak-access", keycloakIss, set("aud", []string{"account", "payroll"}), reason.TokenAudience, "", ""},
		{"google ID token, https spelling", "google-id", "https://accounts.google.com", nil, reason.OK, "10769150350006150715113082367", googleID},
		{"google ID token, bare spelling", "google-id", "accounts.google.com", nil, reason.OK, "10769150350006150715113082367", googleID},
		{"google ID token for another client", "google-id", "https://accounts.google.com", func(c, _ map[string]any) {
			c["aud"], c["azp"] = "999.apps.googleusercontent.com", "999.apps.googleusercontent.com"
		}, reason.TokenAudience, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edit := func(c, h map[string]any) {
				c["iss"] = tc.iss
				if tc.edit != nil {
					tc.edit(c, h)
				}
			}
			got, err := v.Verify(context.Background(), fixtureToken(t, idp, now, tc.fixture, tc.iss, edit))
			if code := reason.CodeOf(err); code != tc.want {
				t.Fatalf("Verify = %v (code %s); want %s", err, code, tc.want)
			}
			if tc.want == reason.OK && (got.Subject != tc.user || got.ClientID != tc.client) {
				t.Fatalf("user, client = %q, %q; want %q, %q", got.Subject, got.ClientID, tc.user, tc.client)
			}
		})
	}
}

// Claims.Issuer names the configured entry, whatever spelling of it the
// token's iss used: users, sign-outs and revocations are keyed by it, and
// the admin API checks grantsAdmin against it; TokenIssuer keeps the iss.
func TestIssuerIsTheEntry(t *testing.T) {
	ck := devidp.NewClock(time.Now().Truncate(time.Second))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	jwks := idp.URL() + "/jwks.json"
	entraV2, multi := "https://login.microsoftonline.com/"+tenant+"/v2.0", "https://login.microsoftonline.com/{tenantid}/v2.0"
	const other = "11111111-2222-3333-4444-555555555555"
	v, err := NewVerifier(Config{Now: ck.Now, Issuers: []Issuer{
		{Issuer: entraV2, JWKSURL: jwks, Profile: "entra", Audiences: []string{"api://sessionguard-app", entraClient}},
		{Issuer: multi, JWKSURL: jwks, Profile: "entra", Audiences: []string{"api://multi"}, Tenants: []string{other}},
		{Issuer: "https://accounts.google.com", JWKSURL: jwks, Profile: "google", ClientIDs: []string{googleID}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fixture, iss string
		edit         func(c, h map[string]any)
		want         string
	}{
		{"entra-v2-access", entraV2, nil, entraV2},
		{"entra-v1-access", "https://sts.windows.net/" + tenant + "/", nil, entraV2},
		{"entra-v2-access", "https://login.microsoftonline.com/" + other + "/v2.0", func(c, _ map[string]any) { c["aud"], c["tid"] = "api://multi", other }, multi},
		{"google-id", "accounts.google.com", nil, "https://accounts.google.com"},
	} {
		edit := func(cl, h map[string]any) {
			cl["iss"] = c.iss
			if c.edit != nil {
				c.edit(cl, h)
			}
		}
		got, err := v.Verify(context.Background(), fixtureToken(t, idp, ck.Now(), c.fixture, c.iss, edit))
		if err != nil || got.Issuer != c.want || got.TokenIssuer != c.iss {
			t.Errorf("Verify(iss %s) = issuer %q, token issuer %q, %v; want %q, %q", c.iss, got.Issuer, got.TokenIssuer, err, c.want, c.iss)
		}
	}
}

func TestProfileConfig(t *testing.T) {
	for name, is := range map[string]Issuer{
		"unknown profile":              {Issuer: "https://a", Profile: "ping", Audiences: []string{"x"}},
		"cognito without clientIds":    {Issuer: "https://a", Profile: "cognito"},
		"google without clientIds":     {Issuer: "https://accounts.google.com", Profile: "google"},
		"oidc without audiences":       {Issuer: "https://a"},
		"oidc, a client as audience":   {Issuer: "https://a", Audiences: []string{"api", "web"}, ClientIDs: []string{"web"}},
		"auth0, a client as audience":  {Issuer: "https://a/", Profile: "auth0", Audiences: []string{"web"}, ClientIDs: []string{"web"}},
		"multi-tenant without tenants": {Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", Profile: "entra", Audiences: []string{"x"}},
		"placeholder outside entra":    {Issuer: "https://a/{tenantid}", Profile: "oidc", Audiences: []string{"x"}, Tenants: []string{"t"}},
		"tenants without placeholder":  {Issuer: "https://a", Profile: "entra", Audiences: []string{"x"}, Tenants: []string{"t"}},
	} {
		if _, err := NewVerifier(Config{Issuers: []Issuer{is}}); err == nil {
			t.Errorf("%s: NewVerifier = nil error; want a configuration error", name)
		}
	}
	// Where the profile tells ID tokens apart by more than the audience, an
	// app that is its own API (Entra's single app registration) may list
	// its client id as an audience.
	for _, is := range []Issuer{
		{Issuer: "https://login.microsoftonline.com/" + tenant + "/v2.0", Profile: "entra", Audiences: []string{entraClient}, ClientIDs: []string{entraClient}},
		{Issuer: "https://a", Profile: "okta", Audiences: []string{"web"}, ClientIDs: []string{"web"}},
		{Issuer: "https://a", Profile: "rfc9068", Audiences: []string{"web"}, ClientIDs: []string{"web"}},
	} {
		if _, err := NewVerifier(Config{Issuers: []Issuer{is}}); err != nil {
			t.Errorf("profile %s with its client as audience: %v; want accepted", is.Profile, err)
		}
	}
	// v1 and v2 spellings of one tenant are one entry; listing both is a duplicate.
	_, err := NewVerifier(Config{Issuers: []Issuer{
		{Issuer: "https://sts.windows.net/" + tenant + "/", Profile: "entra", Audiences: []string{"x"}},
		{Issuer: "https://login.microsoftonline.com/" + tenant + "/v2.0", Profile: "entra", Audiences: []string{"x"}},
	}})
	if err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("v1 and v2 entries of one tenant: err = %v; want listed twice", err)
	}
}

// grantsAdmin on a multi-tenant entry is refused when the verifier is
// built at start: each of its tenants could make its own users admins.
func TestGrantsAdminRefusedOnAMultiTenantEntry(t *testing.T) {
	_, err := NewVerifier(Config{Issuers: []Issuer{{Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", Profile: "entra",
		JWKSURL: "https://login.microsoftonline.com/common/discovery/v2.0/keys", Audiences: []string{"api://multi"},
		Tenants: []string{"11111111-1111-1111-1111-111111111111"}, GrantsAdmin: true}}})
	if err == nil || !strings.Contains(err.Error(), "grantsAdmin") || !strings.Contains(err.Error(), "multi-tenant") {
		t.Errorf("NewVerifier = %v; want an error naming grantsAdmin on a multi-tenant issuer", err)
	}
}

// A caller changing the profile it was given changes no profile.
func TestProfilesCannotBeChanged(t *testing.T) {
	p, ok := ProfileNamed("cognito")
	if !ok || len(p.ClaimEquals) == 0 {
		t.Fatalf("ProfileNamed(cognito) = %+v, %v", p, ok)
	}
	p.ClaimEquals["token_use"] = "id"
	p.ClientClaims = append(p.ClientClaims[:0], "anything")
	again, _ := ProfileNamed("cognito")
	if again.ClaimEquals["token_use"] != "access" || (len(again.ClientClaims) > 0 && again.ClientClaims[0] == "anything") {
		t.Errorf("a caller's change reached the profile: %+v", again)
	}
}

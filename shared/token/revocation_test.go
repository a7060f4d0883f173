package token

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/reason"
)

const revocationEndpoint = "https://api.example.test/global-token-revocation"

// TestRevocationRules: the JWT of a global token revocation request, as
// Okta signs it (typ global-token-revocation+jwt, iss, sub the calling
// app, aud the endpoint, jti, iat, nbf five minutes back, exp five ahead),
// is accepted; each rule broken on its own is refused, with a reason code.
func TestRevocationRules(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuers[0].Audiences = []string{revocationEndpoint} })
	now := f.clock.Now()
	key := f.idp.KeyFor(jwa.RS256)
	mint := func(edit func(h, c map[string]any)) string {
		h := map[string]any{"alg": "RS256", "kid": key.Kid, "typ": "global-token-revocation+jwt"}
		c := map[string]any{"iss": f.idp.URL(), "sub": "0oa-app", "aud": revocationEndpoint, "jti": "gtr-1",
			"iat": now.Unix(), "nbf": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		if edit != nil {
			edit(h, c)
		}
		hb, _ := json.Marshal(h)
		cb, _ := json.Marshal(c)
		return signRaw(t, jwa.RS256, key.Private, hb, cb)
	}
	got, err := f.v.VerifyRevocation(context.Background(), mint(nil))
	if err != nil || got.Issuer != f.idp.URL() || got.Caller != "0oa-app" || got.JTI != "gtr-1" || len(got.Audience) != 1 || got.Audience[0] != revocationEndpoint {
		t.Fatalf("VerifyRevocation(valid) = %+v, %v", got, err)
	}
	if want := now.Add(5*time.Minute + DefaultClockSkew); !got.RefusedFrom.Equal(want) {
		t.Errorf("RefusedFrom = %v; want exp plus the skew, %v", got.RefusedFrom, want)
	}
	for name, c := range map[string]struct {
		edit func(h, c map[string]any)
		want reason.Code
	}{
		"no typ":                     {func(h, _ map[string]any) { delete(h, "typ") }, reason.OK},
		"typ JWT":                    {func(h, _ map[string]any) { h["typ"] = "JWT" }, reason.OK},
		"aud an array with it":       {func(_, c map[string]any) { c["aud"] = []string{"https://x.example", revocationEndpoint} }, reason.OK},
		"no nbf":                     {func(_, c map[string]any) { delete(c, "nbf") }, reason.OK},
		"another key":                {func(h, _ map[string]any) { h["kid"] = "not-a-key" }, reason.TokenSignature},
		"alg none":                   {func(h, _ map[string]any) { h["alg"] = "none" }, reason.TokenSignature},
		"another iss":                {func(_, c map[string]any) { c["iss"] = "https://evil.example" }, reason.TokenIssuer},
		"aud another URL":            {func(_, c map[string]any) { c["aud"] = "https://evil.example/global-token-revocation" }, reason.TokenAudience},
		"aud the URL with query":     {func(_, c map[string]any) { c["aud"] = revocationEndpoint + "?x=1" }, reason.TokenAudience},
		"no aud":                     {func(_, c map[string]any) { delete(c, "aud") }, reason.TokenAudience},
		"expired":                    {func(_, c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }, reason.TokenExpired},
		"no exp":                     {func(_, c map[string]any) { delete(c, "exp") }, reason.TokenMalformed},
		"iat too old":                {func(_, c map[string]any) { c["iat"] = now.Add(-RevocationMaxAge - 2*time.Minute).Unix() }, reason.TokenExpired},
		"iat in the future":          {func(_, c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }, reason.TokenNotYetValid},
		"nbf in the future":          {func(_, c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }, reason.TokenNotYetValid},
		"no iat":                     {func(_, c map[string]any) { delete(c, "iat") }, reason.TokenMalformed},
		"no jti":                     {func(_, c map[string]any) { delete(c, "jti") }, reason.TokenMalformed},
		"no sub":                     {func(_, c map[string]any) { delete(c, "sub") }, reason.TokenMalformed},
		"typ at+jwt":                 {func(h, _ map[string]any) { h["typ"] = "at+jwt" }, reason.TokenMalformed},
		"typ logout+jwt":             {func(h, _ map[string]any) { h["typ"] = "logout+jwt" }, reason.TokenMalformed},
		"events":                     {func(_, c map[string]any) { c["events"] = map[string]any{BackchannelLogoutEvent: map[string]any{}} }, reason.TokenMalformed},
		"a client claim (azp)":       {func(_, c map[string]any) { c["azp"] = devidp.DefaultClientID }, reason.TokenMalformed},
		"a client claim (cid)":       {func(_, c map[string]any) { c["cid"] = devidp.DefaultClientID }, reason.TokenMalformed},
		"a client claim (client_id)": {func(_, c map[string]any) { c["client_id"] = devidp.DefaultClientID }, reason.TokenMalformed},
		"a client claim (appid)":     {func(_, c map[string]any) { c["appid"] = devidp.DefaultClientID }, reason.TokenMalformed},
		"a nonce":                    {func(_, c map[string]any) { c["nonce"] = "n-0S6" }, reason.TokenMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.VerifyRevocation(context.Background(), mint(c.edit))
			wantCode(t, err, c.want)
		})
	}
}

// A revocation request's JWT never passes as an access token, a logout
// token or a SET, and none of them passes as one: even when its issuer
// lists the endpoint's URL among its audiences.
func TestRevocationKindsDoNotCross(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Issuers[0].Audiences = []string{devidp.DefaultAudience, revocationEndpoint}
		c.Issuers[0].ClientIDs = []string{devidp.DefaultClientID}
	})
	ctx := context.Background()
	access := f.mint(t, devidp.Token{Audience: revocationEndpoint})
	set, err := f.idp.MintSET("alice", "session-revoked", revocationEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	logout, err := f.idp.MintLogout("alice", "op-1", devidp.DefaultClientID)
	if err != nil {
		t.Fatal(err)
	}
	gtr := func(typ string) string {
		c := map[string]any{"jti": "gtr-k", "azp": nil, "auth_time": nil}
		raw, err := f.idp.Mint(devidp.Token{User: "0oa-app", Audience: revocationEndpoint, TTL: 5 * time.Minute, Claims: c, Headers: map[string]any{"typ": typ}})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	typed := gtr("global-token-revocation+jwt")
	if _, err := f.v.VerifyRevocation(ctx, typed); err != nil {
		t.Fatalf("the request's JWT itself: %v", err)
	}
	// An access token in every other respect (the API's audience, a
	// client), typed as a request's JWT: refused as an access token for
	// its typ alone.
	typedAccess := func(typ string) string { return f.mint(t, devidp.Token{Headers: map[string]any{"typ": typ}}) }
	if _, err := f.v.Verify(ctx, typedAccess("at+jwt")); err != nil {
		t.Fatalf("the access token typed at+jwt: %v", err)
	}
	for _, typ := range []string{"global-token-revocation+jwt", "application/Global-Token-Revocation+JWT"} {
		_, err := f.v.Verify(ctx, typedAccess(typ))
		if reason.CodeOf(err) != reason.TokenMalformed {
			t.Errorf("an access token typed %s: Verify = %v; want refused token_malformed", typ, err)
		}
	}
	for name, err := range map[string]error{
		"access token (aud the endpoint) as a request": second(f.v.VerifyRevocation(ctx, access)),
		"SET as a request":           second(f.v.VerifyRevocation(ctx, set)),
		"logout token as a request":  second(f.v.VerifyRevocation(ctx, logout)),
		"request as an access token": second(f.v.Verify(ctx, typed)),
		"request as a SET":           second(f.v.VerifySET(ctx, typed)),
		"request as a logout token":  second(f.v.VerifyLogout(ctx, typed)),
	} {
		if err == nil || reason.CodeOf(err) == reason.OK {
			t.Errorf("%s: accepted; want refused with a reason code", name)
		}
	}
}

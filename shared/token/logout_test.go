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

// TestLogoutTokenRules: a back-channel logout token is accepted only when
// every rule of OpenID Connect Back-Channel Logout 1.0 section 2.6 holds;
// each rule broken on its own is refused, with a reason code.
func TestLogoutTokenRules(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuers[0].ClientIDs = []string{devidp.DefaultClientID} })
	now := f.clock.Now()
	key := f.idp.KeyFor(jwa.RS256)
	mint := func(edit func(h, c map[string]any)) string {
		h := map[string]any{"alg": "RS256", "kid": key.Kid, "typ": "logout+jwt"}
		c := map[string]any{"iss": f.idp.URL(), "aud": devidp.DefaultClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
			"jti": "bcl-1", "sub": "alice", "sid": "op-session-1", "events": map[string]any{BackchannelLogoutEvent: map[string]any{}}}
		if edit != nil {
			edit(h, c)
		}
		hb, _ := json.Marshal(h)
		cb, _ := json.Marshal(c)
		return signRaw(t, jwa.RS256, key.Private, hb, cb)
	}
	got, err := f.v.VerifyLogout(context.Background(), mint(nil))
	if err != nil || got.Subject != "alice" || got.SessionID != "op-session-1" || got.JTI != "bcl-1" {
		t.Fatalf("VerifyLogout(valid) = %+v, %v; want alice, op-session-1, bcl-1", got, err)
	}
	for name, c := range map[string]struct {
		edit func(h, c map[string]any)
		want reason.Code
	}{
		"sid only":                           {func(_, c map[string]any) { delete(c, "sub") }, reason.OK},
		"sub only":                           {func(_, c map[string]any) { delete(c, "sid") }, reason.OK},
		"no typ":                             {func(h, _ map[string]any) { delete(h, "typ") }, reason.OK},
		"another key":                        {func(h, _ map[string]any) { h["kid"] = "not-a-key" }, reason.TokenSignature},
		"another iss":                        {func(_, c map[string]any) { c["iss"] = "https://evil.example" }, reason.TokenIssuer},
		"aud another client":                 {func(_, c map[string]any) { c["aud"] = "another-client" }, reason.TokenAudience},
		"aud the API audience, not a client": {func(_, c map[string]any) { c["aud"] = devidp.DefaultAudience }, reason.TokenAudience},
		"no iat":                             {func(_, c map[string]any) { delete(c, "iat") }, reason.TokenMalformed},
		"iat in the future":                  {func(_, c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }, reason.TokenNotYetValid},
		"iat too old":                        {func(_, c map[string]any) { c["iat"] = now.Add(-LogoutMaxAge - 2*time.Minute).Unix(); delete(c, "exp") }, reason.TokenExpired},
		"expired":                            {func(_, c map[string]any) { c["exp"] = now.Add(-5 * time.Minute).Unix() }, reason.TokenExpired},
		"no jti":                             {func(_, c map[string]any) { delete(c, "jti") }, reason.TokenMalformed},
		"no events":                          {func(_, c map[string]any) { delete(c, "events") }, reason.TokenMalformed},
		"events without the logout event": {func(_, c map[string]any) {
			c["events"] = map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{}}
		}, reason.TokenMalformed},
		"the logout event not an object": {func(_, c map[string]any) { c["events"] = map[string]any{BackchannelLogoutEvent: true} }, reason.TokenMalformed},
		"neither sub nor sid":            {func(_, c map[string]any) { delete(c, "sub"); delete(c, "sid") }, reason.TokenMalformed},
		"a nonce":                        {func(_, c map[string]any) { c["nonce"] = "n-0S6" }, reason.TokenMalformed},
		"typ at+jwt":                     {func(h, _ map[string]any) { h["typ"] = "at+jwt" }, reason.TokenMalformed},
		"typ secevent+jwt":               {func(h, _ map[string]any) { h["typ"] = "secevent+jwt" }, reason.TokenMalformed},
		"alg none":                       {func(h, _ map[string]any) { h["alg"] = "none" }, reason.TokenSignature},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.VerifyLogout(context.Background(), mint(c.edit))
			wantCode(t, err, c.want)
		})
	}
}

// Each kind of token is refused as each other kind: an access token, a
// security event token and a logout token.
func TestTokenKindsDoNotCross(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuers[0].ClientIDs = []string{devidp.DefaultClientID} })
	ctx := context.Background()
	access := f.mint(t, devidp.Token{})
	set, err := f.idp.MintSET("alice", "session-revoked", devidp.DefaultAudience)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	key := f.idp.KeyFor(jwa.RS256)
	hb, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": key.Kid, "typ": "logout+jwt"})
	cb, _ := json.Marshal(map[string]any{"iss": f.idp.URL(), "aud": []string{devidp.DefaultClientID, devidp.DefaultAudience}, "iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(), "jti": "bcl-2", "sub": "alice", "events": map[string]any{BackchannelLogoutEvent: map[string]any{}}})
	logout := signRaw(t, jwa.RS256, key.Private, hb, cb)
	// Untyped, a logout token is still no access token nor SET: its events say so.
	hb2, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": key.Kid})
	untyped := signRaw(t, jwa.RS256, key.Private, hb2, cb)

	if _, err := f.v.Verify(ctx, access); err != nil {
		t.Fatalf("the access token itself: %v", err)
	}
	if _, err := f.v.VerifyLogout(ctx, logout); err != nil {
		t.Fatalf("the logout token itself: %v", err)
	}
	for name, err := range map[string]error{
		"access token as a logout token":          second(f.v.VerifyLogout(ctx, access)),
		"SET as a logout token":                   second(f.v.VerifyLogout(ctx, set)),
		"logout token as an access token":         second(f.v.Verify(ctx, logout)),
		"untyped logout token as an access token": second(f.v.Verify(ctx, untyped)),
		"logout token as a SET":                   second(f.v.VerifySET(ctx, logout)),
		"untyped logout token as a SET":           second(f.v.VerifySET(ctx, untyped)),
		"SET as an access token":                  second(f.v.Verify(ctx, set)),
		"access token as a SET":                   second(f.v.VerifySET(ctx, access)),
	} {
		if err == nil || reason.CodeOf(err) == reason.OK {
			t.Errorf("%s: accepted; want refused with a reason code", name)
		}
	}
}

func second[T any](_ T, err error) error { return err }

package oidcprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
)

func TestSignInAndMachineTokens(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider)
	s, err := Start(Options{RedirectURIs: []string{"http://127.0.0.1:9/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	toks, err := s.NewBrowser().SignIn(ctx, AppClient, "http://127.0.0.1:9/cb", "alice")
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs())
	}
	if strings.Count(toks.AccessToken, ".") != 2 || strings.Count(toks.IDToken, ".") != 2 {
		t.Fatalf("tokens = %+v; want a JWT access token and an ID token", toks)
	}
	m, err := s.ClientCredentials(ctx)
	if err != nil || strings.Count(m.AccessToken, ".") != 2 {
		t.Fatalf("client credentials = %+v, %v; want a JWT access token", m, err)
	}
}

// TestDPoPBoundTokens: a token request with a DPoP proof gets a JWT
// access token bound to the proof's key (cnf.jkt its thumbprint,
// token_type DPoP), by client credentials and by the authorization code;
// a replayed proof is refused; without a proof the token is unbound.
func TestDPoPBoundTokens(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider)
	s, err := Start(Options{RedirectURIs: []string{"http://127.0.0.1:9/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	key, err := devidp.NewDPoPKey(jwa.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	prove := func(method, url string) string { return key.MustSign(devidp.Proof{Method: method, URL: url}) }
	jkt := func(tok string) string {
		t.Helper()
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %q", tok)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct {
			Cnf struct{ Jkt string }
		}
		json.Unmarshal(raw, &c)
		return c.Cnf.Jkt
	}
	m, err := s.ClientCredentialsDPoP(ctx, prove)
	if err != nil || m.TokenType != "DPoP" || jkt(m.AccessToken) != key.Thumbprint {
		t.Fatalf("client credentials with a proof = %+v, %v; want token_type DPoP and cnf.jkt %s\n%s", m, err, key.Thumbprint, s.Logs())
	}
	b := s.NewBrowser()
	b.DPoP = prove
	u, err := b.SignIn(ctx, AppClient, "http://127.0.0.1:9/cb", "alice")
	if err != nil || u.TokenType != "DPoP" || jkt(u.AccessToken) != key.Thumbprint {
		t.Fatalf("authorization code with a proof = %+v, %v; want a token bound to the key", u, err)
	}
	replayed := key.MustSign(devidp.Proof{Method: "POST", URL: s.Issuer + "/token"})
	if _, err := s.ClientCredentialsDPoP(ctx, func(string, string) string { return replayed }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClientCredentialsDPoP(ctx, func(string, string) string { return replayed }); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a replayed proof at the token endpoint = %v; want refused", err)
	}
	if plain, err := s.ClientCredentials(ctx); err != nil || jkt(plain.AccessToken) != "" || plain.TokenType != "Bearer" {
		t.Errorf("without a proof = %+v, %v; want an unbound Bearer token", plain, err)
	}
}

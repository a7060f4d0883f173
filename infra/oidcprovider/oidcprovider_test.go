package oidcprovider

import (
	"context"
	"strings"
	"testing"

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

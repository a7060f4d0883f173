package oidcprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Tokens is what the token endpoint answered.
type Tokens struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	TokenType   string `json:"token_type"`
}

// ClientCredentials gets a machine token for the API.
func (s *Server) ClientCredentials(ctx context.Context) (Tokens, error) {
	return s.ClientCredentialsDPoP(ctx, nil)
}

// A Prover signs a DPoP proof for a request (method, URL): the client's
// key proves itself to the token endpoint, which binds the access token
// to it (cnf.jkt) and answers token_type DPoP.
type Prover func(method, url string) string

// ClientCredentialsDPoP gets a machine token for the API, bound to the
// key prove signs with (nil: a Bearer token).
func (s *Server) ClientCredentialsDPoP(ctx context.Context, prove Prover) (Tokens, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}, "resource": {Resource}}
	return tokenRequest(ctx, http.DefaultClient, s.Issuer+"/token", form, MachineClient, MachineSecret, prove)
}

// tokenRequest posts form to the token endpoint u, with client
// credentials in Basic auth when user is set, and a DPoP proof for the
// request when prove is set.
func tokenRequest(ctx context.Context, hc *http.Client, u string, form url.Values, user, pass string, prove Prover) (Tokens, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, fmt.Errorf("oidcprovider: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if prove != nil {
		req.Header.Set("DPoP", prove("POST", u))
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Tokens{}, fmt.Errorf("oidcprovider: token request: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		return Tokens{}, fmt.Errorf("oidcprovider: token endpoint answered %d: %s", resp.StatusCode, data)
	}
	var t Tokens
	if err := json.Unmarshal(data, &t); err != nil {
		return Tokens{}, fmt.Errorf("oidcprovider: token response: %w", err)
	}
	return t, nil
}

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
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api"}, "resource": {Resource}}
	return tokenRequest(ctx, http.DefaultClient, s.Issuer+"/token", form, MachineClient, MachineSecret)
}

// tokenRequest posts form to the token endpoint u, with client
// credentials in Basic auth when user is set.
func tokenRequest(ctx context.Context, hc *http.Client, u string, form url.Values, user, pass string) (Tokens, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, fmt.Errorf("oidcprovider: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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

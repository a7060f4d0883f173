package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser is a user agent with its own cookies: one OP session.
type Browser struct {
	s  *Server
	hc *http.Client
	// DPoP, when set, proves the browser's key at the token endpoint: the
	// access token the code is redeemed for is bound to it.
	DPoP Prover
}

// NewBrowser returns a user agent with an empty cookie jar.
func (s *Server) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{s: s, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// formAction finds a form's action in the provider's pages.
var formAction = regexp.MustCompile(`action="([^"]+)"`)

// SignIn runs the authorization code flow with PKCE for client as user,
// through the provider's own login page, and redeems the code.
func (b *Browser) SignIn(ctx context.Context, client, redirectURI, user string) (Tokens, error) {
	verifier := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {client}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {"openid profile roles"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"}, "state": {"s"}, "resource": {Resource}}
	next := b.s.Issuer + "/auth?" + q.Encode()
	var code string
	for range 10 {
		resp, body, err := b.do(ctx, "GET", next, nil)
		if err != nil {
			return Tokens{}, err
		}
		switch {
		case resp.StatusCode/100 == 3:
			loc, err := resp.Location()
			if err != nil {
				return Tokens{}, fmt.Errorf("oidcprovider: redirect without a location: %w", err)
			}
			if strings.HasPrefix(loc.String(), redirectURI) {
				if code = loc.Query().Get("code"); code == "" {
					return Tokens{}, fmt.Errorf("oidcprovider: redirected without a code: %s", loc)
				}
				return b.redeem(ctx, client, redirectURI, code, verifier)
			}
			next = loc.String()
		case resp.StatusCode == 200 && strings.Contains(string(body), `name="login"`):
			m := formAction.FindStringSubmatch(string(body))
			if m == nil {
				return Tokens{}, errors.New("oidcprovider: login page without a form")
			}
			action, _ := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
			form := url.Values{"prompt": {"login"}, "login": {user}, "password": {"any"}}
			resp, body, err = b.do(ctx, "POST", b.s.Issuer+action.Path, form)
			if err != nil {
				return Tokens{}, err
			}
			if resp.StatusCode/100 != 3 {
				return Tokens{}, fmt.Errorf("oidcprovider: login answered %d: %s", resp.StatusCode, body)
			}
			loc, _ := resp.Location()
			next = loc.String()
		default:
			return Tokens{}, fmt.Errorf("oidcprovider: %s answered %d: %.300s", next, resp.StatusCode, body)
		}
	}
	return Tokens{}, errors.New("oidcprovider: too many steps before the code")
}

// do sends one request with the browser's cookies, following no redirect,
// and reads up to 1 MiB of the answer.
func (b *Browser) do(ctx context.Context, method, u string, form url.Values) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, nil, fmt.Errorf("oidcprovider: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("oidcprovider: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, data, err
}

// redeem exchanges an authorization code (with its PKCE verifier) for
// tokens.
func (b *Browser) redeem(ctx context.Context, client, redirectURI, code, verifier string) (Tokens, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {client}, "code_verifier": {verifier}, "resource": {Resource}}
	return tokenRequest(ctx, b.hc, b.s.Issuer+"/token", form, "", "", b.DPoP)
}

// xsrfInput finds the end-session form's xsrf value.
var xsrfInput = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)

// EndSession signs the user out at the OP (RP-initiated logout, confirmed
// on the OP's own page): the OP then posts a logout token to each client
// of the session with a back-channel logout URI, before it answers.
func (b *Browser) EndSession(ctx context.Context, idToken, postLogoutRedirect string) error {
	q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {postLogoutRedirect}}
	resp, body, err := b.do(ctx, "GET", b.s.Issuer+"/session/end?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	m, x := formAction.FindStringSubmatch(string(body)), xsrfInput.FindStringSubmatch(string(body))
	if resp.StatusCode != 200 || m == nil || x == nil {
		return fmt.Errorf("oidcprovider: the end-session page answered %d without its form: %.300s", resp.StatusCode, body)
	}
	action, _ := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	resp, body, err = b.do(ctx, "POST", b.s.Issuer+action.Path, url.Values{"xsrf": {x[1]}, "logout": {"yes"}})
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 3 {
		return fmt.Errorf("oidcprovider: the sign-out answered %d: %.300s", resp.StatusCode, body)
	}
	return nil
}

// randomBytes is n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

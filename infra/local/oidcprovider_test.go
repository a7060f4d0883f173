package local

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/oidcprovider"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/token"
)

// opStack starts a real OpenID Provider (oidc-provider) and a local stack
// that trusts it (profile rfc9068: its access tokens are RFC 9068 JWTs)
// and sends the console to it.
func opStack(t *testing.T) (*Stack, *oidcprovider.Server, *syncBuffer) {
	t.Helper()
	return opStackWith(t, "", nil)
}

// opStackWith is opStack with the OP's back-channel logout URI and more
// client ids trusted (the logout token's audience is the app client).
func opStackWith(t *testing.T, backchannelURI string, clientIDs []string) (*Stack, *oidcprovider.Server, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	if backchannelURI == "self" {
		backchannelURI = base + "/backchannel-logout"
	}
	op, err := oidcprovider.Start(oidcprovider.Options{RedirectURIs: []string{base + "/console/", base + "/app"}, BackchannelLogoutURI: backchannelURI})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	logs := &syncBuffer{}
	s, err := Start(Options{Addr: addr, Log: logs, CheckEvery: -1,
		Issuers: []token.Issuer{{Issuer: op.Issuer, Profile: "rfc9068", Audiences: []string{oidcprovider.Resource}, ClientIDs: clientIDs, GrantsAdmin: true}},
		Console: &config.Console{AuthorizeURL: op.Issuer + "/auth", TokenURL: op.Issuer + "/token", ClientID: oidcprovider.ConsoleClient}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, op, logs
}

// startSession signs in with tok through the sessions API; it returns the
// status and the session id.
func startSession(t *testing.T, s *Stack, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/sessions", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ SessionID string }
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &body)
	return resp.StatusCode, body.SessionID
}

// lastReason is the reason of the last logged decision or refusal.
func lastReason(logs *syncBuffer) string {
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var m map[string]any
		if json.Unmarshal([]byte(lines[i]), &m) == nil {
			if r, ok := m["reason"].(string); ok {
				return r
			}
		}
	}
	return ""
}

// Tokens of a real OpenID Provider: its access tokens sign in and pass the
// authorizer, a machine's client-credentials token too; its ID token is
// refused wherever an access token is expected.
func TestOpenIDProviderTokens(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider)
	s, op, logs := opStack(t)
	ctx := context.Background()
	toks, err := op.NewBrowser().SignIn(ctx, oidcprovider.AppClient, s.URL+"/app", "alice")
	if err != nil {
		t.Fatalf("%v\n%s", err, op.Logs())
	}
	code, sid := startSession(t, s, toks.AccessToken)
	if code != 201 {
		t.Fatalf("sign-in with the OP's access token: %d (%s)", code, lastReason(logs))
	}
	if got := status(t, s, toks.AccessToken, sid); got != 200 {
		t.Fatalf("authorizer with the OP's access token: %d (%s)", got, lastReason(logs))
	}
	// The ID token is no access token: refused at sign-in and by the authorizer.
	if code, _ := startSession(t, s, toks.IDToken); code != 401 {
		t.Errorf("sign-in with the OP's ID token: %d; want 401", code)
	}
	if got := status(t, s, toks.IDToken, sid); got != 401 || lastReason(logs) != "token_malformed" {
		t.Errorf("authorizer with the OP's ID token: %d %s; want 401 token_malformed", got, lastReason(logs))
	}
	m, err := op.ClientCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if code, msid := startSession(t, s, m.AccessToken); code != 201 || status(t, s, m.AccessToken, msid) != 200 {
		t.Errorf("the machine client's token: sign-in %d; want 201 and an allow", code)
	}
}

// The OP rotates its signing key mid-test: the new kid is fetched on use,
// and tokens signed by the old key, still published, keep verifying.
func TestOpenIDProviderKeyRotation(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider)
	s, op, logs := opStack(t)
	ctx := context.Background()
	before, err := op.NewBrowser().SignIn(ctx, oidcprovider.AppClient, s.URL+"/app", "alice")
	if err != nil {
		t.Fatal(err)
	}
	code, oldSID := startSession(t, s, before.AccessToken)
	if code != 201 {
		t.Fatalf("sign-in before the rotation: %d", code)
	}
	oldKid := op.SigningKid()
	if err := op.Rotate(); err != nil {
		t.Fatal(err)
	}
	if op.SigningKid() == oldKid {
		t.Fatal("the rotation kept the signing key")
	}
	after, err := op.NewBrowser().SignIn(ctx, oidcprovider.AppClient, s.URL+"/app", "bob")
	if err != nil {
		t.Fatalf("%v\n%s", err, op.Logs())
	}
	if !strings.Contains(header(t, after.AccessToken), op.SigningKid()) {
		t.Fatalf("the new token is not signed by the new key %s", op.SigningKid())
	}
	code, newSID := startSession(t, s, after.AccessToken)
	if code != 201 || status(t, s, after.AccessToken, newSID) != 200 {
		t.Fatalf("a token of the new key: sign-in %d (%s); want 201 and an allow", code, lastReason(logs))
	}
	if got := status(t, s, before.AccessToken, oldSID); got != 200 {
		t.Fatalf("a token of the old, still published key: %d (%s); want 200", got, lastReason(logs))
	}
}

func header(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	raw, err := b64.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// The admin console signs in through the OP's own login page, in the
// browser, and reads the settings with the OP's access token (its roles
// claim carries the admin role).
func TestConsoleSignsInThroughOpenIDProvider(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider, needs.Chromium)
	s, op, logs := opStack(t)
	b := newBrowser(t)
	b.do("open the console", chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible("#signin"), chromedp.Click("#signin"))
	b.do("the OP's login page", chromedp.WaitVisible(`input[name="login"]`))
	b.shot("oidc-provider-login")
	b.do("sign in at the OP", chromedp.SendKeys(`input[name="login"]`, "admin-olga"), chromedp.SendKeys(`input[name="password"]`, "any"),
		chromedp.Click(`button[type="submit"]`))
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#app")); err != nil {
		b.shot("failed-op-console")
		t.Fatalf("console after the OP's sign-in: %v\nOP logs:\n%s\nstack: %s", err, op.Logs(), lastReason(logs))
	}
	b.waitText("#version", "version 0")
	b.shot("console-signed-in-through-oidc-provider")
	if !strings.Contains(logs.String(), `"userId":"admin-olga"`) {
		t.Errorf("no decision logged for admin-olga: %s", strconv.Quote(logs.String()[max(0, logs.Len()-400):]))
	}
}

var b64 = base64.RawURLEncoding

// syncBuffer is a log sink the stack and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func (s *syncBuffer) Len() int { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }

// Sign-out at a real OpenID Provider ends the app session: the user signs
// in to the app twice, through two OP sessions; signing out of the first
// at the OP's end-session page makes the OP post a logout token (with that
// OP session's sid) to /backchannel-logout; the first app session is then
// refused, the second is untouched, and the same logout token posted again
// changes nothing.
func TestBackchannelLogoutFromOpenIDProvider(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider)
	// A recorder between the OP and the stack keeps the logout token.
	var mu sync.Mutex
	var posted []string
	var stackURL string
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = append(posted, string(body))
		target := stackURL
		mu.Unlock()
		resp, err := http.Post(target+"/backchannel-logout", r.Header.Get("Content-Type"), strings.NewReader(string(body)))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer rec.Close()
	s, op, logs := opStackWith(t, rec.URL, []string{oidcprovider.AppClient})
	mu.Lock()
	stackURL = s.URL
	mu.Unlock()
	ctx := context.Background()

	first, second := op.NewBrowser(), op.NewBrowser() // two OP sessions of alice
	t1, err := first.SignIn(ctx, oidcprovider.AppClient, s.URL+"/app", "alice")
	if err != nil {
		t.Fatalf("%v\n%s", err, op.Logs())
	}
	t2, err := second.SignIn(ctx, oidcprovider.AppClient, s.URL+"/app", "alice")
	if err != nil {
		t.Fatal(err)
	}
	_, sid1 := startSession(t, s, t1.AccessToken)
	_, sid2 := startSession(t, s, t2.AccessToken)
	if status(t, s, t1.AccessToken, sid1) != 200 || status(t, s, t2.AccessToken, sid2) != 200 {
		t.Fatalf("both sessions before the sign-out: want allowed (%s)", lastReason(logs))
	}
	if err := first.EndSession(ctx, t1.IDToken, s.URL+"/app"); err != nil {
		t.Fatalf("%v\n%s", err, op.Logs())
	}
	mu.Lock()
	n := len(posted)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the OP posted %d logout tokens; want 1\n%s", n, op.Logs())
	}
	if got := status(t, s, t1.AccessToken, sid1); got != 401 || lastReason(logs) != "session_revoked" {
		t.Errorf("the signed-out OP session's app session: %d %s; want 401 session_revoked", got, lastReason(logs))
	}
	if got := status(t, s, t2.AccessToken, sid2); got != 200 {
		t.Errorf("the other OP session's app session: %d; want 200 (untouched)", got)
	}
	// The same logout token again: refused, nothing changes.
	resp, err := http.Post(s.URL+"/backchannel-logout", "application/x-www-form-urlencoded", strings.NewReader(posted[0]))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(body), `"error":"invalid_request"`) {
		t.Errorf("a replayed logout token: %d %q %s; want 400 invalid_request, no-store", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	if got := status(t, s, t2.AccessToken, sid2); got != 200 {
		t.Errorf("the other session after the replay: %d; want 200", got)
	}
}

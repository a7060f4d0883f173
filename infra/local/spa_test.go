package local

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/oidcprovider"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/token"
)

// spaStack starts a real OpenID Provider whose app client may redirect to
// the example app (/spa/), and a local stack with a clock the test moves
// that trusts the provider and sends the example app to it, its client
// library checking the session every second.
func spaStack(t *testing.T) (*Stack, *oidcprovider.Server, *devidp.Clock, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	op, err := oidcprovider.Start(oidcprovider.Options{RedirectURIs: []string{"http://" + addr + "/spa/"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	clock := devidp.NewClock(time.Now())
	logs := &syncBuffer{}
	s, err := Start(Options{Addr: addr, Log: logs, Now: clock.Now, CheckEvery: -1,
		Issuers: []token.Issuer{{Issuer: op.Issuer, Profile: "rfc9068", Audiences: []string{oidcprovider.Resource}}},
		SPA:     SPA{Authority: op.Issuer, ClientID: oidcprovider.AppClient, PollSeconds: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, op, clock, logs
}

// pageLog records, from the browser's events, each request's URL and
// headers, the requests that failed or were answered 4xx/5xx, and the
// console's errors and warnings.
type pageLog struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	headers  map[string][]network.Headers // by path, the stack's requests only
	failed   []string
	console  []string
	stackURL string
}

func (p *pageLog) listen(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.urls[e.RequestID] = e.Request.URL
		if strings.HasPrefix(e.Request.URL, p.stackURL) {
			u, _ := url.Parse(e.Request.URL)
			p.headers[u.Path] = append(p.headers[u.Path], e.Request.Headers)
		}
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 {
			p.failed = append(p.failed, e.Response.URL+" answered "+e.Response.StatusText)
		}
	case *network.EventLoadingFailed:
		if !e.Canceled { // a navigation away cancels what is in flight: no failure of the page
			p.failed = append(p.failed, p.urls[e.RequestID]+": "+e.ErrorText)
		}
	case *runtime.EventExceptionThrown:
		p.console = append(p.console, "exception: "+e.ExceptionDetails.Text)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			p.console = append(p.console, string(e.Type)+" from the page's script")
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			p.console = append(p.console, string(e.Entry.Level)+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	}
}

// problems are the failures and console messages of the app and of the
// issuer, leaving out only what the issuer's own sign-in and sign-out
// pages (not the app's) fetch for themselves: a web font from the
// internet, which this machine cannot reach (the provider's pages), and
// the icon of the issuer's origin, which it does not have (the app names
// its own, so it never asks for it).
func (p *pageLog) problems(issuerOrigin string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range append(append([]string{}, p.failed...), p.console...) {
		if strings.Contains(f, "fonts.googleapis.com") || strings.Contains(f, issuerOrigin+"/favicon.ico") {
			continue
		}
		out = append(out, f)
	}
	return out
}

// spaAxe holds a view of the example app to no axe violation of any
// impact (b.axe fails on serious and critical ones).
func spaAxe(b *browser, view string) {
	b.t.Helper()
	if counts := b.axe(view); len(counts) > 0 {
		b.t.Errorf("axe on %s: %v; want no violation of any impact", view, counts)
	}
}

// The example single-page app (examples/spa) in headless Chromium, on the
// client library and oidc-client-ts, against a real OpenID Provider: sign
// in there (authorization code with PKCE, its login page), start the
// session (its id only in the HttpOnly cookie: no request carries
// X-Session-Id), call the example API; the idle warning at idleWarnAt on
// the stack's clock, moved there, and Keep working records activity and
// takes it away; sign out ends the session and the provider's session and
// sends the user to sign in again, and a new sign-in starts a new session.
// Every view of the app is checked by axe, and nothing failed: no request
// to the stack or the provider failed or was answered 4xx/5xx, and the
// console has no error or warning.
func TestSPAWithOpenIDProvider(t *testing.T) {
	needs.Parts(t, needs.OIDCProvider, needs.Chromium, needs.AxeCore)
	ctx := context.Background()
	s, op, clock, logs := spaStack(t)
	idle := policy.Defaults()
	idle.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 6}
	if err := s.Store.PutSettings(ctx, policy.SettingsChange{Environment: Environment, Version: 1, At: clock.Now(), Actor: "test", Old: policy.Defaults(), New: idle}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	pl := &pageLog{urls: map[network.RequestID]string{}, headers: map[string][]network.Headers{}, stackURL: s.URL}
	if err := chromedp.Listen(b.ctx, pl.listen); err != nil {
		t.Fatal(err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		b.shot("failed-spa")
		t.Fatalf(format+"\nOP logs:\n%s\nlast reason: %s", append(args, op.Logs(), lastReason(logs))...)
	}
	signInAtOP := func(user string) {
		t.Helper()
		b.do("the provider's login page", chromedp.WaitVisible(`input[name="login"]`))
		b.do("sign in at the provider as "+user, chromedp.SendKeys(`input[name="login"]`, user), chromedp.SendKeys(`input[name="password"]`, "any"),
			chromedp.Click(`button[type="submit"]`))
		b.waitText("#status", "Signed in as "+user+".")
	}

	b.do("open the app", chromedp.Navigate(s.URL+"/spa/"), chromedp.WaitVisible("#signin"))
	b.waitText("#status", "You are not signed in.")
	spaAxe(b, "spa signed out")
	b.do("sign in", chromedp.Click("#signin"))
	signInAtOP("alice")
	b.waitText("#limits", "Ends after inactivity")
	spaAxe(b, "spa signed in")
	b.do("call the API", chromedp.Click("#call"))
	b.waitText("#answer", `"message": "hello, alice"`)
	b.shot("spa-signed-in")
	sessions := func() []session.Session {
		t.Helper()
		list, _, err := s.Store.UserSessions(ctx, Environment, session.UserKey{Issuer: op.Issuer, Subject: "alice"}, session.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var live []session.Session
		for _, x := range list {
			if x.RevokedAt.IsZero() {
				live = append(live, x)
			}
		}
		return live
	}
	if live := sessions(); len(live) != 1 || live[0].ClientID != oidcprovider.AppClient {
		fail("alice's live sessions after the sign-in = %+v; want one, of client %s", live, oidcprovider.AppClient)
	}

	// Sign out: the session ends, then the provider's session (its
	// confirmation page), and the app sends the user to sign in again.
	b.do("sign out", chromedp.Click("#signout"))
	b.do("the provider's sign-out page", chromedp.WaitVisible(`button[value="yes"]`))
	if live := sessions(); len(live) != 0 {
		fail("alice's live sessions after the sign-out = %+v; want none", live)
	}
	b.do("confirm at the provider", chromedp.Click(`button[value="yes"]`))
	b.do("sent to sign in again", chromedp.WaitVisible(`input[name="login"]`))
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	if !strings.HasPrefix(loc, op.Issuer) {
		fail("after the sign-out the browser is at %s; want the provider's login page", loc)
	}
	b.shot("spa-sent-to-sign-in")
	signInAtOP("alice")
	b.do("call the API again", chromedp.Click("#call"))
	b.waitText("#answer", `"message": "hello, alice"`)
	if live := sessions(); len(live) != 1 {
		fail("alice's live sessions after signing in again = %d; want one, a new one", len(live))
	}

	// The idle warning: the stack's clock moves to 3 minutes before the
	// idle end (half the 6-minute timeout); the library's next check
	// (every second) sees it, counted from the server's clock. (Last: the
	// provider's clock stays behind, and a sign-in after a sign-out
	// recorded on the moved clock would look older than the sign-out.)
	if visible, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!document.querySelector("#warning").hidden`)); visible {
		fail("the warning shows before idleWarnAt")
	}
	clock.Add(3*time.Minute + time.Second)
	b.do("the idle warning", chromedp.WaitVisible("#warning"))
	b.waitText("#warning-text", "Your session ends after inactivity in 2:5")
	b.waitText("#status", "about 3 minutes")
	focused, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "keep" {
		t.Errorf("focus with the idle warning on #%s; want #keep", focused)
	}
	spaAxe(b, "spa idle warning")
	b.shot("spa-idle-warning")
	b.do("keep working", chromedp.Click("#keep"), chromedp.WaitNotVisible("#warning"))
	b.waitText("#status", "You are still signed in.")
	if live := sessions(); len(live) != 1 || live[0].LastActivityAt.Sub(clock.Now()).Abs() > time.Second {
		fail("alice's session after Keep working = %+v; want its activity recorded at the stack's now", live)
	}

	// The session travelled in the HttpOnly cookie only.
	pl.mu.Lock()
	for path, hs := range pl.headers {
		for _, h := range hs {
			for k := range h {
				if strings.EqualFold(k, "X-Session-Id") {
					t.Errorf("a request to %s carried %s: the session should travel in the HttpOnly cookie", path, k)
				}
			}
		}
	}
	calls := len(pl.headers["/example/hello"])
	pl.mu.Unlock()
	if calls != 2 {
		t.Errorf("the app called /example/hello %d times; want 2", calls)
	}
	if cookie, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(cookie, "sg_session") {
		t.Errorf("document.cookie = %q: the session cookie must be HttpOnly", cookie)
	}
	for _, p := range pl.problems(op.Issuer) {
		t.Errorf("in the browser: %s", p)
	}
}

// The example app as `make run` serves it, signing in at the development
// issuer (no ID token, no sign-out endpoint there): sign in, call the
// API; under "Your sessions", see this browser's session and two others
// of the user's, end one, then sign out everywhere else (the two are
// refused afterwards, this one goes on; each view axe-clean); and sign
// out, which sends the user to the issuer's sign-in form.
func TestSPAWithDevelopmentIssuer(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	s, clock := startStack(t)
	b := newBrowser(t)
	pl := &pageLog{urls: map[network.RequestID]string{}, headers: map[string][]network.Headers{}, stackURL: s.URL}
	if err := chromedp.Listen(b.ctx, pl.listen); err != nil {
		t.Fatal(err)
	}
	// Dora is signed in elsewhere already: in Firefox on her laptop, and
	// in an app that sends no browser's User-Agent.
	laptop := otherSession(t, s, "dora", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	script := otherSession(t, s, "dora", "")
	b.do("open the app", chromedp.Navigate(s.URL+"/spa/"), chromedp.WaitVisible("#signin"))
	b.do("sign in", chromedp.Click("#stay"), chromedp.Click("#signin"))
	b.do("the issuer's form", chromedp.WaitVisible("#username"))
	b.typeInto("#username", "dora")
	b.do("sign in there", chromedp.Click("button#signin"))
	b.waitText("#status", "Signed in as dora.")
	b.waitText("#limits", "Stay signed in\nyes")
	b.do("call the API", chromedp.Click("#call"))
	b.waitText("#answer", `"message": "hello, dora"`)
	spaAxe(b, "spa signed in at the development issuer")

	// Your sessions: this browser's first, then the laptop's and the
	// app's; end the laptop's, then sign out everywhere else.
	b.waitText("#sessions li:first-child", "Headless Chrome on Linux")
	b.waitText("#sessions li:first-child", "This device")
	b.waitText("#sessions", "Firefox on Linux")
	b.waitText("#sessions", "Unknown device")
	if n, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions li").length`)); n != 3 {
		t.Fatalf("the app lists %d sessions; want 3", n)
	}
	spaAxe(b, "spa your sessions")
	b.shot("spa-your-sessions")
	laptopID := hashOf(t, laptop).Prefix()
	b.do("end the laptop's session", chromedp.Click(`#sessions li[data-id="`+laptopID+`"] button`))
	b.waitText("#status", "Ended the session on Firefox on Linux.")
	b.waitCount("#sessions li", 2)
	if got, _ := s.Store.Session(context.Background(), hashOf(t, laptop)); got.RevokeReason != session.CauseEndedByUser {
		t.Errorf("the laptop's session after End = %+v; want ended by the user", got)
	}
	b.do("sign out everywhere else", chromedp.Click("#end-others"))
	b.waitText("#status", "Signed out of 1 other session.")
	b.waitCount("#sessions li", 1)
	tok, err := s.IdP.Mint(devidp.Token{User: "dora"})
	if err != nil {
		t.Fatal(err)
	}
	for name, sid := range map[string]string{"laptop": laptop, "app": script} {
		if code, reason := currentStatus(t, s, tok, sid); code != http.StatusUnauthorized || reason != "session_revoked" {
			t.Errorf("the %s's session after being ended from the app = %d %s; want 401 session_revoked", name, code, reason)
		}
	}
	b.do("call the API, still signed in here", chromedp.Click("#call"))
	b.waitText("#answer", `"message": "hello, dora"`)

	// More sessions than one request lists (101 besides this one, stored
	// as sign-ins elsewhere left them): the page says the list is cut
	// short, and signing out everywhere else ends them all (the library
	// asks again while the server says truncated).
	dora := session.UserKey{Issuer: s.IdP.URL(), Subject: "dora"}
	for range 101 {
		id, _ := session.NewID()
		if _, err := s.Store.Create(context.Background(), session.Session{Hash: id.Hash(), Environment: Environment, User: dora, ClientID: devidp.DefaultClientID,
			CreatedAt: clock.Now(), Settings: policy.Defaults()}, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	if hidden, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("sessions-more").hidden`)); !hidden {
		t.Error("the page says the list is cut short while it is not")
	}
	b.do("reload the page", chromedp.Reload())
	b.waitCount("#sessions li", 101)
	b.waitText("#your-sessions", "You have more sessions than are listed here")
	spaAxe(b, "spa your sessions, more than listed")
	b.do("sign out everywhere else, again", chromedp.Click("#end-others"))
	b.waitText("#status", "Signed out of 101 other sessions.")
	b.waitCount("#sessions li", 1)
	if hidden, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("sessions-more").hidden`)); !hidden {
		t.Error("after signing out everywhere else the page still says the list is cut short")
	}
	b.do("sign out", chromedp.Click("#signout"))
	b.do("sent to sign in again", chromedp.WaitVisible("#username"))
	if loc, _ := chromedp.Run(b.ctx, chromedp.Location()); !strings.Contains(loc, "/idp/authorize") || !strings.Contains(loc, "prompt=login") {
		t.Errorf("after the sign-out the browser is at %s; want the issuer's sign-in with prompt=login", loc)
	}
	for _, p := range pl.problems(s.URL) { // the development issuer's form is on the stack's origin
		t.Errorf("in the browser: %s", p)
	}
}

// otherSession signs user in with a development token, from the browser
// userAgent names ("" sends none of a browser's), and returns the
// session id.
func otherSession(t *testing.T, s *Stack, user, userAgent string) string {
	t.Helper()
	tok, err := s.IdP.Mint(devidp.Token{User: user})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ SessionID string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in of %s: %d %v", user, resp.StatusCode, err)
	}
	return body.SessionID
}

// hashOf is the stored form of a session id.
func hashOf(t *testing.T, sid string) session.Hash {
	t.Helper()
	id, err := session.ParseID(sid)
	if err != nil {
		t.Fatal(err)
	}
	return id.Hash()
}

// currentStatus is GET /sessions/current with tok and sid: the status and
// the reason of a refusal.
func currentStatus(t *testing.T, s *Stack, tok, sid string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/sessions/current", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Reason string }
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Reason
}

// The example app's pages are served with a policy that lets them load
// and call only their own origin and the issuer: no inline script, no
// framing, no other origin.
func TestSPAContentSecurityPolicy(t *testing.T) {
	s, _ := startStack(t)
	for _, path := range []string{"/spa/", "/spa/config.json", "/spa/app.js"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
			if strings.Contains(csp, bad) {
				t.Errorf("%s: Content-Security-Policy %q allows %q", path, csp, bad)
			}
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: %d, Referrer-Policy %q; want 200, no-referrer", path, resp.StatusCode, resp.Header.Get("Referrer-Policy"))
		}
	}
}

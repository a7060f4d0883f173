package local

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// Chromium is Debian's chromium, which `make test` installs (make
// browser-deps).
const Chromium = "/usr/bin/chromium"

// artifacts is where the browser tests leave their screenshots.
func artifacts(t *testing.T) string {
	dir := os.Getenv("SG_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newBrowser(t *testing.T, more ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Fatalf("%s is missing: run `make browser-deps` (make test does)", Chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium), chromedp.NoSandbox, chromedp.Headless,
		chromedp.WindowSize(1200, 1400))
	opts = append(opts, more...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // start the browser on the long-lived context
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, shots: artifacts(t)}
}

// do runs steps with a time limit.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// waitText waits until sel's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	if b.poll(func(ctx context.Context) bool {
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		return err == nil && strings.Contains(s, want)
	}) {
		return
	}
	b.shot("failed-wait")
	b.t.Fatalf("%s never showed %q (last: %q)", sel, want, b.text(sel))
}

// waitCount waits until the page has n elements matching sel.
func (b *browser) waitCount(sel string, n int) {
	b.t.Helper()
	count := func(ctx context.Context) int {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
		return got
	}
	if b.poll(func(ctx context.Context) bool { return count(ctx) == n }) {
		return
	}
	b.shot("failed-count")
	b.t.Fatalf("the page never had %d of %s (last: %d)", n, sel, count(b.ctx))
}

// poll asks the page cond every 100 ms (each ask given 2 s) until it
// holds, for at most 20 s, and says whether it did: it polls the page,
// it does not wait for time to pass on the server.
func (b *browser) poll(cond func(context.Context) bool) bool {
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok := cond(ctx)
		cancel()
		if ok {
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}

func (b *browser) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
}

// setUnit picks a duration field's unit (minutes in it: 1, 60 or 1440).
func (b *browser) setUnit(sel string, minutes int) {
	b.t.Helper()
	b.do("unit of "+sel, chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); e.value = "`+strconv.Itoa(minutes)+`"; e.dispatchEvent(new Event("change")); })()`))
}

// typeInto empties a field and types value into it, as a user would.
func (b *browser) typeInto(sel, value string) {
	b.t.Helper()
	clear := chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(` + strconv.Quote(sel) + `); e.value = ""; e.dispatchEvent(new Event("input")); })()`)
	b.do("type into "+sel, clear, chromedp.SendKeys(sel, value))
}

func startStack(t *testing.T) (*Stack, *devidp.Clock) {
	t.Helper()
	clock := devidp.NewClock(time.Now())
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncWriter{}, Now: clock.Now, CheckEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock
}

type syncWriter struct{}

func (syncWriter) Write(p []byte) (int, error) { return len(p), nil }

// signIn makes a session for user through the stack's HTTP API.
func signIn(t *testing.T, s *Stack, user string) (tok, sid string) {
	t.Helper()
	tok, err := s.IdP.Mint(devidp.Token{User: user})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/sessions", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("sign-in of %s: %v %v", user, resp, err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-sg_session" {
			return tok, c.Value
		}
	}
	t.Fatal("no session cookie")
	return "", ""
}

func status(t *testing.T, s *Stack, tok, sid string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/demo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The expiry warning in a real page: the banner appears at warnAt (the
// server's clock moved there), and the user is signed out at the end.
func TestExpiryWarningInBrowser(t *testing.T) {
	needs.Parts(t, needs.Chromium)
	ctx := context.Background()
	s, clock := startStack(t)
	capped := policy.Defaults()
	capped.SessionExpiration = policy.SessionExpiration{Enabled: true, MaxSessionMinutes: 60, WarningMinutes: 20}
	if err := s.Store.PutSettings(ctx, policy.SettingsChange{Environment: Environment, Version: 1, At: clock.Now(), Actor: "test", Old: policy.Defaults(), New: capped}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do("open the app", chromedp.Navigate(s.URL+"/app?user=carol&poll=1"))
	b.waitText("#status", "Signed in as carol")
	visible, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!document.querySelector("#sg-warning") && !document.querySelector("#sg-warning").hidden`))
	if err != nil || visible {
		t.Fatalf("warning shown before warnAt (%v)", err)
	}
	clock.Add(40*time.Minute + time.Second) // warnAt: 20 minutes before the 60-minute end
	b.do("banner at warnAt", chromedp.WaitVisible("#sg-warning"))
	b.waitText("#sg-warning-text", "Your session ends in")
	b.waitText("#sg-countdown", "19:") // 19 min 59 s left, counted from the server's clock
	b.shot("app-expiry-warning")
	clock.Add(20 * time.Minute) // the end
	b.do("signed out at the end", chromedp.WaitVisible("#sg-signed-out"))
	b.shot("app-signed-out")
}

// The idle warning: with a 6-minute idle timeout the banner waits until 3
// minutes before the idle end (half the timeout, not 5 minutes: it does
// not show from the first second), and "Keep working" records activity at
// once, so the idle end moves and the banner goes, though the authorizer
// would not record activity again for a minute.
func TestKeepWorkingResetsTheIdleCountdown(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	ctx := context.Background()
	s, clock := startStack(t)
	idle := policy.Defaults()
	idle.InactivityTimeout = policy.InactivityTimeout{Enabled: true, Minutes: 6}
	if err := s.Store.PutSettings(ctx, policy.SettingsChange{Environment: Environment, Version: 1, At: clock.Now(), Actor: "test", Old: policy.Defaults(), New: idle}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do("open the app", chromedp.Navigate(s.URL+"/app?user=dora&poll=1"))
	b.waitText("#status", "Signed in as dora")
	// The page has polled the session twice (its first answer is applied
	// by then); the server's clock stands still.
	if !b.poll(func(ctx context.Context) bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType("resource").filter(e => new URL(e.name).pathname === "/sessions/current").length`))
		return err == nil && n >= 2
	}) {
		t.Fatal("the page did not poll /sessions/current twice within 20 s")
	}
	if visible, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!document.querySelector("#sg-warning") && !document.querySelector("#sg-warning").hidden`)); visible {
		t.Fatal("the idle warning shows from the first second")
	}
	clock.Add(3*time.Minute + time.Second)
	b.do("banner 3 minutes before the idle end", chromedp.WaitVisible("#sg-warning"))
	b.waitText("#sg-countdown", "2:5")
	b.waitText("#sg-stay", "Keep working")
	b.axe("demo app idle warning")
	b.do("keep working", chromedp.Click("#sg-stay"), chromedp.WaitNotVisible("#sg-warning"))
	b.shot("app-kept-working")
	sess, _, err := s.Store.UserSessions(ctx, Environment, session.UserKey{Issuer: s.IdP.URL(), Subject: "dora"}, session.Page{Limit: 5})
	if err != nil || len(sess) != 1 || sess[0].LastActivityAt.Sub(clock.Now()).Abs() > time.Second {
		t.Fatalf("dora's session after Keep working = %+v, %v; want its activity recorded now", sess, err)
	}
}

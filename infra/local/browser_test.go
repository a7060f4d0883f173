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

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Fatalf("%s is missing: run `make browser-deps` (make test does)", Chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(Chromium), chromedp.NoSandbox, chromedp.Headless,
		chromedp.WindowSize(1200, 1400))
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

// The admin console in headless Chromium: sign in through the issuer, change
// a setting and see it saved, see an out-of-range value's message, see a
// concurrent save explained, revoke a session.
func TestConsoleInBrowser(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	ctx := context.Background()
	s, _ := startStack(t)
	b := newBrowser(t)

	b.do("open the console", chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible("#signin"), chromedp.Click("#signin"))
	b.do("sign in at the issuer", chromedp.WaitVisible("#username"), chromedp.Click("button#signin"))
	b.do("console loads", chromedp.WaitVisible("#app"))
	b.waitText("#version", "version 0")
	b.waitText("#budget", "Revoked, signed out, or pushed by the IdP")
	b.waitText("#who", "Signed in as Development User root (admin of every environment)")
	b.shot("console-signed-in")

	// Change a setting, as a duration in hours, and see it saved in minutes.
	b.do("enable expiration", chromedp.Click("#sessionExpiration-enabled"))
	b.waitText("#hint-sessionExpiration-maxSessionMinutes", "1 hour to 1 day")
	b.setUnit("#sessionExpiration-maxSessionMinutes-unit", 60)
	b.typeInto("#sessionExpiration-maxSessionMinutes", "8")
	b.do("save", chromedp.Click("#save"))
	b.waitText("#status", "Saved: version 1")
	set, v, err := s.Store.Settings(ctx, Environment)
	if err != nil || v != 1 || !set.SessionExpiration.Enabled || set.SessionExpiration.MaxSessionMinutes != 480 {
		t.Fatalf("stored settings = v%d %+v, %v; want version 1 with 480 minutes (8 hours)", v, set.SessionExpiration, err)
	}
	// The history says what changed, as people read durations.
	b.waitText("#history", "Maximum session length: 1 day → 8 hours")
	b.waitText("#history", "End sessions a fixed time after sign-in: off → on")
	b.shot("console-saved")

	// An out-of-range value: the field says why, and saving is off.
	b.setUnit("#sessionExpiration-maxSessionMinutes-unit", 1)
	b.typeInto("#sessionExpiration-maxSessionMinutes", "5000")
	b.waitText("#err-sessionExpiration-maxSessionMinutes", "between 60 and 1440")
	disabled, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector("#save").disabled`))
	if err != nil || !disabled {
		t.Errorf("Save enabled with an out-of-range value (%v)", err)
	}
	b.shot("console-out-of-range")
	b.typeInto("#sessionExpiration-maxSessionMinutes", "480")

	// Someone else saves first: the console explains the conflict.
	other := set
	other.SessionExpiration.WarningMinutes = 45
	if err := s.Store.PutSettings(ctx, policy.SettingsChange{Environment: Environment, Version: 2, At: time.Now(), Actor: "other-admin", Old: set, New: other}); err != nil {
		t.Fatal(err)
	}
	b.typeInto("#sessionExpiration-warningMinutes", "30")
	b.do("save over a newer version", chromedp.Click("#save"))
	b.waitText("#conflict-text", "Someone else saved these settings (now version 2)")
	b.shot("console-conflict")
	b.do("load their version", chromedp.Click("#reload"))
	b.waitText("#version", "version 2")
	if _, v, _ := s.Store.Settings(ctx, Environment); v != 2 {
		t.Errorf("the conflicting save overwrote version 2: now %d", v)
	}

	// Revoke a user's session; the user's next request is refused.
	tok, sid := signIn(t, s, "bob")
	if got := status(t, s, tok, sid); got != 200 {
		t.Fatalf("bob's request before the revocation: %d", got)
	}
	b.typeInto("#user", "bob")
	b.do("list bob's sessions", chromedp.Click("#show-sessions"), chromedp.WaitVisible("#sessions .revoke"))
	b.shot("console-sessions")
	b.do("revoke", chromedp.Click("#sessions .revoke"))
	b.waitText("#sessions-status", "Session revoked")
	if got := status(t, s, tok, sid); got != 401 {
		t.Errorf("bob's request after the revocation: %d; want 401", got)
	}

	// A Shared Signals stream at the development transmitter, set up and
	// verified from the console.
	b.do("set up a push stream", chromedp.WaitVisible("#transmitters .setup-push"), chromedp.Click("#transmitters .setup-push"))
	b.waitText("#signals-status", "Stream set up")
	b.do("request verification", chromedp.WaitVisible("#transmitters .verify"), chromedp.Click("#transmitters .verify"))
	b.waitText("#signals-status", "Verification event received")
	b.waitText("#transmitters .stream-info", "verified")
	b.shot("console-shared-signals")
	if st, ok, _ := s.Store.Stream(ctx, s.IdP.URL()); !ok || !st.Verified() || st.Delivery != "push" {
		t.Errorf("stored stream = %+v; want a verified push stream", st)
	}

	// The transmitter restarts and forgets the stream: the panel says so,
	// a reset (asked for, then confirmed) forgets it here too, and setting
	// up creates a new one.
	old, _, _ := s.Store.Stream(ctx, s.IdP.URL())
	s.IdP.ForgetStreams()
	b.do("reload the console", chromedp.Reload(), chromedp.WaitVisible("#transmitters .reset"))
	b.waitText("#transmitters .stream-info", "no longer knows this stream")
	b.do("ask to reset", chromedp.Click("#transmitters .reset"), chromedp.WaitVisible("#transmitters .reset-yes"))
	b.waitText("#transmitters .reset-confirm", "deleted at the transmitter")
	b.axe("console stream reset")
	b.do("confirm the reset", chromedp.Click("#transmitters .reset-yes"))
	b.waitText("#signals-status", "Stream reset")
	b.waitText("#transmitters .stream-info", "No stream yet")
	b.do("set up a push stream again", chromedp.Click("#transmitters .setup-push"))
	b.waitText("#signals-status", "Stream set up")
	if st, ok, _ := s.Store.Stream(ctx, s.IdP.URL()); !ok || st.StreamID == "" || st.StreamID == old.StreamID {
		t.Errorf("stored stream after the reset and setup = %+v; want a new stream, not %s", st, old.StreamID)
	}
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

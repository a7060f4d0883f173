package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// consoleIndex is the console's page, whose sections are its views.
var consoleIndex = filepath.Join("..", "..", "shared", "adminapi", "console", "index.html")

// adminDocs is the admin's guide, and adminShots the screenshots of the
// console it shows, which TestConsoleViews takes.
var (
	adminDocs  = filepath.Join("..", "..", "docs", "admin.md")
	adminShots = filepath.Join("..", "..", "docs", "admin")
)

// consoleViews are the console's views, as its page names them.
func consoleViews(t *testing.T) []string {
	t.Helper()
	page, err := os.ReadFile(consoleIndex)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`<section class="view" data-view="([a-z]+)"`).FindAllStringSubmatch(string(page), -1) {
		out = append(out, m[1])
	}
	if len(out) < 6 {
		t.Fatalf("the console's page names views %v; want its six at least", out)
	}
	return out
}

// The admin guide shows every view of the console in a screenshot that
// TestConsoleViews takes: each view has its docs/admin/<view>.png, shown
// in docs/admin.md, and every screenshot the guide shows exists and is of
// a modest size.
func TestAdminGuideShowsEveryView(t *testing.T) {
	doc, err := os.ReadFile(adminDocs)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, m := range regexp.MustCompile(`\]\((admin/[^)\s]+\.png)\)`).FindAllStringSubmatch(string(doc), -1) {
		shown[m[1]] = true
		fi, err := os.Stat(filepath.Join(filepath.Dir(adminDocs), m[1]))
		if err != nil {
			t.Errorf("docs/admin.md shows %s, which is missing (TestConsoleViews takes it): %v", m[1], err)
			continue
		}
		if fi.Size() > 400<<10 {
			t.Errorf("%s is %d KiB; keep a screenshot under 400 KiB", m[1], fi.Size()>>10)
		}
	}
	for _, v := range consoleViews(t) {
		if !shown["admin/"+v+".png"] {
			t.Errorf("the console's view %s has no screenshot in docs/admin.md (want admin/%s.png)", v, v)
		}
	}
}

// consoleT0 is the console test's clock: fixed, so that the screenshots
// change only with the console.
var consoleT0 = time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)

// signInWith starts a session with tok through the stack's HTTP API and
// returns its raw id.
func signInWith(t *testing.T, s *Stack, tok string) string {
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
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 201 {
		t.Fatalf("sign-in: %d, %v", resp.StatusCode, err)
	}
	return body.SessionID
}

// consoleAddr is where TestConsoleViews serves the stack, when it can.
const consoleAddr = "127.0.0.1:47391"

// storedSession stores a session of user in the environment as a sign-in
// would (the settings in force, the development client), with a raw id
// made of name, so that its short id is the same every run; it returns
// the raw id.
func storedSession(t *testing.T, s *Stack, user string, at time.Time, name string, device ...string) string {
	t.Helper()
	ctx := context.Background()
	raw := name + strings.Repeat("0", session.IDLen-len(name))
	id, err := session.ParseID(raw)
	if err != nil {
		t.Fatal(err)
	}
	set, v, err := s.Store.Settings(ctx, Environment)
	if err != nil {
		t.Fatal(err)
	}
	sess := session.Session{Hash: id.Hash(), Environment: Environment, User: session.UserKey{Issuer: s.IdP.URL(), Subject: user},
		ClientID: devidp.DefaultClientID, CreatedAt: at, AuthTime: at, SettingsVersion: v, Settings: set}
	if len(device) > 0 {
		sess.Device = device[0]
	}
	if _, err := s.Store.Create(ctx, sess, session.Limit{}, func(session.Session) bool { return true }); err != nil {
		t.Fatal(err)
	}
	return raw
}

// shortID is the name the console shows for the session with the raw id:
// the first 16 hex digits of its hash.
func shortID(raw string) string {
	id, err := session.ParseID(raw)
	if err != nil {
		panic(err)
	}
	return id.Hash().Prefix()
}

// waitView waits until the console shows view, loaded (nothing loading),
// and fails when the view says it could not load (#view-status).
func (b *browser) waitView(view string) {
	b.t.Helper()
	js := `document.documentElement.dataset.view === ` + strconv.Quote(view) + ` && document.documentElement.dataset.busy === "false"`
	if !b.poll(func(ctx context.Context) bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		return err == nil && ok
	}) {
		b.shot("failed-view-" + view)
		b.t.Fatalf("the console never showed the view %s, loaded", view)
	}
	if msg := eval[string](b, `document.querySelector("#view-status").textContent`); msg != "" {
		b.shot("failed-view-" + view)
		b.t.Fatalf("the view %s says: %s", view, msg)
	}
}

// open goes to a view through the navigation, as an admin would, and
// waits until it is rendered again (the console renders the current
// view again when its link is picked).
func (b *browser) open(view string) {
	b.t.Helper()
	b.do("open "+view, chromedp.Evaluate[chromedp.Void](`delete document.documentElement.dataset.view`), chromedp.Click(`[data-nav="`+view+`"]`))
	b.waitView(view)
}

// eval evaluates js in the page.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %.60s: %v", js, err)
	}
	return v
}

// texts are the texts of the elements sel finds.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll(`+strconv.Quote(sel)+`)].map(e => e.textContent.trim())`)
}

// docShots takes the admin guide's screenshots, docs/admin/<name>.png,
// each with a sidecar, docs/admin/<name>.txt, that holds what the
// screenshot shows as text (shotKey): a PNG is written only when its
// sidecar changes (or it is missing), so the repository stays clean
// after a test run that changed nothing, and pixel noise (chromium
// smooths a few edges differently from run to run) never rewrites one;
// a changed letter, value, box or colour does. When off is set, nothing
// is written (the screenshots would not show the console as docs/admin
// does: another port).
type docShots struct {
	b   *browser
	dir string
	off string
}

func (d docShots) take(name string) {
	d.b.t.Helper()
	if d.off != "" {
		return
	}
	ctx, cancel := context.WithTimeout(d.b.ctx, 10*time.Second)
	defer cancel()
	key := d.b.shotKey()
	if _, err := writeDocShot(d.dir, name, key, func() ([]byte, error) { return chromedp.Run(ctx, chromedp.CaptureScreenshot()) }); err != nil {
		d.b.t.Fatalf("screenshot %s: %v", name, err)
	}
}

// writeDocShot writes dir/<name>.png (from shot) and its sidecar
// dir/<name>.txt (key) unless the sidecar there already holds key and
// the PNG exists; it says whether it wrote.
func writeDocShot(dir, name, key string, shot func() ([]byte, error)) (bool, error) {
	pngPath, keyPath := filepath.Join(dir, name+".png"), filepath.Join(dir, name+".txt")
	if old, err := os.ReadFile(keyPath); err == nil && string(old) == key {
		if _, err := os.Stat(pngPath); err == nil {
			return false, nil
		}
	}
	img, err := shot()
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(pngPath, img, 0o644); err != nil {
		return false, err
	}
	return true, os.WriteFile(keyPath, []byte(key), 0o644)
}

// shotKeyJS describes what the window shows: its size, and each element
// in view with its box (whole pixels), the colours and font it is drawn
// in, a form field's value or state, and its own text.
const shotKeyJS = `(() => {
  const W = window.innerWidth, H = window.innerHeight;
  const out = ["window " + W + "x" + H];
  for (const e of document.querySelectorAll("body *")) {
    const r = e.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || r.bottom <= 0 || r.right <= 0 || r.top >= H || r.left >= W) continue;
    const cs = getComputedStyle(e);
    if (cs.display === "none" || cs.visibility !== "visible") continue;
    let own = "";
    for (const n of e.childNodes) if (n.nodeType === Node.TEXT_NODE) own += n.textContent;
    own = own.replace(/\s+/g, " ").trim();
    const field = e.matches("input, select, textarea") ? " value=" + JSON.stringify(e.matches("[type=checkbox], [type=radio]") ? String(e.checked) : e.value) : "";
    out.push([e.tagName.toLowerCase(), Math.round(r.left), Math.round(r.top), Math.round(r.width), Math.round(r.height),
      cs.color, cs.backgroundColor, cs.borderTopColor, cs.borderTopWidth, cs.fill, cs.stroke, cs.fontSize, cs.fontWeight, cs.opacity].join(" ") +
      field + (own ? " " + JSON.stringify(own) : ""));
  }
  return out.join("\n");
})()`

// shotKey is the sidecar of a screenshot of the window: the SHA-256 of
// shotKeyJS's description, then the texts in view, one a line (so that a
// change of the screenshots reads as text in a diff too).
func (b *browser) shotKey() string {
	b.t.Helper()
	desc := eval[string](b, shotKeyJS)
	var texts []string
	for _, line := range strings.Split(desc, "\n") {
		if i := strings.Index(line, ` "`); i >= 0 && strings.HasSuffix(line, `"`) {
			var s string
			if json.Unmarshal([]byte(line[i+1:]), &s) == nil {
				texts = append(texts, s)
			}
		}
	}
	sum := sha256.Sum256([]byte(desc))
	return "layout sha256:" + hex.EncodeToString(sum[:]) + "\n" + strings.Join(texts, "\n") + "\n"
}

// clean fails the test on any request of the page that failed or was
// answered 4xx/5xx, and any error or warning in its console, since the
// last call, except what the expected strings match: each matches
// exactly one (an expected failure that did not happen fails, and so
// does a second one).
func (p *pageLog) clean(t *testing.T, where string, expected ...string) {
	t.Helper()
	p.mu.Lock()
	got := append(append([]string{}, p.failed...), p.console...)
	p.failed, p.console = nil, nil
	p.mu.Unlock()
	matched := make([]bool, len(expected))
	var rest []string
	for _, g := range got {
		i := -1
		for j, e := range expected {
			if !matched[j] && strings.Contains(g, e) {
				i = j
				break
			}
		}
		if i < 0 {
			rest = append(rest, g)
			continue
		}
		matched[i] = true
	}
	if len(rest) > 0 {
		t.Errorf("%s: failed requests or console messages:\n%s", where, strings.Join(rest, "\n"))
	}
	for i, ok := range matched {
		if !ok {
			t.Errorf("%s: the expected %q did not happen", where, expected[i])
		}
	}
}

// pair is the description of term in the definition list sel.
func (b *browser) pair(sel, term string) string {
	b.t.Helper()
	return eval[string](b, `(() => { const dt = [...document.querySelectorAll(`+strconv.Quote(sel+" dt")+`)].find(d => d.textContent === `+strconv.Quote(term)+`);
		return dt ? dt.nextElementSibling.textContent : "(no " + `+strconv.Quote(term)+` + ")"; })()`)
}

// axeClean holds a view of the console to no axe violation of any impact
// (b.axe fails on serious and critical ones).
func axeClean(b *browser, view string) {
	b.t.Helper()
	if counts := b.axe(view); len(counts) > 0 {
		b.t.Errorf("axe on %s: %v; want no violation of any impact", view, counts)
	}
}

// The admin console in headless Chromium, view by view, as an admin uses
// it: a deep link opened signed out lands there after the sign-in; the
// navigation shows one view at a time; a save shows its new version in
// the header and every view at once (no reload); the history says what
// changed; the user search finds users by the beginning of their subject
// (an Entra tid/oid too) and lists their sessions by short id; a revoke
// asks first, naming the session, and Cancel revokes nothing; the audits'
// charts have a time axis that fits 30-second audits, a y-axis, and
// summaries that add up to what they draw; the Shared Signals stream is
// set up, verified and reset (after a confirmation); a reload on a deep
// link shows its view; the console under a stage's prefix signs in and
// works on that stage; at 390 px nothing scrolls sideways. Every view is
// checked by axe-core and photographed for docs/admin.md, and no request
// fails and nothing is logged to the console on any view (but the one 412
// the test causes).
func TestConsoleViews(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	ctx := context.Background()
	clock := devidp.NewClock(consoleT0)
	// A fixed port, so that the screenshots show the same issuer address
	// every run; when it is taken, another, and docs/admin is left alone
	// (the issuer's address is in the screenshots).
	shotsOff := ""
	s, err := Start(Options{Addr: consoleAddr, Log: &syncWriter{}, Now: clock.Now, CheckEvery: -1})
	if err != nil {
		shotsOff = fmt.Sprintf("%s: %v", consoleAddr, err)
		t.Logf("%s; the screenshots in docs/admin are not written in this run (they would show another port)", shotsOff)
		s, err = Start(Options{Addr: "127.0.0.1:0", Log: &syncWriter{}, Now: clock.Now, CheckEvery: -1})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	streams := 0
	s.IdP.SetStreamIDs(func() string { streams++; return fmt.Sprintf("dev-stream-%d", streams) })
	if err := os.MkdirAll(adminShots, 0o755); err != nil {
		t.Fatal(err)
	}

	// Users and their sessions: alice twice (the second a minute later;
	// stored, with ids of the test's), alicia, bob, and erin through the
	// Entra profile (subject tid/oid), who sign in through the API.
	mint := func(user string) string {
		tok, err := s.IdP.Mint(devidp.Token{User: user})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	aliceTok := mint("alice")
	alice1 := storedSession(t, s, "alice", clock.Now(), "console-test-alice-first", "Firefox on Linux")
	clock.Add(time.Minute)
	alice2 := storedSession(t, s, "alice", clock.Now(), "console-test-alice-second")
	for _, u := range []string{"alicia", "bob"} {
		signInWith(t, s, mint(u))
	}
	for i := range 18 { // with root, the admin: 22 users of the development issuer, more than a page of the search
		signInWith(t, s, mint(fmt.Sprintf("user-%02d", i+1)))
	}
	entraTok, err := s.IdP.MintProfile("entra", devidp.Token{User: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	erinSession := signInWith(t, s, entraTok)
	clock.Add(2 * time.Minute)
	// Twelve audits 30 seconds apart, as the local stack writes them.
	var wantRevocations int
	for i := range 12 {
		causes := map[string]int{}
		if i%3 == 1 {
			causes["sign_out"] = 1
		}
		if i == 7 {
			causes["admin"], causes["user_disabled"] = 2, 1
		}
		for _, n := range causes {
			wantRevocations += n
		}
		body, _ := json.Marshal(map[string]any{"activeSessions": 3 + i%4, "revocations": causes, "directoryErrorRate": float64(i%5) / 20, "users": 4})
		at := clock.Now().Add(time.Duration(i-11) * 30 * time.Second)
		if err := s.Store.PutReport(ctx, audit.Record{Environment: Environment, At: at, Body: body}); err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t, chromedp.Env("TZ=UTC"), chromedp.Flag("lang", "en-US"))
	pl := &pageLog{urls: map[network.RequestID]string{}, headers: map[string][]network.Headers{}, stackURL: s.URL}
	if err := chromedp.Listen(b.ctx, pl.listen); err != nil {
		t.Fatal(err)
	}
	b.do("a 1,280 px window", chromedp.EmulateViewport(1280, 900))
	shots := docShots{b: b, dir: adminShots, off: shotsOff}

	// A deep link, opened signed out: the sign-in lands on it.
	b.do("open a deep link", chromedp.Navigate(s.URL+"/console/#/sessions?env="+Environment+"&q=ali"), chromedp.WaitVisible("#signin"))
	axeClean(b, "console sign-in")
	b.do("sign in", chromedp.Click("#signin"), chromedp.WaitVisible("#username"), chromedp.Click("button#signin"))
	b.waitView("sessions")
	b.waitText("#who", "Signed in as Development User root (admin of every environment)")
	b.waitText("#users-status", "2 users whose subject starts with “ali”.")
	if got := b.texts("#user-results .user-pick"); !slices.Equal(got, []string{"alice", "alicia"}) {
		t.Errorf("the deep link's search found %q; want alice, alicia", got)
	}
	pl.clean(t, "sign-in and the deep link")

	// One view at a time, the navigation saying which.
	b.open("overview")
	if shown := b.texts("section.view:not([hidden]) h2"); !slices.Equal(shown, []string{"Overview"}) {
		t.Errorf("views shown = %q; want only the overview", shown)
	}
	if cur := b.texts(`[aria-current="page"]`); !slices.Equal(cur, []string{"Overview"}) {
		t.Errorf("navigation's current page = %q; want Overview", cur)
	}
	b.waitText("#ov-version", "0")
	b.waitText("#ov-active", "6") // the latest audit's
	b.waitText("#budget", "Idle timeout")
	b.waitText("#budget", "no idle timeout")
	b.waitText("#ov-policy", "No inactivity timeout.")
	axeClean(b, "console overview")
	shots.take("overview")
	pl.clean(t, "overview")

	// Settings: each switch's help says what its state does; a save shows
	// its version at once in the header, the overview and the history.
	b.open("settings")
	b.waitText("#version", "settings version 0")
	b.waitText("#help-sessionExpiration-enabled", "Off: a session lives as long as")
	b.waitText("#help-sessionExpiration-maxSessionMinutes", "Not in force while")
	b.do("enable expiration", chromedp.Click("#sessionExpiration-enabled"))
	b.waitText("#help-sessionExpiration-enabled", "On: a session ends the maximum length after sign-in")
	if help := b.text("#help-sessionExpiration-enabled"); strings.Contains(help, "Off:") {
		t.Errorf("with the switch on, its help says %q", help)
	}
	b.waitText("#help-sessionExpiration-maxSessionMinutes", "The session ends this long after sign-in")
	b.waitText("#hint-sessionExpiration-maxSessionMinutes", "1 hour to 1 day")
	b.setUnit("#sessionExpiration-maxSessionMinutes-unit", 60)
	b.typeInto("#sessionExpiration-maxSessionMinutes", "8")
	b.do("enable the idle timeout", chromedp.Click("#inactivityTimeout-enabled"))
	axeClean(b, "console settings")
	b.do("save", chromedp.Click("#save"))
	b.waitText("#status", "Saved: version 1")
	b.waitText("#version", "settings version 1") // the header, without a reload
	set, v, err := s.Store.Settings(ctx, Environment)
	if err != nil || v != 1 || !set.SessionExpiration.Enabled || set.SessionExpiration.MaxSessionMinutes != 480 || !set.InactivityTimeout.Enabled {
		t.Fatalf("stored settings = v%d %+v, %v; want version 1 with 480 minutes and the idle timeout on", v, set, err)
	}
	shots.take("settings")
	pl.clean(t, "settings")

	// An out-of-range value: the field says why, and saving is off.
	b.setUnit("#sessionExpiration-maxSessionMinutes-unit", 1)
	b.typeInto("#sessionExpiration-maxSessionMinutes", "5000")
	b.waitText("#err-sessionExpiration-maxSessionMinutes", "between 60 and 1440")
	if !eval[bool](b, `document.querySelector("#save").disabled`) {
		t.Error("Save is enabled with an out-of-range value")
	}
	axeClean(b, "console with a field error")
	b.typeInto("#sessionExpiration-maxSessionMinutes", "480")
	// Someone else saves first: the console explains the conflict, and
	// loads their version on request.
	other := set
	other.SessionExpiration.WarningMinutes = 45
	if err := s.Store.PutSettings(ctx, policy.SettingsChange{Environment: Environment, Version: 2, At: clock.Now(), Actor: "other-admin", Old: set, New: other}); err != nil {
		t.Fatal(err)
	}
	b.typeInto("#sessionExpiration-warningMinutes", "30")
	b.do("save over a newer version", chromedp.Click("#save"))
	b.waitText("#conflict-text", "Someone else saved these settings (now version 2)")
	settingsURL := s.URL + "/environments/" + Environment + "/settings"
	pl.clean(t, "a save over a newer version", settingsURL+" answered Precondition Failed", "status of 412 (Precondition Failed) "+settingsURL)
	b.do("load their version", chromedp.Click("#reload"))
	b.waitText("#version", "settings version 2")
	b.waitText("#status", "Loaded version 2.")
	if got := eval[string](b, `document.querySelector("#sessionExpiration-warningMinutes").value`); got != "45" {
		t.Errorf("warning after loading their version = %s; want 45", got)
	}
	pl.clean(t, "loading their version")

	// The overview shows the new settings at once.
	b.open("overview")
	b.waitText("#ov-version", "2")
	b.waitText("#ov-policy", "Sessions end 8 hours after sign-in; the app warns 45 minutes before.")
	b.waitText("#budget", "early, never late") // the idle timeout's line, now that it is on
	pl.clean(t, "the overview after the saves")

	// History: what each change changed, as people read durations.
	b.open("history")
	b.waitText("#history", "Maximum session length: 1 day → 8 hours")
	b.waitText("#history", "End sessions a fixed time after sign-in: off → on")
	b.waitText("#history", "other-admin")
	axeClean(b, "console history")
	shots.take("history")
	pl.clean(t, "history")

	// Sessions: the search as the admin types, the user's sessions by
	// short id, a revoke that asks first.
	b.open("sessions") // no search yet: the users from the start
	b.waitText("#users-status", "Users who signed in: 20+ shown.")
	// More goes on with the search shown, not with what the box holds by
	// then (typed, not searched yet).
	b.do("type without searching", chromedp.SetValue("#user", "zz"))
	b.do("more users", chromedp.Click("#more-users"))
	b.waitText("#users-status", "Users who signed in: 22 shown.") // and root, the admin
	if got := b.texts("#user-results .user-pick"); len(got) != 22 || got[0] != "alice" || got[3] != "root" || got[21] != "user-18" {
		t.Errorf("all users = %q; want 22, alice to user-18 in subject order", got)
	}
	b.typeInto("#user", "al")
	b.waitText("#users-status", "users whose subject starts with “al”")
	if got := b.texts("#user-results .user-pick"); !slices.Equal(got, []string{"alice", "alicia"}) {
		t.Errorf("search al = %q; want alice, alicia", got)
	}
	// Picking one user, then another before the first's sessions arrive:
	// the second's are shown, and Revoke all names the second. (The page's
	// fetch holds alice's list until the test lets it go.)
	b.do("hold alice's sessions", chromedp.Evaluate[chromedp.Void](`(() => {
		const orig = window.fetch;
		window.__release = null;
		const held = new Promise((r) => { window.__release = r; });
		window.fetch = async (url, init) => {
			if (String(url).includes("/sessions?") && String(url).includes("user=alice&")) await held;
			return orig(url, init);
		};
		window.__unhold = () => { window.fetch = orig; };
	})()`))
	// (Clicked in the page: the list is drawn again as each pick loads.)
	pick := func(sub string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#user-results .user-pick")].find((b) => b.textContent === ` + strconv.Quote(sub) + `).click()`)
	}
	b.do("pick alice", pick("alice"))
	b.do("pick alicia at once", pick("alicia"))
	b.waitText("#su-name", "alicia")
	b.do("alice's answer comes last", chromedp.Evaluate[chromedp.Void](`window.__release(); window.__unhold()`))
	b.waitView("sessions") // nothing loading: alice's answer is in
	if name, rows := b.text("#su-name"), b.texts("#sessions tbody td:first-child"); name != "alicia" || len(rows) != 1 {
		t.Errorf("after picking alice, then alicia, the list is of %q with %d sessions; want alicia's one", name, len(rows))
	}
	b.do("revoke all of the list shown", chromedp.Click("#revoke-all"), chromedp.WaitVisible("#confirm"))
	b.waitText("#confirm-title", "Revoke all sessions of alicia?")
	b.do("cancel it", chromedp.Click("#confirm-no"), chromedp.WaitNotVisible("#confirm"))
	b.do("back to al", chromedp.Evaluate[chromedp.Void](`location.hash = "#/sessions?env=`+Environment+`&q=al"`))
	b.waitView("sessions")
	if got := b.texts("#user-results .user-pick"); !slices.Equal(got, []string{"alice", "alicia"}) {
		t.Errorf("search al = %q; want alice, alicia", got)
	}
	b.do("type on", chromedp.SendKeys("#user", "ici"))
	b.waitText("#users-status", "1 user whose subject starts with “alici”.")
	b.typeInto("#user", "Al")
	b.waitText("#users-status", "No user whose subject starts with “Al”.")
	b.typeInto("#user", "ali")
	b.waitText("#users-status", "2 users whose subject starts with “ali”.")
	b.do("pick alice", chromedp.Click(`#user-results .user-pick`))
	b.waitView("sessions")
	b.waitText("#su-name", "alice")
	b.waitText("#sessions-status", "2 live sessions.")
	ids := b.texts("#sessions tbody td:first-child")
	if want := []string{shortID(alice1), shortID(alice2)}; !slices.Equal(ids, want) {
		t.Errorf("alice's sessions shown as %q; want their short ids %q", ids, want)
	}
	page := eval[string](b, `document.body.innerHTML`)
	for _, raw := range []string{alice1, alice2} {
		if strings.Contains(page, raw) {
			t.Error("the page holds a raw session id")
		}
	}
	if devices := b.texts("#sessions tbody td:nth-child(2)"); !slices.Equal(devices, []string{"Firefox on Linux", "–"}) {
		t.Errorf("devices = %q; want the sign-in's, and – for a session that names none", devices)
	}
	axeClean(b, "console sessions")
	shots.take("sessions")
	pl.clean(t, "the search and the sessions")

	// Revoke asks first, naming the session; Cancel revokes nothing.
	b.do("revoke the first", chromedp.Click(`#sessions tbody tr:first-child .revoke`), chromedp.WaitVisible("#confirm"))
	b.waitText("#confirm-title", "Revoke session "+shortID(alice1)+"?")
	b.waitText("#confirm-text", "of alice")
	if focused := eval[string](b, `document.activeElement.id`); focused != "confirm-no" {
		t.Errorf("the confirmation opens with %q focused; want Cancel (confirm-no)", focused)
	}
	axeClean(b, "console revoke confirmation")
	shots.take("sessions-revoke")
	b.do("cancel", chromedp.Click("#confirm-no"), chromedp.WaitNotVisible("#confirm"))
	b.do("ask again", chromedp.Click(`#sessions tbody tr:first-child .revoke`), chromedp.WaitVisible("#confirm"))
	if !b.poll(func(ctx context.Context) bool {
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`))
		return err == nil && id == "confirm-no"
	}) {
		t.Fatal("the confirmation never had Cancel focused")
	}
	b.do("Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible("#confirm"))
	if got := status(t, s, aliceTok, alice1); got != 200 {
		t.Fatalf("alice's request after a cancelled revoke and an Escape: %d; want 200", got)
	}
	b.do("revoke the first, again", chromedp.Click(`#sessions tbody tr:first-child .revoke`), chromedp.WaitVisible("#confirm"))
	b.do("confirm", chromedp.Click("#confirm-yes"), chromedp.WaitNotVisible("#confirm"))
	b.waitText("#sessions-status", "Session "+shortID(alice1)+" of alice revoked. 1 live session.")
	if got := status(t, s, aliceTok, alice1); got != 401 {
		t.Errorf("alice's request after the revocation: %d; want 401", got)
	}
	if ids := b.texts("#sessions tbody td:first-child"); !slices.Equal(ids, []string{shortID(alice2)}) {
		t.Errorf("alice's sessions after the revocation = %q; want %s only", ids, shortID(alice2))
	}
	b.do("revoke all", chromedp.Click("#revoke-all"), chromedp.WaitVisible("#confirm"))
	b.waitText("#confirm-text", "The live session of alice in "+Environment+" ends now")
	b.do("confirm all", chromedp.Click("#confirm-yes"), chromedp.WaitNotVisible("#confirm"))
	b.waitText("#sessions-status", "1 session of alice revoked. No live session.")
	pl.clean(t, "the revocations")

	// An Entra user, found by the beginning of tid/oid under the Entra
	// issuer.
	b.do("the Entra issuer", chromedp.SetValue("#issuer", s.IdP.ProfileIssuer("entra")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#issuer").dispatchEvent(new Event("change"))`))
	b.waitView("sessions")
	b.typeInto("#user", devidp.DevTenant+"/")
	b.waitText("#users-status", "1 user whose subject starts with “"+devidp.DevTenant+"/”.")
	b.do("pick erin", chromedp.Click(`#user-results .user-pick`))
	b.waitText("#sessions-status", "1 live session.")
	b.waitText("#su-name", devidp.DevTenant+"/oid-")
	// Revoke all of a subject with a "/" in it.
	erin := session.UserKey{Issuer: s.IdP.ProfileIssuer("entra"), Subject: b.text("#su-name")}
	if got := status(t, s, entraTok, erinSession); got != 200 {
		t.Fatalf("erin's request before Revoke all: %d; want 200", got)
	}
	b.do("revoke all of erin", chromedp.Click("#revoke-all"), chromedp.WaitVisible("#confirm"))
	b.waitText("#confirm-text", "The live session of "+erin.Subject+" in "+Environment+" ends now")
	b.do("confirm erin's", chromedp.Click("#confirm-yes"), chromedp.WaitNotVisible("#confirm"))
	b.waitText("#sessions-status", "1 session of "+erin.Subject+" revoked. No live session.")
	if list, _, err := s.Store.UserSessions(ctx, Environment, erin, session.Page{}); err != nil || len(list) != 0 {
		t.Errorf("erin's live sessions after Revoke all = %d, %v; want none", len(list), err)
	}
	if got := status(t, s, entraTok, erinSession); got != 401 {
		t.Errorf("erin's request after Revoke all: %d; want 401", got)
	}
	pl.clean(t, "an Entra user")

	// Audits: a time axis in minutes for audits 30 seconds apart, a
	// y-axis, and summaries that add up to the charts.
	b.open("audits")
	b.waitText("#audit-range", "12 audits")
	for _, id := range []string{"chart-active", "chart-revocations", "chart-errors"} {
		xs := b.texts("#" + id + " .x-axis text")
		if len(xs) < 2 || len(slices.Compact(slices.Clone(xs))) != len(xs) {
			t.Errorf("%s's time axis = %q; want 2 or more distinct ticks", id, xs)
		}
		for _, x := range xs {
			if !regexp.MustCompile(`^\d{1,2}:\d{2}(:\d{2})?( [AP]M)?$`).MatchString(x) {
				t.Errorf("%s's time tick %q is not a time of day (the audits span 5½ minutes)", id, x)
			}
		}
		ys := b.texts("#" + id + " .y-axis text")
		if len(ys) < 2 || strings.TrimSuffix(ys[0], "%") != "0" {
			t.Errorf("%s's y-axis = %q; want ticks from 0", id, ys)
		}
	}
	bars := eval[[]float64](b, `[...document.querySelectorAll("#chart-revocations .bar")].map(e => +e.dataset.value)`)
	causes := eval[[]float64](b, `[...document.querySelectorAll("#chart-causes .bar")].map(e => +e.dataset.value)`)
	sum := func(v []float64) (n int) {
		for _, x := range v {
			n += int(x)
		}
		return n
	}
	if len(bars) != 12 || sum(bars) != wantRevocations || sum(causes) != wantRevocations {
		t.Errorf("revocations drawn: %d bars adding up to %d, causes adding up to %d; want 12 bars and %d both", len(bars), sum(bars), sum(causes), wantRevocations)
	}
	if got, want := b.pair("#audit-summary", "Revocations"), fmt.Sprintf("%d: sign out 4, admin 2, user disabled 1", wantRevocations); got != want {
		t.Errorf("the summary's revocations = %q; want %q", got, want)
	}
	if labels := eval[string](b, `document.querySelector("#chart-causes svg").getAttribute("aria-label")`); !strings.Contains(labels, "sign out 4, admin 2, user disabled 1") {
		t.Errorf("causes chart's label = %q; want the summary's numbers", labels)
	}
	if got := b.pair("#audit-summary", "Active sessions"); got != "latest 6, lowest 3, highest 6" {
		t.Errorf("the summary's active sessions = %q; want latest 6, lowest 3, highest 6", got)
	}
	if got := b.pair("#audit", "Revocations in its period"); got != "none" {
		t.Errorf("the latest audit's revocations = %q; want none (audit 12 counted none)", got)
	}
	axeClean(b, "console audits")
	shots.take("audits")
	pl.clean(t, "audits")

	// Shared Signals: set up a push stream and verify it; a reset asks
	// first.
	b.open("streams")
	b.do("set up a push stream", chromedp.WaitVisible("#transmitters .setup-push"), chromedp.Click("#transmitters .setup-push"))
	b.waitText("#signals-status", "Stream set up")
	b.do("request verification", chromedp.WaitVisible("#transmitters .verify"), chromedp.Click("#transmitters .verify"))
	b.waitText("#signals-status", "Verification event received")
	b.waitText("#transmitters .stream-info", "verified")
	axeClean(b, "console streams")
	shots.take("streams")
	if st, ok, _ := s.Store.Stream(ctx, s.IdP.URL()); !ok || !st.Verified() || st.Delivery != "push" {
		t.Errorf("stored stream = %+v; want a verified push stream", st)
	}
	// The transmitter restarts and forgets the stream: the panel says so,
	// a reset (asked for, then confirmed) forgets it here too, and setting
	// up creates a new one.
	old, _, _ := s.Store.Stream(ctx, s.IdP.URL())
	s.IdP.ForgetStreams()
	b.do("reload the streams", chromedp.Reload())
	b.waitView("streams")
	b.waitText("#transmitters .stream-info", "no longer knows this stream")
	b.do("ask to reset", chromedp.Click("#transmitters .reset"), chromedp.WaitVisible("#confirm"))
	b.waitText("#confirm-text", "deleted at the transmitter")
	b.do("confirm the reset", chromedp.Click("#confirm-yes"), chromedp.WaitNotVisible("#confirm"))
	b.waitText("#signals-status", "Stream reset")
	b.waitText("#transmitters .stream-info", "No stream yet")
	b.do("set up a push stream again", chromedp.Click("#transmitters .setup-push"))
	b.waitText("#signals-status", "Stream set up")
	if st, ok, _ := s.Store.Stream(ctx, s.IdP.URL()); !ok || st.StreamID == "" || st.StreamID == old.StreamID {
		t.Errorf("stored stream after the reset and setup = %+v; want a new stream, not %s", st, old.StreamID)
	}
	pl.clean(t, "streams")

	// A deep link to a name every object inherits is no view: the
	// overview, named in the address.
	for _, name := range []string{"constructor", "__proto__", "toString"} {
		b.do("a deep link to "+name, chromedp.Evaluate[chromedp.Void](`location.hash = "#/`+name+`?env=`+Environment+`"`))
		b.waitView("overview")
		if h := eval[string](b, `location.hash`); !strings.HasPrefix(h, "#/overview?") {
			t.Errorf("after a deep link to #/%s the address is %q; want the overview's", name, h)
		}
		if shown := b.texts("section.view:not([hidden]) h2"); !slices.Equal(shown, []string{"Overview"}) {
			t.Errorf("a deep link to #/%s shows %q; want the overview", name, shown)
		}
	}
	pl.clean(t, "deep links to no view")

	// A reload on a deep link shows its view.
	b.do("a deep link to the history", chromedp.Evaluate[chromedp.Void](`location.hash = "#/history?env=`+Environment+`"`), chromedp.Reload())
	b.waitView("history")
	b.waitText("#history", "other-admin")
	pl.clean(t, "a reload on a deep link")

	// The console under a stage's prefix: a sign-in of its own, whose
	// session is of the stage's environment, and the stage's API; the
	// console at the root keeps its own.
	b.do("the console on the staging stage", chromedp.Navigate(s.URL+"/"+StagingEnvironment+"/console/#/history?env="+StagingEnvironment), chromedp.WaitVisible("#signin"))
	b.do("sign in there", chromedp.Click("#signin"), chromedp.WaitVisible("#username"), chromedp.Click("button#signin"))
	b.waitView("history")
	b.waitText("#history-empty", "No change yet")
	if env := eval[string](b, `document.querySelector("#env").value`); env != StagingEnvironment {
		t.Errorf("the staging console shows environment %q", env)
	}
	root := session.UserKey{Issuer: s.IdP.URL(), Subject: "root"}
	if list, _, err := s.Store.UserSessions(ctx, StagingEnvironment, root, session.Page{}); err != nil || len(list) != 1 {
		t.Errorf("root's sessions in %s = %d, %v; want the staging console's", StagingEnvironment, len(list), err)
	}
	pl.clean(t, "the console on a stage")
	b.do("back to the root's console", chromedp.Navigate(s.URL+"/console/#/overview?env="+Environment))
	b.waitView("overview")
	b.waitText("#ov-version", "2")
	pl.clean(t, "back at the root's console")

	// A phone's width: every view fits (nothing scrolls sideways) and
	// passes axe.
	b.do("a phone's width", chromedp.EmulateViewport(390, 844))
	for _, view := range consoleViews(t) {
		b.open(view)
		if eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
			t.Errorf("the %s view scrolls sideways at 390 px", view)
		}
		axeClean(b, "console "+view+" at 390 px")
		if view == "overview" {
			shots.take("overview-390")
		}
	}
	pl.clean(t, "390 px")
}

// A docs screenshot is rewritten when what it shows changes, and only
// then: the sidecar (shotKey) of a page is the same on every load, and
// changes with a letter of its text ("last" to "lost"), a field's value,
// a box moved by a pixel, or a colour; writeDocShot writes the PNG and
// the sidecar when there is none or it changed, and leaves both alone
// when it did not.
func TestSameShot(t *testing.T) {
	needs.Parts(t, needs.Chromium)
	b := newBrowser(t)
	b.do("a 400 px window", chromedp.EmulateViewport(400, 300))
	page := func(body string) string {
		t.Helper()
		b.do("load a page", chromedp.Navigate("data:text/html;charset=utf-8,"+url.PathEscape(`<!doctype html><html lang="en"><body style="font:16px sans-serif">`+body+`</body></html>`)))
		return b.shotKey()
	}
	const base = `<h2>History</h2><p>The last change: 8 hours</p><input value="8"><button style="background:#eef1f5">Save</button>`
	key := page(base)
	if again := page(base); again != key {
		t.Fatalf("the same page's sidecar differs between loads:\n%s\n---\n%s", key, again)
	}
	if !strings.Contains(key, "The last change: 8 hours\n") || !strings.HasPrefix(key, "layout sha256:") {
		t.Errorf("sidecar = %q; want the layout's hash, then the texts in view", key)
	}
	for _, c := range []struct{ name, body string }{
		{"a changed letter", strings.Replace(base, "last", "lost", 1)},
		{"a field's value", strings.Replace(base, `value="8"`, `value="9"`, 1)},
		{"a box moved by a pixel", strings.Replace(base, "<h2>", `<h2 style="margin-top:1.1em">`, 1)},
		{"a colour", strings.Replace(base, "#eef1f5", "#eef1f6", 1)},
	} {
		if got := page(c.body); got == key {
			t.Errorf("%s: the sidecar did not change", c.name)
		}
	}

	dir := t.TempDir()
	n := 0
	shot := func() ([]byte, error) { n++; return []byte(fmt.Sprintf("png %d", n)), nil }
	for _, c := range []struct {
		name, key string
		want      bool
	}{
		{"no screenshot yet", key, true},
		{"nothing changed", key, false},
		{"a changed letter", page(strings.Replace(base, "last", "lost", 1)), true},
	} {
		wrote, err := writeDocShot(dir, "history", c.key, shot)
		if err != nil || wrote != c.want {
			t.Errorf("writeDocShot, %s = %v, %v; want %v", c.name, wrote, err, c.want)
		}
		img, _ := os.ReadFile(filepath.Join(dir, "history.png"))
		side, _ := os.ReadFile(filepath.Join(dir, "history.txt"))
		if string(img) != fmt.Sprintf("png %d", n) || string(side) != c.key {
			t.Errorf("writeDocShot, %s: the files hold %q and a sidecar %v; want the latest screenshot (%d) and its sidecar", c.name, img, string(side) == c.key, n)
		}
	}
	if err := os.Remove(filepath.Join(dir, "history.png")); err != nil {
		t.Fatal(err)
	}
	if wrote, err := writeDocShot(dir, "history", page(strings.Replace(base, "last", "lost", 1)), shot); !wrote || err != nil {
		t.Errorf("writeDocShot with its PNG gone = %v, %v; want written", wrote, err)
	}
}

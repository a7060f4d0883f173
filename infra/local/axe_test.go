package local

import (
	"context"
	"encoding/json"
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

	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/oidcprovider"
	"github.com/sessionguard/sessionguard/shared/audit"
)

// axeSource is axe-core (npm, pinned in package.json), read from the
// repository's node_modules.
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(oidcprovider.Root(), "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is not installed (make test runs npm ci): %v", err)
	}
	return string(src)
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// axe injects axe-core into the page and fails the test on any serious or
// critical violation; it returns the count of violations of every impact
// and saves a screenshot of the view.
func (b *browser) axe(view string) map[string]int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource(b.t)+";true")); err != nil {
		b.t.Fatalf("inject axe-core into %s: %v", view, err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe.run on %s: %v", view, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		b.t.Fatal(err)
	}
	counts := map[string]int{}
	var ids []string
	for _, v := range vs {
		counts[v.Impact]++
		ids = append(ids, v.Impact+" "+v.ID)
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe on %s: %s %s (%s) at %v", view, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
	b.t.Logf("axe on %s: %d violations %v %q", view, len(vs), counts, ids)
	b.shot("axe-" + strings.ReplaceAll(view, " ", "-"))
	return counts
}

// Every view of the console and the demo app, checked by axe-core in the
// browser: no serious or critical violation; and on none of these pages
// (the issuer's sign-in form and the demo app too) a failed request or
// an error in the console, such as a missing icon's 404.
func TestAccessibility(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	s, _ := startStack(t)
	b := newBrowser(t)
	pl := &pageLog{urls: map[network.RequestID]string{}, headers: map[string][]network.Headers{}, stackURL: s.URL}
	if err := chromedp.Listen(b.ctx, pl.listen); err != nil {
		t.Fatal(err)
	}
	b.do("open the console", chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible("#signin"))
	b.axe("console sign-in")
	b.do("sign in", chromedp.Click("#signin"), chromedp.WaitVisible("#username"))
	b.axe("issuer sign-in form")
	b.do("sign in at the issuer", chromedp.Click("button#signin"), chromedp.WaitVisible("#app"))
	b.waitView("overview")
	b.waitText("#version", "settings version 0")
	b.axe("console overview")
	b.open("settings")
	b.axe("console settings")
	b.setUnit("#sessionExpiration-maxSessionMinutes-unit", 1)
	b.typeInto("#sessionExpiration-maxSessionMinutes", "5000")
	b.axe("console with a field error")
	b.do("open the app", chromedp.Navigate(s.URL+"/app?user=carol"))
	b.waitText("#status", "Signed in as carol")
	b.axe("demo app")
	pl.clean(t, "the console, the issuer's sign-in form and the demo app")
}

// The audits drawn as charts from the stored reports, days apart: the
// time axis counts days (a tick per day or two, each a date, none
// repeated), each chart has a y-axis from 0, its label and its numbers
// say what it draws, and the overview shows the latest audit; checked by
// axe, also at a phone's width (390 px), where nothing scrolls sideways;
// no request fails and nothing is logged to the browser's console.
func TestAuditChartsAndNarrowScreen(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	ctx := context.Background()
	s, clock := startStack(t)
	for i, body := range []string{
		`{"activeSessions":3,"revocations":{"sign_out":1},"directoryErrorRate":0}`,
		`{"activeSessions":7,"revocations":{"sign_out":2,"admin":1},"directoryErrorRate":0.25}`,
		`{"activeSessions":5,"revocations":{"user_disabled":4},"directoryErrorRate":0.1}`,
	} {
		if err := s.Store.PutReport(ctx, audit.Record{Environment: Environment, At: clock.Now().Add(time.Duration(i-3) * 24 * time.Hour), Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, chromedp.Env("TZ=UTC"), chromedp.Flag("lang", "en-US"))
	pl := &pageLog{urls: map[network.RequestID]string{}, headers: map[string][]network.Headers{}, stackURL: s.URL}
	if err := chromedp.Listen(b.ctx, pl.listen); err != nil {
		t.Fatal(err)
	}
	b.do("open the console", chromedp.Navigate(s.URL+"/console/#/audits"), chromedp.WaitVisible("#signin"), chromedp.Click("#signin"))
	b.do("sign in", chromedp.WaitVisible("#username"), chromedp.Click("button#signin"))
	b.waitView("audits")
	for sel, want := range map[string][]string{
		"#chart-active svg":      {"Active sessions per audit", " 3", " 7", " 5"},
		"#chart-revocations svg": {"Revocations per audit", " 1", " 3", " 4"},
		"#chart-causes svg":      {"Revocations by cause", "user disabled 4", "sign out 3", "admin 1"},
		"#chart-errors svg":      {"Directory error rate", "25%", "10%"},
	} {
		label := eval[string](b, `document.querySelector(`+strconv.Quote(sel)+`).getAttribute("aria-label")`)
		for _, w := range want {
			if !strings.Contains(label, w) {
				t.Errorf("%s aria-label = %q; want it to say %q", sel, label, w)
			}
		}
	}
	if bars := eval[int](b, `document.querySelectorAll("#chart-revocations rect.bar").length`); bars != 3 {
		t.Errorf("revocations chart has %d bars; want 3 (one per stored report)", bars)
	}
	xs := b.texts("#chart-active .x-axis text")
	if len(xs) < 2 || len(slices.Compact(slices.Clone(xs))) != len(xs) {
		t.Errorf("time axis = %q; want 2 or more distinct ticks", xs)
	}
	for _, x := range xs {
		if !regexp.MustCompile(`^[A-Z][a-z]{2} \d{1,2}$`).MatchString(x) {
			t.Errorf("time tick %q is not a date (the audits are days apart)", x)
		}
	}
	if ys := b.texts("#chart-active .y-axis text"); len(ys) < 2 || ys[0] != "0" {
		t.Errorf("y-axis = %q; want ticks from 0", ys)
	}
	if rows := b.texts("#chart-active .numbers tbody td:last-child"); !slices.Equal(rows, []string{"3", "7", "5"}) {
		t.Errorf("active sessions' numbers = %q; want 3, 7, 5", rows)
	}
	b.axe("console audits and charts")
	b.open("overview")
	b.waitText("#ov-active", "5")
	b.waitText("#ov-revoked", "4")
	b.do("a phone's width", chromedp.EmulateViewport(390, 844))
	b.open("audits")
	if eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the audits scroll sideways at 390 px")
	}
	b.axe("console audits at 390 px")
	pl.clean(t, "the audits, the overview and the audits at 390 px")
}

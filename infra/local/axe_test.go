package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
	for _, v := range vs {
		counts[v.Impact]++
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe on %s: %s %s (%s) at %v", view, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
	b.t.Logf("axe on %s: %d violations %v", view, len(vs), counts)
	b.shot("axe-" + strings.ReplaceAll(view, " ", "-"))
	return counts
}

// Every view of the console and the demo app, checked by axe-core in the
// browser: no serious or critical violation.
func TestAccessibility(t *testing.T) {
	needs.Parts(t, needs.Chromium, needs.AxeCore)
	s, _ := startStack(t)
	b := newBrowser(t)
	b.do("open the console", chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible("#signin"))
	b.axe("console sign-in")
	b.do("sign in", chromedp.Click("#signin"), chromedp.WaitVisible("#username"))
	b.axe("issuer sign-in form")
	b.do("sign in at the issuer", chromedp.Click("button#signin"), chromedp.WaitVisible("#app"))
	b.waitText("#version", "version 0")
	b.axe("console settings")
	b.setUnit("#sessionExpiration-maxSessionMinutes-unit", 1)
	b.typeInto("#sessionExpiration-maxSessionMinutes", "5000")
	b.axe("console with a field error")
	b.do("open the app", chromedp.Navigate(s.URL+"/app?user=carol"))
	b.waitText("#status", "Signed in as carol")
	b.axe("demo app")
}

// The audits drawn as charts from the stored reports, checked by axe, and
// the console at a phone's width (390 px).
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
	b := newBrowser(t)
	b.do("open the console", chromedp.Navigate(s.URL+"/console/"), chromedp.WaitVisible("#signin"), chromedp.Click("#signin"))
	b.do("sign in", chromedp.WaitVisible("#username"), chromedp.Click("button#signin"), chromedp.WaitVisible("#app"))
	b.do("charts", chromedp.WaitVisible("#chart-active svg"))
	for sel, want := range map[string][]string{
		"#chart-active svg": {"Active sessions per audit", " 3", " 7", " 5"},
		"#chart-causes svg": {"Revocations by cause", "sign out 3", "admin 1", "user disabled 4"},
		"#chart-errors svg": {"Directory error rate", "25%", "10%"},
	} {
		label, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).getAttribute("aria-label")`))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(label, w) {
				t.Errorf("%s aria-label = %q; want it to say %q", sel, label, w)
			}
		}
	}
	bars, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#chart-active rect.bar").length`))
	if bars != 3 {
		t.Errorf("active-sessions chart has %d bars; want 3 (one per stored report)", bars)
	}
	b.waitText("#ov-active", "5")
	b.axe("console audits and charts")
	b.do("a phone's width", chromedp.EmulateViewport(390, 844))
	overflow, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if overflow {
		t.Error("the console scrolls sideways at 390 px")
	}
	b.axe("console at 390 px")
}

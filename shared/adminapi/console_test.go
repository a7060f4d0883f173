package adminapi

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The console's files: the index at /console/ and by name, each type from
// the table, no-cache and the page's confinement on every answer (a 404
// too), 404 for a missing file, an unknown extension or a directory (none
// is listed); net/http writes the length and answers HEAD; a range or a
// condition still gets the whole file.
func TestConsoleFiles(t *testing.T) {
	a := New(Config{Console: Console{TokenURL: "https://login.example/t/token"}})
	for _, c := range []struct {
		method, path, hdr string
		status            int
		ctype, body       string
	}{
		{"GET", "/console/", "", 200, "text/html; charset=utf-8", "<!doctype html>"},
		{"GET", "/console/index.html", "", 200, "text/html; charset=utf-8", "<!doctype html>"},
		{"GET", "/console/app.js", "", 200, "text/javascript; charset=utf-8", "// "},
		{"GET", "/console/style.css", "", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/console/favicon.svg", "", 200, "image/svg+xml", "<svg"},
		{"GET", "/console/app.js", "Range: bytes=0-1", 200, "text/javascript; charset=utf-8", "// "},
		{"GET", "/console/app.js", "Range: bytes=999999-", 200, "text/javascript; charset=utf-8", "// "},
		{"GET", "/console/app.js", "If-Match: \"abc\"", 200, "text/javascript; charset=utf-8", "// "},
		{"GET", "/console/app.js", "If-None-Match: *", 200, "text/javascript; charset=utf-8", "// "},
		{"HEAD", "/console/app.js", "", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/console/missing.js", "", 404, "text/plain; charset=utf-8", "404 page not found"},
		{"GET", "/console/app.txt", "", 404, "text/plain; charset=utf-8", "404 page not found"},
		{"GET", "/console/sub/", "", 404, "text/plain; charset=utf-8", "404 page not found"},
		{"GET", "/console/index.html/", "", 404, "text/plain; charset=utf-8", "404 page not found"},
		{"GET", "/console/config.json", "", 200, "application/json", `{"authorizeUrl":`},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if k, v, ok := strings.Cut(c.hdr, ": "); ok {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		h := w.Header()
		if w.Code != c.status || h.Get("Content-Type") != c.ctype || !strings.HasPrefix(w.Body.String(), c.body) || (c.body == "" && w.Body.Len() > 0) {
			t.Errorf("%s %s = %d %q %.40q; want %d %q %q", c.method, c.path, w.Code, h.Get("Content-Type"), w.Body.String(), c.status, c.ctype, c.body)
		}
		if h.Get("Cache-Control") != "no-cache" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "connect-src 'self' https://login.example;") {
			t.Errorf("%s %s: headers %v; want no-cache, nosniff, no-referrer and the CSP", c.method, c.path, h)
		}
		if c.status == 200 && c.method == "GET" && c.path != "/console/config.json" && h.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Errorf("%s %s: Content-Length %q; want %d", c.method, c.path, h.Get("Content-Length"), w.Body.Len())
		}
	}
}

// Every file the console's page names (its script, style sheet and icon)
// is served, so that loading the page fails no request; the sign-in's
// sessions URL is relative to the console's address by default, so that
// a console under a stage's prefix starts its session on that stage.
func TestConsolePageNamesOnlyServedFiles(t *testing.T) {
	a := New(Config{})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	page := get("/console/").Body.String()
	refs := regexp.MustCompile(`(?:href|src)="([^"#][^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page names %d files; want its icon, style sheet and script at least", len(refs))
	}
	for _, m := range refs {
		if w := get("/console/" + m[1]); w.Code != 200 {
			t.Errorf("the page names %s, which answers %d", m[1], w.Code)
		}
	}
	if !strings.Contains(page, `rel="icon" href="favicon.svg"`) {
		t.Error("the page names no icon of its own (the browser would ask for /favicon.ico)")
	}
	var cfg Console
	if err := json.Unmarshal(get("/console/config.json").Body.Bytes(), &cfg); err != nil || cfg.SessionsURL != "../sessions" {
		t.Errorf("config.json sessionsUrl = %q, %v; want ../sessions", cfg.SessionsURL, err)
	}
}

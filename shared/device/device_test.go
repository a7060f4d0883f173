package device

import (
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ name, ua, want string }{
		{"Firefox on Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"},
		{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"Safari on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPad"},
		{"Chrome on Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Firefox on Android", "Mozilla/5.0 (Android 15; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox on Android"},
		{"Headless Chrome on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"the Lambda event's Chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", "Chrome on Linux"},
		// What is not a known browser or platform shows nothing of itself.
		{"a made-up browser on Linux", "Mozilla/5.0 (X11; Linux x86_64) CallTheHelpdeskAt555/1.0", "An unknown browser on Linux"},
		{"curl", "curl/8.11.0", ""},
		{"Node's fetch", "node", ""},
		{"a crawler", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ""},
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"control characters", "Mozilla/5.0 (X11; Linux x86_64)\x00\n\x1b[31mEvil/1.0", "An unknown browser on Linux"},
	}
	for _, tt := range tests {
		if got := Describe(tt.ua); got != tt.want {
			t.Errorf("%s: Describe(%q) = %q; want %q", tt.name, tt.ua, got, tt.want)
		}
	}
}

// Past MaxUserAgentBytes the header is not read: what follows cannot
// change the description, and a huge header costs no more than a long one.
func TestDescribeReadsOnlyTheFirstBytes(t *testing.T) {
	pad := strings.Repeat("a", MaxUserAgentBytes)
	if got := Describe(pad + " Firefox/133.0 (X11; Linux x86_64)"); got != "" {
		t.Errorf("Describe(a header whose browser is past the cap) = %q; want \"\"", got)
	}
	ua := "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 "
	if got := Describe(ua + strings.Repeat("x", 1<<20)); got != "Firefox on Linux" {
		t.Errorf("Describe(a 1 MiB header) = %q; want Firefox on Linux", got)
	}
}

// maxLen bounds every description: the longest browser and platform words
// fit in it.
const maxLen = 64

// Every description is made of the fixed words, within maxLen.
func TestDescriptionsAreFixedWords(t *testing.T) {
	names := []string{"an unknown platform"}
	for _, p := range platforms {
		names = append(names, p)
	}
	names = append(names, "iPhone", "iPad")
	for _, b := range append([]string{"An unknown browser"}, values(browsers)...) {
		for _, p := range names {
			if d := b + " on " + p; len(d) > maxLen {
				t.Errorf("%q is %d bytes; want at most %d", d, len(d), maxLen)
			}
		}
	}
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// Whatever the header, the description is "" or "<browser> on
// <platform>" from the fixed lists.
func FuzzDescribe(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	f.Add("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
	f.Add("Mozilla/5.0 (Linux) Evil<script>/1.0")
	known := map[string]bool{"An unknown browser": true}
	for _, b := range browsers {
		known[b] = true
	}
	places := map[string]bool{"an unknown platform": true, "iPhone": true, "iPad": true}
	for _, p := range platforms {
		places[p] = true
	}
	f.Fuzz(func(t *testing.T, ua string) {
		d := Describe(ua)
		if d == "" {
			return
		}
		b, p, ok := strings.Cut(d, " on ")
		if !ok || !known[b] || !places[p] || len(d) > maxLen {
			t.Fatalf("Describe(%q) = %q: not made of the fixed words", ua, d)
		}
	})
}

package endpoint

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		raw      string
		ok       bool
		insecure bool // the error wraps ErrInsecure
	}{
		{"https://login.example.com/.well-known/jwks.json", true, false},
		{"HTTPS://login.example.com/", true, false},
		{"https://[2001:db8::1]:8443/keys", true, false},
		{"http://127.0.0.1:8080/idp/jwks.json", true, false},
		{"http://127.9.9.9/keys", true, false},
		{"http://[::1]:9000/scim", true, false},
		{"http://localhost:3000/token", true, false},
		{"http://LocalHost/token", true, false},
		{"http://login.example.com/jwks.json", false, true},
		{"http://10.0.0.1/keys", false, true},
		{"http://[2001:db8::1]/keys", false, true},
		{"http://localhost.evil.example/keys", false, true},
		{"http://127.0.0.1.evil.example/keys", false, true},
		{"http://localhost@evil.example/keys", false, true},
		{"ftp://127.0.0.1/keys", false, true},
		{"file:///etc/passwd", false, false},
		{"//login.example.com/keys", false, true},
		{"/relative/keys", false, false},
		{"login.example.com", false, false},
		{"", false, false},
		{"https://", false, false},
		{"http://[::1", false, false},
	} {
		err := Check(c.raw)
		if (err == nil) != c.ok {
			t.Errorf("Check(%q) = %v; want ok %v", c.raw, err, c.ok)
			continue
		}
		if c.insecure != errors.Is(err, ErrInsecure) {
			t.Errorf("Check(%q) = %v; want errors.Is ErrInsecure %v", c.raw, err, c.insecure)
		}
	}
}

func TestOrigin(t *testing.T) {
	for raw, want := range map[string]string{
		"https://App.Example.com":       "https://app.example.com",
		"https://app.example.com/":      "https://app.example.com",
		"https://app.example.com:8443":  "https://app.example.com:8443",
		"http://127.0.0.1:5173":         "http://127.0.0.1:5173",
		"http://localhost:3000":         "http://localhost:3000",
		"https://app.example.com:443":   "https://app.example.com",
		"http://127.0.0.1:80":           "http://127.0.0.1",
		"https://xn--bcher-kva.example": "https://xn--bcher-kva.example",
		"https://[::1]:8443":            "https://[::1]:8443",
		"http://[::1]:8080":             "http://[::1]:8080",
	} {
		if got, err := Origin(raw); err != nil || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"*", "null", "http://app.example.com", "https://app.example.com/path", "https://app.example.com?q=1",
		"https://user@app.example.com", "app.example.com", "https://", "ftp://app.example.com", "https://app.example.com#x",
		"https://*.example.com", "https://app.example.com:", "https://app.example.com:99999", "https://app.example.com:0",
		"https://bücher.example", "https://app.example.com;x", "https://app.example.com.", "https://-app.example.com"} {
		if got, err := Origin(raw); err == nil {
			t.Errorf("Origin(%q) = %q; want refused", raw, got)
		}
	}
}

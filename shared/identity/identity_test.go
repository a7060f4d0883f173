package identity

import (
	"testing"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// TestAccessToken: the Authorization schemes read, the one rule of the
// authorizer, sign-in and the admin API.
func TestAccessToken(t *testing.T) {
	for _, c := range []struct {
		h      string
		scheme Scheme
		tok    string
		code   reason.Code
	}{
		{"Bearer abc", Bearer, "abc", reason.OK},
		{"bearer abc ", Bearer, "abc", reason.OK},
		{"DPoP abc", DPoP, "abc", reason.OK},
		{"dpop abc", DPoP, "abc", reason.OK},
		{"", 0, "", reason.TokenMissing},
		{"DPoP", 0, "", reason.TokenMalformed},
		{"DPoP ", 0, "", reason.TokenMalformed},
		{"Bearer", 0, "", reason.TokenMalformed},
		{"Basic abc", 0, "", reason.TokenMalformed},
		{"DPoPabc", 0, "", reason.TokenMalformed},
	} {
		s, tok, code := AccessToken(c.h)
		if s != c.scheme || tok != c.tok || code != c.code {
			t.Errorf("AccessToken(%q) = %v, %q, %s; want %v, %q, %s", c.h, s, tok, code, c.scheme, c.tok, c.code)
		}
	}
}

// TestEqualFoldASCII: header names match under ASCII case folding only;
// the letters strings.EqualFold also folds (long s, the Kelvin sign) do
// not, as they do not to net/http.
func TestEqualFoldASCII(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"X-Session-Id", "x-session-id", true},
		{"AUTHORIZATION", "authorization", true},
		{"X-Seſſion-Id", "X-Session-Id", false},
		{"\u212aey", "key", false},
		{"X-Session-I", "X-Session-Id", false},
		{"X-Session-Id", "X-Session-Ie", false},
	} {
		if got := EqualFoldASCII(c.a, c.b); got != c.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
		if got := EqualFoldASCII([]byte(c.a), c.b); got != c.want {
			t.Errorf("EqualFoldASCII([]byte(%q), %q) = %v; want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestCookieValues: the session cookie is read as net/http reads it: a
// name trimmed (not a value), one pair of quotes removed, a value with a byte
// a cookie may not hold skipped.
func TestCookieValues(t *testing.T) {
	const name = "__Host-sg_session"
	for _, c := range []struct {
		lines []string
		first string
		n     int
	}{
		{nil, "", 0},
		{[]string{"theme=dark", "__Host-sg_session=A"}, "A", 1},
		{[]string{"__Host-sg_session =B; __Host-sg_session=A"}, "B", 2},
		{[]string{" __Host-sg_session\t= A ;x=1"}, " A", 1}, // the value keeps its space
		{[]string{`__Host-sg_session="A"`}, "A", 1},
		{[]string{`__Host-sg_session=A\B; __Host-sg_session=C`}, "C", 1},
		{[]string{"__host-sg_session=A"}, "", 0},
	} {
		first, n := CookieValues(c.lines, name)
		if first != c.first || n != c.n {
			t.Errorf("CookieValues(%q) = %q, %d; want %q, %d", c.lines, first, n, c.first, c.n)
		}
	}
}

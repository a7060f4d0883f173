package endpoint

import (
	"fmt"
	"net/url"
	"strings"
)

// Origin checks an origin that a deployment allows to call it from a
// browser (the sessions API's cross-origin sign-in) and returns it in the
// form browsers send in the Origin header: scheme://host[:port],
// lowercase, https (plain http only on loopback), with no path, query,
// fragment or user.
func Origin(raw string) (string, error) {
	if raw == "*" || raw == "null" {
		return "", fmt.Errorf("origin %q: list each origin that may sign in; credentials are never allowed for %s", raw, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", raw, err)
	}
	if err := Check(raw); err != nil {
		return "", fmt.Errorf("origin: %w", err)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("origin %q: only scheme://host[:port], with no path, query or user", raw)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

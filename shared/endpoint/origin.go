package endpoint

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
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
	// The form a browser sends: an ASCII host name (an international
	// name in its punycode form) or an IP address, and no default port.
	// Anything else would never match an Origin header.
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if net.ParseIP(host) == nil && !hostName.MatchString(host) {
		return "", fmt.Errorf("origin %q: the host must be a host name in ASCII (an international name in its xn-- form) or an IP address, with no wildcard", raw)
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("origin %q: an empty port", raw)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("origin %q: port %q is not 1 to 65535", raw, port)
		}
		if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
			port = "" // browsers leave the default port out
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// hostName is a DNS host name as browsers serialize it: lowercase ASCII
// labels of letters, digits and hyphens, no label empty, no trailing dot.
var hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

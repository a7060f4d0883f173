// Package endpoint holds the one rule for the remote endpoints sessionguard
// calls (key sets and discovery documents, Shared Signals metadata and
// stream endpoints, directories and their token endpoints): https, or
// plain http only to a loopback host (127.0.0.0/8, ::1, "localhost"),
// where nothing crosses a network. Over plain http anyone on the path
// could substitute a key set, or read the credential sent with a request.
// Configuration is checked with it at start, and every URL learned at run
// time (a discovered jwks_uri, a transmitter's stream endpoints, a
// redirect) before a request is sent to it.
package endpoint

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrInsecure is wrapped by Check's error for an http URL to a host that
// is not loopback, and for any other scheme.
var ErrInsecure = errors.New("not https (plain http is allowed only to 127.0.0.0/8, ::1 or localhost)")

// Check reports whether raw may be called: an absolute https URL with a
// host, or an http URL whose host is loopback. The error names raw.
func Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", raw, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("endpoint %q: not an absolute URL with a host", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if Loopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("endpoint %q: %w", raw, ErrInsecure)
}

// Loopback reports whether host (a URL's hostname, without port or
// brackets) is "localhost" or a loopback address.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

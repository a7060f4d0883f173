package authorizer

import (
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// appendSimple appends the HTTP API simple response (the JSON of
// events.APIGatewayV2CustomAuthorizerSimpleResponse) for r: the one
// response written by hand, because through the events type and its map
// context it cost more than 2 us per decision (the commit that added this
// has the numbers). TestSimpleResponseMatchesEventsType holds the two
// encodings to the same value. Members are in encoding/json's order (the
// context's names sorted).
func appendSimple(dst []byte, r Result, allow bool) []byte {
	if !allow {
		dst = append(dst, `{"isAuthorized":false,"context":{"reason":`...)
		dst = appendString(dst, string(r.Reason))
		return append(dst, "}}"...)
	}
	dst = append(dst, `{"isAuthorized":true,"context":{"clientId":`...)
	dst = appendString(dst, r.Claims.ClientID)
	dst = append(dst, `,"environment":`...)
	dst = appendString(dst, r.Environment)
	dst = appendTime(dst, `,"expiresAt":`, r.Decision.ExpiresAt)
	dst = appendTime(dst, `,"idleExpiresAt":`, r.Decision.IdleExpiresAt)
	dst = append(dst, `,"issuer":`...)
	dst = appendString(dst, r.Claims.Issuer)
	dst = append(dst, `,"sessionId":`...)
	dst = appendString(dst, r.Session.Hash.Prefix())
	if r.Session.StaySignedIn {
		dst = append(dst, `,"staySignedIn":true`...)
	} else {
		dst = append(dst, `,"staySignedIn":false`...)
	}
	dst = append(dst, `,"userId":`...)
	dst = appendString(dst, r.Claims.Subject)
	dst = appendTime(dst, `,"warnAt":`, r.Decision.WarnAt)
	return append(dst, "}}"...)
}

// appendString appends s as a JSON string. The strings come from a
// verified token and the store; invalid UTF-8 cannot reach here (the
// token's JSON was refused for it), and would be replaced, not copied.
func appendString(dst []byte, s string) []byte {
	dst, _ = jsontext.AppendQuote(dst, s)
	return dst
}

// appendTime appends member and t (RFC 3339, UTC), unless t is zero: a
// time that is not enforced is absent, as in allowContext.
func appendTime(dst []byte, member string, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	dst = append(dst, member...)
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339)
	return append(dst, '"')
}

package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/sessionguard/sessionguard/shared/jsonlite"
)

// compact is a parsed, not yet verified, JWS compact serialization.
type compact struct {
	header       header
	claims       claimSet
	payload      []byte // decoded payload, for claims read by name
	signingInput string // header.payload, as sent
	signature    []byte
	buf          []byte // holds header, payload and signature, decoded
}

// compacts recycles parsed tokens and their buffers: a request decodes
// about a kilobyte, and nothing read from a token keeps pointing into its
// buffer (the claims are copied out as strings).
var compacts = sync.Pool{New: func() any { return new(compact) }}

// release returns c to the pool; c must not be used afterwards.
func (c *compact) release() {
	if cap(c.buf) > 16<<10 {
		return
	}
	*c = compact{buf: c.buf[:0]}
	compacts.Put(c)
}

type header struct {
	Alg     string
	Kid     string
	Typ     string
	HasCrit bool
	// jku, x5u, jwk and x5c are deliberately not read: keys come only
	// from the issuer's configured key set.
}

type claimSet struct {
	Iss                  string
	Aud                  audience
	Exp, Nbf, Iat        numericDate
	AuthTime             numericDate
	Sub, Oid, Tid        string
	Azp, Appid, ClientID string
	Jti                  string
}

var b64 = base64.RawURLEncoding.Strict()

func parseCompact(raw string) (*compact, error) {
	first := strings.IndexByte(raw, '.')
	last := strings.LastIndexByte(raw, '.')
	if first < 0 || first == last {
		return nil, errors.New("not a JWS compact serialization (want three dot-separated parts)")
	}
	if strings.IndexByte(raw[first+1:last], '.') >= 0 {
		return nil, errors.New("too many parts (a JWE or a nested token?)")
	}
	c := compacts.Get().(*compact)
	c.signingInput = raw[:last]
	// One buffer for header, payload and signature.
	c.buf = slices.Grow(c.buf[:0], b64.DecodedLen(first)+b64.DecodedLen(last-first-1)+b64.DecodedLen(len(raw)-last-1))
	c.buf = c.buf[:cap(c.buf)]
	if err := c.decode(raw, first, last); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

func (c *compact) decode(raw string, first, last int) error {
	buf := c.buf
	n, err := b64.Decode(buf, view(raw[:first]))
	if err != nil {
		return fmt.Errorf("header is not base64url: %w", err)
	}
	if err := c.header.parse(buf[:n]); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if c.header.HasCrit {
		return errors.New(`header has "crit": no critical extensions are supported`)
	}
	rest := buf[n:]
	if n, err = b64.Decode(rest, view(raw[first+1:last])); err != nil {
		return fmt.Errorf("payload is not base64url: %w", err)
	}
	c.payload, rest = rest[:n], rest[n:]
	if err := c.claims.parse(c.payload); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if n, err = b64.Decode(rest, view(raw[last+1:])); err != nil {
		return fmt.Errorf("signature is not base64url: %w", err)
	}
	if n == 0 {
		return errors.New("empty signature")
	}
	c.signature = rest[:n]
	return nil
}

func (h *header) parse(data []byte) error {
	it := jsonlite.NewObject(data)
	for it.Next() {
		var ok bool
		switch {
		case it.KeyIs("alg"):
			h.Alg, ok = jsonlite.String(it.Value())
		case it.KeyIs("kid"):
			h.Kid, ok = jsonlite.String(it.Value())
		case it.KeyIs("typ"):
			h.Typ, ok = jsonlite.String(it.Value())
		case it.KeyIs("crit"):
			h.HasCrit, ok = true, true
		default:
			ok = true
		}
		if !ok {
			return fmt.Errorf("%q must be a string", it.KeyString())
		}
	}
	return it.Err()
}

func (c *claimSet) parse(data []byte) error {
	it := jsonlite.NewObject(data)
	for it.Next() {
		v := it.Value()
		var err error
		switch key := it.Key(); string(key) {
		case "iss":
			var ok bool
			if c.Iss, ok = jsonlite.String(v); !ok {
				err = errors.New(`"iss" must be a string`)
			}
		case "aud":
			err = c.Aud.parse(v)
		case "exp":
			err = c.Exp.parse("exp", v)
		case "nbf":
			err = c.Nbf.parse("nbf", v)
		case "iat":
			err = c.Iat.parse("iat", v)
		case "auth_time":
			err = c.AuthTime.parse("auth_time", v)
		case "sub":
			c.Sub = lenientString(v)
		case "oid":
			c.Oid = lenientString(v)
		case "tid":
			c.Tid = lenientString(v)
		case "azp":
			c.Azp = lenientString(v)
		case "appid":
			c.Appid = lenientString(v)
		case "client_id":
			c.ClientID = lenientString(v)
		case "jti":
			c.Jti = lenientString(v)
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

// stringClaim returns a claim by name: the common ones from the parsed set,
// any other by reading the payload once more (only for unusual configs).
func (c *claimSet) stringClaim(payload []byte, name string) (string, error) {
	switch name {
	case "sub":
		return c.Sub, nil
	case "oid":
		return c.Oid, nil
	case "tid":
		return c.Tid, nil
	}
	var out string
	it := jsonlite.NewObject(payload)
	for it.Next() {
		if it.KeyIs(name) {
			out = lenientString(it.Value())
		}
	}
	return out, it.Err()
}

// rolesClaim reads the claim name as a list of strings; a single string is
// a list of one; anything else is no roles.
func rolesClaim(payload []byte, name string) []string {
	it := jsonlite.NewObject(payload)
	for it.Next() {
		if !it.KeyIs(name) {
			continue
		}
		raw := it.Value()
		if s, ok := jsonlite.String(raw); ok {
			return []string{s}
		}
		if ss, ok := jsonlite.Strings(raw); ok {
			return ss
		}
		return nil
	}
	return nil
}

// audience is "aud": a string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) parse(raw []byte) error {
	if s, ok := jsonlite.String(raw); ok {
		*a = audience{s}
		return nil
	}
	list, ok := jsonlite.Strings(raw)
	if !ok {
		return errors.New(`"aud" must be a string or an array of strings`)
	}
	*a = list
	return nil
}

func (a audience) containsAny(want []string) bool {
	for _, v := range a {
		if slices.Contains(want, v) {
			return true
		}
	}
	return false
}

// numericDate is a JSON number of seconds since the epoch (RFC 7519 2),
// truncated to whole seconds. A zero value counts as absent.
type numericDate struct {
	t   time.Time
	set bool
}

func (n *numericDate) parse(name string, raw []byte) error {
	if jsonlite.IsNull(raw) {
		*n = numericDate{}
		return nil
	}
	f, ok := jsonlite.Float(raw)
	if !ok {
		return fmt.Errorf("%q is not a JSON number", name)
	}
	if math.IsNaN(f) || f < -1e11 || f > 1e11 { // beyond year 5000: refuse rather than overflow
		return fmt.Errorf("%q is out of range", name)
	}
	sec := int64(f)
	if sec == 0 {
		*n = numericDate{}
		return nil
	}
	*n = numericDate{t: time.Unix(sec, 0).UTC(), set: true}
	return nil
}

// lenientString reads a JSON string and treats any other type as absent,
// so an odd type in a claim we only sometimes use never makes a token
// unreadable.
func lenientString(raw []byte) string {
	s, _ := jsonlite.String(raw)
	return s
}

// view returns the bytes of s without copying them, for the callees of
// the hot path that only read their input (base64 decoding, hashing): a
// token is about 1.2 KB, and copying it three times per request shows in
// the authorizer's benchmark. The result must never be written to.
func view(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sessionguard/sessionguard/shared/jsonread"
)

// compact is a parsed, not yet verified, JWS compact serialization.
type compact struct {
	header       Header
	claims       claimSet
	payload      []byte // decoded payload, for claims read by name
	signingInput []byte // header.payload, as sent (in raw)
	signature    []byte
	raw          []byte // the token, copied: decoding and hashing read bytes
	buf          []byte // holds header, payload and signature, decoded
}

// compacts recycles parsed tokens and their buffers: a request decodes
// about a kilobyte, and nothing read from a token keeps pointing into its
// buffer (the claims are copied out as strings).
var compacts = sync.Pool{New: func() any { return new(compact) }}

// release returns c to the pool; c must not be used afterwards.
func (c *compact) release() {
	if cap(c.buf) > 16<<10 || cap(c.raw) > 16<<10 {
		return
	}
	*c = compact{buf: c.buf[:0], raw: c.raw[:0]}
	compacts.Put(c)
}

// Header holds the JOSE header members sessionguard reads, of a token or
// of a DPoP proof (shared/dpop).
type Header struct {
	Alg     string
	Kid     string
	Typ     string
	HasCrit bool
	// HasNonce: a header "nonce" marks tokens not meant for third
	// parties to verify (Microsoft Graph's).
	HasNonce bool
	// JWK is the "jwk" member's raw JSON object, nil when absent: a DPoP
	// proof's key. The verifier never reads a token's: its keys come
	// only from the issuer's configured key set (jku, x5u and x5c are not
	// read at all).
	JWK []byte
}

var b64 = base64.RawURLEncoding.Strict()

// SplitCompact finds the two dots of a JWS compact serialization: the
// header is raw[:first], the payload raw[first+1:last], the signature
// raw[last+1:] (all still base64url). Anything but three parts is an
// error. Tokens and DPoP proofs are split by it.
func SplitCompact(raw string) (first, last int, err error) {
	first = strings.IndexByte(raw, '.')
	last = strings.LastIndexByte(raw, '.')
	if first < 0 || first == last {
		return 0, 0, errors.New("not a JWS compact serialization (want three dot-separated parts)")
	}
	if strings.IndexByte(raw[first+1:last], '.') >= 0 {
		return 0, 0, errors.New("too many parts (a JWE or a nested token?)")
	}
	return first, last, nil
}

func parseCompact(raw string) (*compact, error) {
	first, last, err := SplitCompact(raw)
	if err != nil {
		return nil, err
	}
	c := compacts.Get().(*compact)
	c.raw = append(c.raw[:0], raw...)
	c.signingInput = c.raw[:last]
	// One buffer for header, payload and signature.
	c.buf = slices.Grow(c.buf[:0], b64.DecodedLen(first)+b64.DecodedLen(last-first-1)+b64.DecodedLen(len(raw)-last-1))
	c.buf = c.buf[:cap(c.buf)]
	if err := c.decode(c.raw, first, last); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

func (c *compact) decode(raw []byte, first, last int) error {
	buf := c.buf
	n, err := b64.Decode(buf, raw[:first])
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
	if n, err = b64.Decode(rest, raw[first+1:last]); err != nil {
		return fmt.Errorf("payload is not base64url: %w", err)
	}
	c.payload, rest = rest[:n], rest[n:]
	if err := c.claims.parse(c.payload); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if n, err = b64.Decode(rest, raw[last+1:]); err != nil {
		return fmt.Errorf("signature is not base64url: %w", err)
	}
	if n == 0 {
		return errors.New("empty signature")
	}
	c.signature = rest[:n]
	return nil
}

// ParseHeader reads a decoded JOSE header with the strict JSON reader
// (a member named twice, after unescaping, or invalid UTF-8 is an error):
// alg, kid and typ must be strings and jwk an object; crit and nonce are
// noted; other members are skipped. Tokens and DPoP proofs are read by
// it.
func ParseHeader(data []byte) (Header, error) {
	var h Header
	err := h.parse(data)
	return h, err
}

func (h *Header) parse(data []byte) error {
	r := jsonread.New(data)
	defer r.Release()
	if !r.Object() {
		return r.Err()
	}
	for r.Next() {
		var ok bool
		switch string(r.Name()) {
		case "alg":
			h.Alg, ok = r.String()
		case "kid":
			h.Kid, ok = r.String()
		case "typ":
			h.Typ, ok = r.String()
		case "crit":
			h.HasCrit, ok = true, true
			r.Skip()
		case "nonce":
			h.HasNonce, ok = true, true
			r.Skip()
		case "jwk":
			if r.Kind() != '{' {
				r.Skip()
				if r.Err() == nil {
					return errors.New(`"jwk" must be an object`)
				}
				continue
			}
			h.JWK, ok = append([]byte(nil), r.Raw()...), true
		default:
			ok = true
			r.Skip()
		}
		if !ok && r.Err() == nil {
			return fmt.Errorf("%q must be a string", r.Name())
		}
	}
	return r.Err()
}

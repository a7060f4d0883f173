package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	mbits "math/bits"
	"sync"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sessionguard/sessionguard/shared/jsonread"
)

// Thumbprint is the SHA-256 JWK thumbprint of a public key, base64url
// without padding: the hash of a JSON object of the key's required
// members only (EC: crv, kty, x, y; RSA: e, kty, n; OKP: crv, kty, x),
// in lexicographic order, with no whitespace, EC coordinates padded to
// the curve's full size and RSA numbers in their fewest octets. It is
// jwx's; TestThumbprint holds it to those rules with known answers and to
// a key whose coordinate has a leading zero octet.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	k, err := jwk.FromRaw(pub)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// parsedKey is a proof's jwk, read and checked once.
type parsedKey struct {
	pub        crypto.PublicKey
	kind       string // "EC P-256", "RSA", "Ed25519", for messages
	thumbprint string
}

// KeyCache keeps the keys of recent proofs, by their jwk's exact JSON: a
// client signs every proof with the same key, so its jwk is read, checked
// and hashed once, not per request. Bounded: when full, an arbitrary
// entry makes room. The zero value is not usable; nil reads every key
// afresh.
type KeyCache struct {
	mu      sync.Mutex
	entries map[string]*parsedKey
	max     int
}

// DefaultKeyCacheEntries is how many proof keys a KeyCache keeps.
const DefaultKeyCacheEntries = 1024

// NewKeyCache returns a cache of at most max keys.
func NewKeyCache(max int) *KeyCache {
	return &KeyCache{entries: map[string]*parsedKey{}, max: max}
}

func (kc *KeyCache) key(raw []byte) (*parsedKey, error) {
	if kc != nil {
		kc.mu.Lock()
		k := kc.entries[string(raw)]
		kc.mu.Unlock()
		if k != nil {
			return k, nil
		}
	}
	k, err := parseKey(raw)
	if err != nil {
		return nil, err
	}
	if kc != nil {
		kc.mu.Lock()
		if len(kc.entries) >= kc.max {
			for old := range kc.entries {
				delete(kc.entries, old)
				break
			}
		}
		kc.entries[string(raw)] = k
		kc.mu.Unlock()
	}
	return k, nil
}

// privateMembers are the JWK members that hold a private or secret key.
var privateMembers = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}

// The sizes of an RSA proof key: at least 2048 bits, and at most 4096:
// a proof with a key not yet cached is read and its signature checked
// before anything else refuses it, which took here about 0.1 ms for 2048
// bits, 0.55 ms for 4096 and 1.8 ms for 8192 (a key a client makes up
// per request costs the authorizer that each time).
const (
	minRSABits = 2048
	maxRSABits = 4096
)

// parseKey reads a proof's jwk: a public key of type EC (P-256, both
// coordinates of the curve's full 32 octets, on the curve), RSA (2048 to
// 4096 bits, a modulus without a leading zero octet) or OKP (Ed25519, 32
// octets), with no private member. The members are read strictly first
// (a member name twice is refused), then jwx builds the key and its
// thumbprint.
func parseKey(raw []byte) (*parsedKey, error) {
	m := map[string]string{}
	r := jsonread.New(raw)
	defer r.Release()
	if !r.Object() {
		return nil, fmt.Errorf("jwk: %w", r.Err())
	}
	for r.Next() {
		name := string(r.Name())
		if privateMembers[name] {
			r.Skip()
			return nil, fmt.Errorf("the jwk has the private member %q: a proof carries the public key only", name)
		}
		switch name {
		case "kty", "crv", "x", "y", "n", "e":
			s, ok := r.String()
			if !ok {
				if r.Err() != nil {
					return nil, fmt.Errorf("jwk: %w", r.Err())
				}
				return nil, fmt.Errorf("jwk member %q must be a string", name)
			}
			m[name] = s
		default:
			r.Skip()
		}
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("jwk: %w", r.Err())
	}
	size := func(name string, want int) error {
		b, err := b64.DecodeString(m[name])
		if err != nil || len(b) != want {
			return fmt.Errorf("jwk member %q must be %d octets, base64url", name, want)
		}
		return nil
	}
	kind := ""
	switch m["kty"] {
	case "EC":
		if m["crv"] != "P-256" {
			return nil, fmt.Errorf("EC curve %.20q: only P-256 (ES256) is accepted", m["crv"])
		}
		if err := errors.Join(size("x", 32), size("y", 32)); err != nil {
			return nil, err
		}
		kind = "EC P-256"
	case "RSA":
		n, err := b64.DecodeString(m["n"])
		if err != nil || len(n) == 0 || n[0] == 0 {
			return nil, errors.New(`jwk member "n" must be a modulus without leading zero octets, base64url`)
		}
		if bits := (len(n)-1)*8 + mbits.Len8(n[0]); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("an RSA key of %d bits: want %d to %d", bits, minRSABits, maxRSABits)
		}
		if e, err := b64.DecodeString(m["e"]); err != nil || len(e) == 0 || e[0] == 0 || len(e) > 4 {
			return nil, errors.New(`jwk member "e" must be a public exponent without leading zero octets, base64url`)
		}
		kind = "RSA"
	case "OKP":
		if m["crv"] != "Ed25519" {
			return nil, fmt.Errorf("OKP curve %.20q: only Ed25519 (EdDSA) is accepted", m["crv"])
		}
		if err := size("x", 32); err != nil {
			return nil, err
		}
		kind = "Ed25519"
	default:
		return nil, fmt.Errorf("key type %.20q: want EC, RSA or OKP", m["kty"])
	}
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	var pub any
	if err := k.Raw(&pub); err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if _, err := p.ECDH(); err != nil {
			return nil, errors.New("the EC point is not on P-256")
		}
	case *rsa.PublicKey:
		if b := p.N.BitLen(); b < minRSABits || b > maxRSABits {
			return nil, fmt.Errorf("an RSA key of %d bits: want %d to %d", b, minRSABits, maxRSABits)
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("jwk: a %T is not a public key", pub)
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("jwk: thumbprint: %w", err)
	}
	return &parsedKey{pub: pub, kind: kind, thumbprint: base64.RawURLEncoding.EncodeToString(sum)}, nil
}

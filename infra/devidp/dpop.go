package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// DPoPKey is a client's DPoP key pair, as an app holds one: it signs the
// proofs the app sends with each request. Tests and the local stack use
// it as a client would (the browser client library does the same with
// WebCrypto).
type DPoPKey struct {
	Alg     jwa.SignatureAlgorithm
	Private crypto.Signer
	// JWK is the public key as a proof's header carries it.
	JWK map[string]any
	// Thumbprint is the key's SHA-256 thumbprint: what a bound token's
	// cnf.jkt names (the development issuer's /token?jkt=).
	Thumbprint string
	now        func() time.Time
}

// NewDPoPKey generates a key for alg: ES256 (P-256), RS256 or PS256
// (RSA 2048) or EdDSA (Ed25519). now is the clock of its proofs' iat
// (nil: time.Now).
func NewDPoPKey(alg jwa.SignatureAlgorithm, now func() time.Time) (*DPoPKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jwa.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.RS256, jwa.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("devidp: no DPoP key for %s", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("devidp: generate a DPoP key: %w", err)
	}
	return DPoPKeyOf(alg, priv, now)
}

// DPoPKeyOf is the DPoP key of a private key generated elsewhere.
func DPoPKeyOf(alg jwa.SignatureAlgorithm, priv crypto.Signer, now func() time.Time) (*DPoPKey, error) {
	if now == nil {
		now = time.Now
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("devidp: DPoP key: %w", err)
	}
	raw, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("devidp: DPoP key: %w", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("devidp: DPoP key: %w", err)
	}
	// jwx's RFC 7638 thumbprint, as shared/dpop computes it (the tests of
	// shared/dpop hold it to the rules; this package cannot import that
	// one, whose tests import this one).
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devidp: DPoP key thumbprint: %w", err)
	}
	return &DPoPKey{Alg: alg, Private: priv, JWK: m, Thumbprint: base64.RawURLEncoding.EncodeToString(sum), now: now}, nil
}

// Proof describes a proof to sign. Zero fields take defaults.
type Proof struct {
	Method string // htm
	URL    string // htu
	// AccessToken, when set, is hashed into ath.
	AccessToken string
	IssuedAt    time.Time // default now
	JTI         string    // default random
	// Claims and Headers are added to (or override) the claims and the
	// protected header; a nil value removes one (for attacks).
	Claims, Headers map[string]any
}

// Sign signs a proof with k: typ dpop+jwt, alg k.Alg, jwk k's public key.
func (k *DPoPKey) Sign(p Proof) (string, error) {
	if p.JTI == "" {
		var b [16]byte
		rand.Read(b[:])
		p.JTI = hex.EncodeToString(b[:])
	}
	if p.IssuedAt.IsZero() {
		p.IssuedAt = k.now()
	}
	claims := map[string]any{"jti": p.JTI, "htm": p.Method, "htu": p.URL, "iat": p.IssuedAt.Unix()}
	if p.AccessToken != "" {
		sum := sha256.Sum256([]byte(p.AccessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	header := map[string]any{"typ": "dpop+jwt", "alg": k.Alg.String(), "jwk": k.JWK}
	for dst, src := range map[*map[string]any]map[string]any{&claims: p.Claims, &header: p.Headers} {
		for name, v := range src {
			if v == nil {
				delete(*dst, name)
			} else {
				(*dst)[name] = v
			}
		}
	}
	alg, _ := header["alg"].(string)
	return SignCompact(k.Private, alg, header, claims)
}

// MustSign is Sign for tests: it panics on an error (a key that cannot
// sign is a broken test).
func (k *DPoPKey) MustSign(p Proof) string {
	s, err := k.Sign(p)
	if err != nil {
		panic(err)
	}
	return s
}

// SignCompact signs a JWS compact serialization of header and claims with
// priv for alg (ES256, RS256, PS256, EdDSA; any other alg is signed as
// RS256 or ES256 by the key's type, for tests that lie about alg).
func SignCompact(priv crypto.Signer, alg string, header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("devidp: proof header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: proof claims: %w", err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sig, err := signInput(priv, alg, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func signInput(priv crypto.Signer, alg string, input []byte) ([]byte, error) {
	sum := sha256.Sum256(input)
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return nil, fmt.Errorf("devidp: sign a proof: %w", err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig, nil
	case *rsa.PrivateKey:
		if alg == "PS256" {
			return rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input), nil
	}
	return nil, fmt.Errorf("devidp: cannot sign with a %T", priv)
}

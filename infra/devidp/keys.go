package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Key is one signing key of the issuer.
type Key struct {
	Kid     string
	Alg     jwa.SignatureAlgorithm
	Private crypto.Signer
}

// AddKey generates a key for alg (RS256, PS256, ES256, ES384, EdDSA), adds
// it to the published set, and returns it.
func (i *Issuer) AddKey(alg jwa.SignatureAlgorithm) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jwa.RS256, jwa.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jwa.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("devidp: unsupported algorithm %s", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("devidp: generate %s key: %w", alg, err)
	}
	var nonce [4]byte
	rand.Read(nonce[:])
	i.mu.Lock()
	defer i.mu.Unlock()
	i.serial++
	k := &Key{Kid: fmt.Sprintf("dev-%s-%d-%x", alg, i.serial, nonce), Alg: alg, Private: priv}
	i.keys = append(i.keys, k)
	return k, nil
}

// RemoveKey stops publishing the key with kid (a rotation's second half).
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, k := range i.keys {
		if k.Kid == kid {
			i.keys = append(i.keys[:n:n], i.keys[n+1:]...)
			return
		}
	}
}

// KeyFor returns the newest published key for alg, or nil.
func (i *Issuer) KeyFor(alg jwa.SignatureAlgorithm) *Key {
	i.mu.RLock()
	defer i.mu.RUnlock()
	for n := len(i.keys) - 1; n >= 0; n-- {
		if i.keys[n].Alg == alg {
			return i.keys[n]
		}
	}
	return nil
}

// JWKS returns the published key set as JSON.
func (i *Issuer) JWKS() ([]byte, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	set := jwk.NewSet()
	for _, k := range i.keys {
		pub, err := jwk.PublicKeyOf(k.Private)
		if err != nil {
			return nil, fmt.Errorf("devidp: public key of %s: %w", k.Kid, err)
		}
		_ = pub.Set(jwk.KeyIDKey, k.Kid)
		_ = pub.Set(jwk.AlgorithmKey, k.Alg)
		_ = pub.Set(jwk.KeyUsageKey, "sig")
		_ = set.AddKey(pub)
	}
	return json.Marshal(set)
}

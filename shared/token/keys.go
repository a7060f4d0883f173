package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sessionguard/sessionguard/shared/endpoint"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// maxKeySetBytes caps a JWKS or discovery response.
const maxKeySetBytes = 1 << 20

// publicKey is one verification key, parsed once when its set is fetched.
type publicKey struct {
	alg string // the JWK's "alg", "" when absent
	key crypto.PublicKey
}

type keySet struct {
	byKid     map[string][]publicKey
	fetchedAt time.Time
	// generation counts the changes of the issuer's key set: a refresh
	// that brings other keys (one removed, added or replaced) adds one,
	// one that brings the same keys keeps it. The token cache holds an
	// entry only while its generation is the current set's.
	generation uint64
	// source says where the keys came from: KeysFromIdP or
	// KeysFromSnapshot (snapshot.go).
	source string
}

// keyCache holds one issuer's key set. Readers take the current set with an
// atomic load; a refresh happens on use (a frozen Lambda runs no background
// work), one fetch at a time, and a failed fetch keeps the last good set.
type keyCache struct {
	issuer     string
	url        string
	discovered bool // url is an OIDC discovery document, not the JWKS
	cfg        *Config

	cur atomic.Pointer[keySet]

	mu             sync.Mutex
	inflight       chan struct{}
	lastErr        error
	lastFailure    time.Time
	lastKidRefetch time.Time
	jwksURL        string // resolved from discovery
	fetches        atomic.Int64
}

func newKeyCache(issuer, url string, discovered bool, cfg *Config) *keyCache {
	return &keyCache{issuer: issuer, url: url, discovered: discovered, cfg: cfg}
}

// verify checks the signature of c with the issuer's key named by its kid,
// and returns the key set that verified it.
func (kc *keyCache) verify(ctx context.Context, c *compact) (*keySet, error) {
	now := kc.cfg.Now()
	ks := kc.current(ctx, now)
	if ks == nil {
		return nil, reason.New(reason.DependencyUnavailable, "no key set for issuer %q: %w", kc.issuer, kc.err())
	}
	keys, ok := ks.byKid[c.header.Kid]
	if !ok && kc.mayFetch(now, true) {
		if fresh, err := kc.refresh(ctx); err == nil {
			ks = fresh
			keys, ok = ks.byKid[c.header.Kid]
		}
	}
	if !ok {
		return nil, reason.New(reason.TokenSignature, "unknown kid %q for issuer %q", truncate(c.header.Kid, 64), kc.issuer)
	}
	for _, k := range keys {
		if k.alg != "" && k.alg != c.header.Alg {
			continue
		}
		if checkSignature(c.header.Alg, k.key, c.signingInput, c.signature) {
			return ks, nil
		}
	}
	return nil, reason.New(reason.TokenSignature, "signature does not verify with key %q of issuer %q", truncate(c.header.Kid, 64), kc.issuer)
}

// current is the key set to verify with at now: the last fetched, first
// refreshed when it is older than KeySetMaxAge (if a fetch may start);
// nil when no set was ever fetched.
func (kc *keyCache) current(ctx context.Context, now time.Time) *keySet {
	ks := kc.cur.Load()
	if ks == nil || now.Sub(ks.fetchedAt) >= kc.cfg.KeySetMaxAge {
		if kc.mayFetch(now, false) {
			if fresh, err := kc.refresh(ctx); err == nil {
				ks = fresh
			}
		}
	}
	return ks
}

// mayFetch reports whether a fetch may start now: not within
// RetryAfterFailure of a failure, and, for an unknown kid, not within
// UnknownKidCooldown of the last such fetch (which it then claims).
func (kc *keyCache) mayFetch(now time.Time, unknownKid bool) bool {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if !kc.lastFailure.IsZero() && now.Sub(kc.lastFailure) < kc.cfg.RetryAfterFailure {
		return false
	}
	if unknownKid {
		if !kc.lastKidRefetch.IsZero() && now.Sub(kc.lastKidRefetch) < kc.cfg.UnknownKidCooldown {
			return false
		}
		kc.lastKidRefetch = now
	}
	return true
}

func (kc *keyCache) err() error {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.lastErr == nil {
		return errors.New("not fetched yet")
	}
	return kc.lastErr
}

// refresh fetches the key set, or waits for the fetch already under way.
func (kc *keyCache) refresh(ctx context.Context) (*keySet, error) {
	kc.mu.Lock()
	if ch := kc.inflight; ch != nil {
		kc.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		kc.mu.Lock()
		defer kc.mu.Unlock()
		if kc.lastErr != nil {
			return nil, kc.lastErr
		}
		return kc.cur.Load(), nil
	}
	ch := make(chan struct{})
	kc.inflight = ch
	kc.mu.Unlock()

	// The fetch is not tied to the caller's cancellation: others may be
	// waiting on it. It has its own timeout. The set is stamped with the
	// time the fetch started: what the IdP served from then on, so a slow
	// fetch never passes for newer than a quicker one that started later.
	started := kc.cfg.Now()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kc.cfg.FetchTimeout)
	ks, fetched, err := kc.fetch(fctx)
	cancel()

	kc.mu.Lock()
	kc.lastErr, kc.inflight = err, nil
	if err != nil {
		kc.lastFailure = kc.cfg.Now()
	} else {
		kc.lastFailure = time.Time{}
		ks.fetchedAt, ks.source = started, KeysFromIdP
		kc.install(ks)
	}
	close(ch)
	kc.mu.Unlock()
	if err == nil {
		kc.saveSnapshot(ctx, fetched, started)
	}
	return ks, err
}

// install makes ks the current set, numbering its generation after the
// set it replaces. The caller holds kc.mu.
func (kc *keyCache) install(ks *keySet) {
	ks.generation = 1
	if old := kc.cur.Load(); old != nil {
		ks.generation = old.generation
		if !old.sameKeys(ks) {
			ks.generation++
		}
	}
	kc.cur.Store(ks)
}

// fetch reads and parses the key set, and returns it with the document
// as fetched.
func (kc *keyCache) fetch(ctx context.Context) (*keySet, []byte, error) {
	kc.fetches.Add(1)
	url := kc.url
	if kc.discovered {
		kc.mu.Lock()
		url = kc.jwksURL
		kc.mu.Unlock()
		if url == "" {
			var err error
			if url, err = kc.discover(ctx); err != nil {
				return nil, nil, err
			}
		}
	}
	body, err := kc.get(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	ks, err := parseKeySet(body)
	return ks, body, err
}

func (kc *keyCache) discover(ctx context.Context) (string, error) {
	body, err := kc.get(ctx, kc.url)
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("token: discovery document %s: %w", kc.url, err)
	}
	if doc.Issuer != kc.issuer {
		return "", fmt.Errorf("token: discovery document %s names issuer %q, want %q", kc.url, doc.Issuer, kc.issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("token: discovery document %s has no jwks_uri", kc.url)
	}
	if err := endpoint.Check(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("token: discovery document %s: jwks_uri: %w", kc.url, err)
	}
	kc.mu.Lock()
	kc.jwksURL = doc.JWKSURI
	kc.mu.Unlock()
	return doc.JWKSURI, nil
}

func (kc *keyCache) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("token: fetch %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := kc.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token: fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token: fetch %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes+1))
	if err != nil {
		return nil, fmt.Errorf("token: fetch %s: %w", url, err)
	}
	if len(body) > maxKeySetBytes {
		return nil, fmt.Errorf("token: fetch %s: response exceeds %d bytes", url, maxKeySetBytes)
	}
	return body, nil
}

// parseKeySet keeps the signature keys of a JWKS: RSA of 2048 bits or more,
// EC P-256/384/521 and Ed25519. Symmetric keys and encryption keys are
// dropped, so an issuer's keys can never serve as an HMAC secret.
// sameKeys reports whether ks and o hold the same keys under the same kids.
func (ks *keySet) sameKeys(o *keySet) bool {
	if len(ks.byKid) != len(o.byKid) {
		return false
	}
	for kid, keys := range ks.byKid {
		others, ok := o.byKid[kid]
		if !ok || len(others) != len(keys) {
			return false
		}
		for i, k := range keys {
			eq, ok := k.key.(interface{ Equal(crypto.PublicKey) bool })
			if !ok || k.alg != others[i].alg || !eq.Equal(others[i].key) {
				return false
			}
		}
	}
	return true
}

func parseKeySet(body []byte) (*keySet, error) {
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("token: parse key set: %w", err)
	}
	ks := &keySet{byKid: make(map[string][]publicKey, set.Len())}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if u := k.KeyUsage(); u != "" && u != "sig" {
			continue
		}
		var raw any
		if err := k.Raw(&raw); err != nil {
			continue
		}
		var pub crypto.PublicKey
		switch r := raw.(type) {
		case *rsa.PublicKey:
			pub = r
		case *rsa.PrivateKey:
			pub = &r.PublicKey
		case *ecdsa.PublicKey:
			pub = r
		case *ecdsa.PrivateKey:
			pub = &r.PublicKey
		case ed25519.PublicKey:
			pub = r
		case ed25519.PrivateKey:
			pub = r.Public()
		default:
			continue
		}
		if r, ok := pub.(*rsa.PublicKey); ok && r.N.BitLen() < 2048 {
			continue
		}
		ks.byKid[k.KeyID()] = append(ks.byKid[k.KeyID()], publicKey{alg: k.Algorithm().String(), key: pub})
	}
	if len(ks.byKid) == 0 {
		return nil, errors.New("token: key set has no usable signature keys")
	}
	return ks, nil
}

// CheckSignature verifies sig over input with key for alg, as the verifier
// checks a token's: the key type and curve must match alg exactly. The
// DPoP proof check (shared/dpop) verifies proofs with it.
func CheckSignature(alg string, key crypto.PublicKey, input, sig []byte) bool {
	return checkSignature(alg, key, input, sig)
}

// checkSignature verifies sig over input with key for alg. The key type and
// curve must match alg exactly: no algorithm confusion.
func checkSignature(alg string, key crypto.PublicKey, input, sig []byte) bool {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return false
		}
		h, digest := digestOf(alg[2:], input)
		if alg[0] == 'R' {
			return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
		}
		// The salt is as long as the hash, as PS256, PS384 and PS512 name
		// it: one algorithm name admits one signature scheme.
		return rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case "ES256", "ES384", "ES512":
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || pub.Curve != curveOf(alg) {
			return false
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		_, digest := digestOf(alg[2:], input)
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	case "EdDSA":
		pub, ok := key.(ed25519.PublicKey)
		return ok && len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, input, sig)
	}
	return false
}

func curveOf(alg string) elliptic.Curve {
	switch alg {
	case "ES256":
		return elliptic.P256()
	case "ES384":
		return elliptic.P384()
	default:
		return elliptic.P521()
	}
}

func digestOf(bits string, input []byte) (crypto.Hash, []byte) {
	var h hash.Hash
	var id crypto.Hash
	switch bits {
	case "256":
		sum := sha256.Sum256(input)
		return crypto.SHA256, sum[:]
	case "384":
		h, id = sha512.New384(), crypto.SHA384
	default:
		h, id = sha512.New(), crypto.SHA512
	}
	h.Write(input)
	return id, h.Sum(nil)
}

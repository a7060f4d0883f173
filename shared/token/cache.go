package token

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultCacheEntries is how many verified tokens a verifier keeps.
const DefaultCacheEntries = 10000

// maxCachedTokenBytes: a longer token is verified every time, not cached.
const maxCachedTokenBytes = 8192

// tokenCache keeps the claims of access tokens that verified, keyed by the
// SHA-256 of the whole token. It lives in one Verifier, so a configuration
// change (a new Verifier) starts with an empty cache; each entry records
// the generation of its issuer's key set, and a hit whose generation is not
// the current one is a miss (keySet.generation: any change of the keys).
//
// Bounded: at most max entries; when full, one arbitrary entry (the first
// a map iteration yields) is evicted for the new one. That costs no list
// per entry and, unlike refusing new entries, keeps the cache useful when
// the tokens in use turn over.
type tokenCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]*cacheEntry
	max     int
}

// cacheEntry is one verified token: what Verify returned, and what a hit
// must check again.
type cacheEntry struct {
	claims        Claims
	exp, nbf, iat numericDate
	issuer        *issuer
	kid           string
	generation    uint64 // of the issuer's key set that verified the token
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{entries: make(map[[sha256.Size]byte]*cacheEntry), max: max}
}

func (tc *tokenCache) get(key [sha256.Size]byte) *cacheEntry {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.entries[key]
}

// put stores e under key, evicting an arbitrary entry when full.
func (tc *tokenCache) put(key [sha256.Size]byte, e *cacheEntry) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if _, ok := tc.entries[key]; !ok && len(tc.entries) >= tc.max {
		for k := range tc.entries {
			delete(tc.entries, k)
			break
		}
	}
	tc.entries[key] = e
}

// drop removes key's entry if it is still e.
func (tc *tokenCache) drop(key [sha256.Size]byte, e *cacheEntry) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.entries[key] == e {
		delete(tc.entries, key)
	}
}

func (tc *tokenCache) len() int {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return len(tc.entries)
}

// cacheKey is the SHA-256 of the whole token: another signature over the
// same claims is another key.
func cacheKey(raw string) [sha256.Size]byte {
	return sha256.Sum256([]byte(raw))
}

// fromCache returns raw's cached claims if a fresh check would accept the
// token now: its issuer's key set is the one it verified with (refreshed
// first when stale, as a verification would), its kid is still in that
// set, and its exp, nbf and iat pass checkTimes with the verifier's clock
// and skew. An entry that fails is dropped; the caller then verifies raw
// in full, which gives the reason.
func (v *Verifier) fromCache(ctx context.Context, key [sha256.Size]byte) (Claims, bool) {
	e := v.cache.get(key)
	if e == nil {
		return Claims{}, false
	}
	ks := e.issuer.keys.current(ctx, v.cfg.Now())
	if ks == nil || ks.generation != e.generation || ks.byKid[e.kid] == nil {
		v.cache.drop(key, e)
		return Claims{}, false
	}
	now := v.cfg.Now().Truncate(time.Second)
	if checkTimes(e.exp, e.nbf, e.iat, now, v.cfg.ClockSkew) != nil {
		v.cache.drop(key, e)
		return Claims{}, false
	}
	c := e.claims
	c.Cached, c.KeySource = true, ks.source
	return c, true
}

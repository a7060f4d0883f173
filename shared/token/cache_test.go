package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// verifyCached verifies tok and fails unless Claims.Cached is want.
func verifyCached(t *testing.T, v *Verifier, tok string, want bool) Claims {
	t.Helper()
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify = %v; want the token accepted", err)
	}
	if c.Cached != want {
		t.Fatalf("Verify: Cached = %v; want %v", c.Cached, want)
	}
	return c
}

func TestCacheHitThenRefusedPastExp(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.mint(t, devidp.Token{TTL: 10 * time.Minute})
	first := verifyCached(t, f.v, tok, false)
	hit := verifyCached(t, f.v, tok, true)
	hit.Cached = false
	if hit.Subject != first.Subject || !hit.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("hit = %+v; want %+v", hit, first)
	}
	// One second before exp+skew the hit stands; at exp+skew it is refused
	// and the entry dropped, as a fresh check would.
	f.clock.Add(10*time.Minute + DefaultClockSkew - time.Second)
	verifyCached(t, f.v, tok, true)
	f.clock.Add(time.Second)
	_, err := f.v.Verify(context.Background(), tok)
	wantCode(t, err, reason.TokenExpired)
	if n := f.v.cache.len(); n != 0 {
		t.Fatalf("cache entries after expiry = %d; want 0", n)
	}
}

func TestCacheRemovedKidRefusedAtNextKeySetRefresh(t *testing.T) {
	f := newFixture(t, nil)
	key, err := f.idp.AddKey(jwa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	tok := f.mint(t, devidp.Token{Key: key})
	verifyCached(t, f.v, tok, false)
	verifyCached(t, f.v, tok, true)
	f.idp.RemoveKey(key.Kid)
	// The key set is refreshed on use once older than KeySetMaxAge: the
	// next hit refreshes it, finds the kid gone, and refuses.
	f.clock.Add(DefaultKeySetMaxAge)
	_, err = f.v.Verify(context.Background(), tok)
	wantCode(t, err, reason.TokenSignature)
}

func TestCacheKeySetChangeInvalidatesEveryEntry(t *testing.T) {
	f := newFixture(t, nil)
	other, err := f.idp.AddKey(jwa.ES256)
	if err != nil {
		t.Fatal(err)
	}
	tok := f.mint(t, devidp.Token{}) // signed by a key that stays
	verifyCached(t, f.v, tok, false)
	verifyCached(t, f.v, tok, true)
	// A refresh that finds the same keys keeps the entry.
	f.clock.Add(DefaultKeySetMaxAge)
	verifyCached(t, f.v, tok, true)
	// A refresh that finds another key set (here one key removed, not the
	// token's) drops every entry: the token is verified again.
	f.idp.RemoveKey(other.Kid)
	f.clock.Add(DefaultKeySetMaxAge)
	verifyCached(t, f.v, tok, false)
	verifyCached(t, f.v, tok, true)
}

func TestCacheIssuerConfigChangeRefuses(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.mint(t, devidp.Token{})
	verifyCached(t, f.v, tok, false)
	verifyCached(t, f.v, tok, true)
	// The configuration changes: the issuer now accepts another audience.
	// The new verifier (a new configuration generation) refuses the token
	// the old one has cached.
	v2, err := NewVerifier(Config{
		Issuers: []Issuer{{Issuer: f.idp.URL(), Audiences: []string{"another-api"}, Algorithms: []string{"RS256"}}},
		Now:     f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v2.Verify(context.Background(), tok)
	wantCode(t, err, reason.TokenAudience)
}

func TestCacheForgedSignatureIsNotAHit(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.mint(t, devidp.Token{})
	verifyCached(t, f.v, tok, false)
	verifyCached(t, f.v, tok, true)
	// The same header and claims under another signature.
	dot := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	rand.Read(sig)
	forged := tok[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
	c, err := f.v.Verify(context.Background(), forged)
	if c.Cached || err == nil {
		t.Fatalf("forged token: Cached = %v, err = %v; want refused by a signature check", c.Cached, err)
	}
	wantCode(t, err, reason.TokenSignature)
}

func TestCacheLimits(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxTokenBytes = 16 << 10 })
	f.v.cache = newTokenCache(3)
	// Bounded: never more than the entry count.
	for i := range 10 {
		verifyCached(t, f.v, f.mint(t, devidp.Token{Alg: jwa.EdDSA, User: "u" + string(rune('a'+i))}), false)
		if n := f.v.cache.len(); n > 3 {
			t.Fatalf("cache entries = %d; want at most 3", n)
		}
	}
	// A token over 8 KB is verified every time.
	big := f.mint(t, devidp.Token{Claims: map[string]any{"pad": strings.Repeat("x", 9000)}})
	verifyCached(t, f.v, big, false)
	verifyCached(t, f.v, big, false)
	// A refused token is not stored.
	f.v.cache = newTokenCache(3)
	bad := f.mint(t, devidp.Token{Audience: "another-api"})
	for range 2 {
		_, err := f.v.Verify(context.Background(), bad)
		wantCode(t, err, reason.TokenAudience)
	}
	if n := f.v.cache.len(); n != 0 {
		t.Fatalf("cache entries after refusals = %d; want 0", n)
	}
}

func TestCacheOff(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.NoCache = true })
	tok := f.mint(t, devidp.Token{})
	verifyCached(t, f.v, tok, false)
	verifyCached(t, f.v, tok, false)
}

func TestCacheConcurrentUse(t *testing.T) {
	f := newFixture(t, nil)
	f.v.cache = newTokenCache(4)
	var toks []string
	for i := range 8 {
		toks = append(toks, f.mint(t, devidp.Token{Alg: jwa.EdDSA, User: "u" + string(rune('a'+i))}))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if _, err := f.v.Verify(context.Background(), toks[(g+i)%len(toks)]); err != nil {
					t.Error(err)
					return
				}
				if g == 0 && i%50 == 0 {
					f.clock.Add(DefaultKeySetMaxAge) // refreshes the key set under the readers
				}
			}
		}()
	}
	wg.Wait()
}

// TestCacheMemoryPerEntry measures the heap an entry holds (docs/authorizer.md
// states it) and allocations of a hit.
func TestCacheMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("measures memory")
	}
	f := newFixture(t, nil)
	const n = 2000
	toks := make([]string, n)
	for i := range toks {
		toks[i] = f.mint(t, devidp.Token{Alg: jwa.EdDSA, User: "user-" + strings.Repeat("x", 20) + string(rune('A'+i%50)) + time.Duration(i).String()})
	}
	if _, err := f.v.Verify(context.Background(), toks[0]); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		if _, err := f.v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	allocs := testing.AllocsPerRun(100, func() { f.v.Verify(context.Background(), toks[1]) })
	t.Logf("token of %d bytes: %d bytes of heap per entry; %.0f allocations per hit", len(toks[1]), per, allocs)
	if per > 2048 {
		t.Errorf("heap per entry = %d bytes; want at most 2048", per)
	}
	runtime.KeepAlive(toks)
}

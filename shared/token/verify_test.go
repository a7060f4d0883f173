package token

import (
	"context"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/reason"
)

type fixture struct {
	idp   *devidp.Issuer
	clock *devidp.Clock
	v     *Verifier
}

func newFixture(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	ck := devidp.NewClock(time.Now().Truncate(time.Second))
	idp, stop, err := devidp.NewServer(ck.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cfg := Config{
		Issuers: []Issuer{{
			Issuer:     idp.URL(),
			Audiences:  []string{devidp.DefaultAudience},
			Algorithms: []string{"RS256", "ES256", "EdDSA"},
		}},
		Now: ck.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{idp: idp, clock: ck, v: v}
}

func (f *fixture) mint(t testing.TB, tok devidp.Token) string {
	t.Helper()
	if tok.User == "" {
		tok.User = "alice"
	}
	s, err := f.idp.Mint(tok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantCode(t *testing.T, err error, want reason.Code) {
	t.Helper()
	if got := reason.CodeOf(err); got != want {
		t.Fatalf("Verify error = %v (code %s); want code %s", err, got, want)
	}
}

func TestVerifyValidTokens(t *testing.T) {
	f := newFixture(t, nil)
	for _, alg := range []jwa.SignatureAlgorithm{jwa.RS256, jwa.ES256, jwa.EdDSA} {
		t.Run(alg.String(), func(t *testing.T) {
			raw := f.mint(t, devidp.Token{Alg: alg, ClientID: "web-app"})
			c, err := f.v.Verify(context.Background(), raw)
			if err != nil {
				t.Fatalf("Verify(%s) = %v", alg, err)
			}
			if c.Subject != "alice" || c.Issuer != f.idp.URL() || c.ClientID != "web-app" || c.AuthenticatedAt().IsZero() {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	for _, c := range []struct {
		name  string
		claim string
		value any
		want  []string
	}{
		{"list", "roles", []string{"a", "b"}, []string{"a", "b"}},
		{"one string", "roles", "a", []string{"a"}},
		{"wrong type", "roles", 7, nil},
		{"other claim", "groups", []string{"g"}, []string{"g"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, func(cfg *Config) { cfg.Roles = true; cfg.Issuers[0].RoleClaim = c.claim })
			got, err := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Claims: map[string]any{c.claim: c.value}}))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Roles, ",") != strings.Join(c.want, ",") || (c.want == nil) != (got.Roles == nil) {
				t.Errorf("Roles = %q; want %q", got.Roles, c.want)
			}
		})
	}
	f := newFixture(t, nil) // Roles off: not read
	got, _ := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Claims: map[string]any{"roles": []string{"a"}}}))
	if got.Roles != nil {
		t.Errorf("Roles without Config.Roles = %q; want none", got.Roles)
	}
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	attacker, err := devidp.New(f.idp.URL(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	attackerKey := attacker.KeyFor(jwa.RS256)
	attackerJWK, _ := jwk.PublicKeyOf(attackerKey.Private)
	_ = attackerJWK.Set(jwk.KeyIDKey, f.idp.KeyFor(jwa.RS256).Kid)
	// The attacker signs with its own key but names the victim's kid.
	spoofKid := &devidp.Key{Kid: f.idp.KeyFor(jwa.RS256).Kid, Alg: jwa.RS256, Private: attackerKey.Private}

	tests := []struct {
		name string
		tok  devidp.Token
		want reason.Code
	}{
		{"expired", devidp.Token{TTL: -2 * time.Minute}, reason.TokenExpired},
		{"expired within skew is fine", devidp.Token{TTL: -30 * time.Second}, reason.OK},
		{"not yet valid", devidp.Token{NotBefore: now.Add(5 * time.Minute)}, reason.TokenNotYetValid},
		{"future iat", devidp.Token{IssuedAt: now.Add(5 * time.Minute)}, reason.TokenNotYetValid},
		{"wrong issuer", devidp.Token{Issuer: "https://evil.example"}, reason.TokenIssuer},
		{"issuer differs by a slash", devidp.Token{Issuer: f.idp.URL() + "/"}, reason.TokenIssuer},
		{"wrong audience", devidp.Token{Audience: "api://other"}, reason.TokenAudience},
		{"audience list with ours", devidp.Token{Claims: map[string]any{"aud": []string{"x", devidp.DefaultAudience}}}, reason.OK},
		{"no exp", devidp.Token{Claims: map[string]any{"exp": nil}}, reason.TokenMalformed},
		{"exp as string", devidp.Token{Claims: map[string]any{"exp": "9999999999"}}, reason.TokenMalformed},
		{"no subject", devidp.Token{Claims: map[string]any{"sub": nil}}, reason.TokenMalformed},
		{"jku to attacker key", devidp.Token{Key: spoofKid, Headers: map[string]any{"jku": "http://attacker.example/jwks.json"}}, reason.TokenSignature},
		{"x5u to attacker key", devidp.Token{Key: spoofKid, Headers: map[string]any{"x5u": "http://attacker.example/cert.pem"}}, reason.TokenSignature},
		{"embedded jwk of attacker", devidp.Token{Key: spoofKid, Headers: map[string]any{"jwk": attackerJWK}}, reason.TokenSignature},
		{"signed by an unknown key", devidp.Token{Key: attackerKey}, reason.TokenSignature},
		{"crit header", devidp.Token{Headers: map[string]any{"crit": []string{"exp"}}}, reason.TokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.Verify(context.Background(), f.mint(t, tt.tok))
			wantCode(t, err, tt.want)
		})
	}
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func handmade(t *testing.T, header, claims map[string]any, sign func(input string) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := b64url(h) + "." + b64url(c)
	return input + "." + b64url(sign(input))
}

func TestVerifyAlgorithmAttacks(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuers[0].Algorithms = []string{"RS256", "ES256"} })
	rsaKey := f.idp.KeyFor(jwa.RS256)
	claims := map[string]any{"iss": f.idp.URL(), "sub": "mallory", "aud": devidp.DefaultAudience, "exp": f.clock.Now().Add(time.Hour).Unix()}

	t.Run("alg none", func(t *testing.T) {
		tok := handmade(t, map[string]any{"alg": "none", "kid": rsaKey.Kid}, claims, func(string) []byte { return nil })
		tok += "AA" // a non-empty "signature" so only the alg can refuse it
		_, err := f.v.Verify(context.Background(), tok)
		wantCode(t, err, reason.TokenSignature)
	})
	t.Run("HS256 keyed with the RSA public key", func(t *testing.T) {
		der, _ := x509.MarshalPKIXPublicKey(rsaKey.Private.Public())
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		jwks, _ := f.idp.JWKS()
		for _, secret := range [][]byte{pemBytes, der, jwks} {
			tok := handmade(t, map[string]any{"alg": "HS256", "kid": rsaKey.Kid}, claims, func(in string) []byte {
				m := hmac.New(sha256.New, secret)
				m.Write([]byte(in))
				return m.Sum(nil)
			})
			_, err := f.v.Verify(context.Background(), tok)
			wantCode(t, err, reason.TokenSignature)
		}
	})
	t.Run("alg outside the issuer's list", func(t *testing.T) {
		_, err := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Alg: jwa.EdDSA}))
		wantCode(t, err, reason.TokenSignature)
	})
	t.Run("ES256 header on an RSA key", func(t *testing.T) {
		good := f.mint(t, devidp.Token{Alg: jwa.RS256})
		parts := strings.Split(good, ".")
		hdr, _ := json.Marshal(map[string]any{"alg": "ES256", "kid": rsaKey.Kid})
		_, err := f.v.Verify(context.Background(), b64url(hdr)+"."+parts[1]+"."+parts[2])
		wantCode(t, err, reason.TokenSignature)
	})
	t.Run("HMAC algorithms cannot be configured", func(t *testing.T) {
		_, err := NewVerifier(Config{Issuers: []Issuer{{Issuer: "x", Audiences: []string{"a"}, Algorithms: []string{"HS256"}}}})
		if err == nil || !strings.Contains(err.Error(), "HS256") {
			t.Fatalf("NewVerifier with HS256 = %v; want a config error naming HS256", err)
		}
	})
}

// TestPS256SaltLength: a PS256 signature's salt is as long as the hash
// (32 octets), as every JOSE library signs it; one with another salt
// length (none, 20 octets, the longest the key allows) is refused, so that one
// algorithm name admits one signature scheme. Proofs are verified by the
// same function (shared/dpop TestHeaderChecks).
func TestPS256SaltLength(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuers[0].Algorithms = []string{"PS256"} })
	key, err := f.idp.AddKey(jwa.PS256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Alg: jwa.PS256})); err != nil {
		t.Fatalf("a PS256 token signed with a salt as long as the hash: %v; want it verified", err)
	}
	claims := map[string]any{"iss": f.idp.URL(), "sub": "mallory", "aud": devidp.DefaultAudience, "exp": f.clock.Now().Add(time.Hour).Unix()}
	priv := key.Private.(*rsa.PrivateKey)
	for _, n := range []int{0, 20, 32, priv.Size() - sha256.Size - 2} {
		tok := handmade(t, map[string]any{"alg": "PS256", "kid": key.Kid, "typ": "JWT"}, claims, func(in string) []byte {
			sig, err := devidp.SignPSSSalt(priv, []byte(in), make([]byte, n))
			if err != nil {
				t.Fatal(err)
			}
			return sig
		})
		_, err := f.v.Verify(context.Background(), tok)
		if n == sha256.Size && err != nil {
			t.Errorf("a PS256 token with a salt of %d octets: %v; want it verified", n, err)
		}
		if n != sha256.Size && reason.CodeOf(err) != reason.TokenSignature {
			t.Errorf("a PS256 token with a salt of %d octets: %v; want token_signature", n, err)
		}
	}
}

func TestVerifyMalformedAndOversized(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxTokenBytes = 2048 })
	good := f.mint(t, devidp.Token{})
	parts := strings.Split(good, ".")
	tests := []struct {
		raw  string
		want reason.Code
	}{
		{"", reason.TokenMissing},
		{strings.Repeat("a", 2049), reason.TokenTooLarge},
		{good + strings.Repeat("A", 2049-len(good)), reason.TokenTooLarge},
		{"abc", reason.TokenMalformed},
		{"a.b", reason.TokenMalformed},
		{"a.b.c.d.e", reason.TokenMalformed},
		{parts[0] + "=." + parts[1] + "." + parts[2], reason.TokenMalformed},
		{parts[0] + "." + parts[1] + ".", reason.TokenMalformed},
		{b64url([]byte(`[1]`)) + "." + parts[1] + "." + parts[2], reason.TokenMalformed},
		{parts[0] + "." + b64url([]byte(`"str"`)) + "." + parts[2], reason.TokenMalformed},
		{parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4] + "AAAA", reason.TokenSignature},
	}
	for _, tt := range tests {
		_, err := f.v.Verify(context.Background(), tt.raw)
		if got := reason.CodeOf(err); got != tt.want {
			t.Errorf("Verify(%.40q) code = %s; want %s (%v)", tt.raw, got, tt.want, err)
		}
	}
}

func TestKeyRotationAndUnknownKidCooldown(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{})); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.Fetches(); n != 1 {
		t.Fatalf("fetches after first verify = %d; want 1", n)
	}
	// The IdP rotates: a new key signs tokens the cache has not seen.
	newKey, err := f.idp.AddKey(jwa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{Key: newKey})); err != nil {
		t.Fatalf("token from the rotated key: %v", err)
	}
	if n := f.idp.Fetches(); n != 2 {
		t.Fatalf("fetches after rotation = %d; want 2", n)
	}
	// Unknown kids within the cooldown trigger no fetch: a flood of bogus
	// kids costs the IdP nothing.
	stray, _ := devidp.New(f.idp.URL(), f.clock.Now)
	for range 20 {
		_, err := f.v.Verify(ctx, f.mint(t, devidp.Token{Key: stray.KeyFor(jwa.RS256)}))
		wantCode(t, err, reason.TokenSignature)
	}
	if n := f.idp.Fetches(); n != 2 {
		t.Fatalf("fetches after 20 unknown kids within cooldown = %d; want 2", n)
	}
	// After the cooldown, one more unknown kid may fetch once.
	f.clock.Add(5*time.Minute + time.Second)
	_, err = f.v.Verify(ctx, f.mint(t, devidp.Token{Key: stray.KeyFor(jwa.RS256)}))
	wantCode(t, err, reason.TokenSignature)
	_, _ = f.v.Verify(ctx, f.mint(t, devidp.Token{Key: stray.KeyFor(jwa.RS256)}))
	if n := f.idp.Fetches(); n != 3 {
		t.Fatalf("fetches after the cooldown = %d; want 3", n)
	}
}

func TestKeySetRefreshedOnUseWhenStale(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.KeySetMaxAge = 10 * time.Minute })
	ctx := context.Background()
	tok := f.mint(t, devidp.Token{})
	if _, err := f.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(9 * time.Minute)
	tok = f.mint(t, devidp.Token{})
	f.v.Verify(ctx, tok)
	if n := f.idp.Fetches(); n != 1 {
		t.Fatalf("fetches before max age = %d; want 1", n)
	}
	f.clock.Add(time.Minute)
	if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{})); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.Fetches(); n != 2 {
		t.Fatalf("fetches at max age = %d; want 2 (refresh on use)", n)
	}
}

func TestJWKSOutage(t *testing.T) {
	ctx := context.Background()
	t.Run("last good key set keeps serving", func(t *testing.T) {
		f := newFixture(t, func(c *Config) { c.KeySetMaxAge = time.Minute })
		if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{})); err != nil {
			t.Fatal(err)
		}
		f.idp.SetDown(true)
		f.clock.Add(2 * time.Minute) // stale: a refresh is attempted and fails
		for range 5 {
			if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{})); err != nil {
				t.Fatalf("verify during outage with cached keys: %v", err)
			}
		}
		if n := f.idp.Fetches(); n != 2 {
			t.Fatalf("fetches during outage = %d; want 2 (one failed attempt, then back-off)", n)
		}
		f.idp.SetDown(false)
		f.clock.Add(11 * time.Second)
		if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{})); err != nil {
			t.Fatal(err)
		}
		if n := f.idp.Fetches(); n != 3 {
			t.Fatalf("fetches after recovery = %d; want 3", n)
		}
	})
	t.Run("nothing cached fails closed", func(t *testing.T) {
		f := newFixture(t, nil)
		f.idp.SetDown(true)
		_, err := f.v.Verify(ctx, f.mint(t, devidp.Token{}))
		wantCode(t, err, reason.DependencyUnavailable)
		f.idp.SetDown(false)
		f.clock.Add(11 * time.Second)
		if _, err := f.v.Verify(ctx, f.mint(t, devidp.Token{})); err != nil {
			t.Fatalf("after the JWKS returns: %v", err)
		}
	})
	t.Run("a hanging JWKS times out", func(t *testing.T) {
		release := make(chan struct{})
		hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
		defer hang.Close()
		defer close(release)
		f := newFixture(t, func(c *Config) {
			c.Issuers[0].JWKSURL = hang.URL
			c.FetchTimeout = 50 * time.Millisecond
		})
		_, err := f.v.Verify(ctx, f.mint(t, devidp.Token{}))
		wantCode(t, err, reason.DependencyUnavailable)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v does not say the fetch timed out", err)
		}
	})
}

func TestSingleFlight(t *testing.T) {
	gate := make(chan struct{})
	arrived := make(chan struct{}, 1) // the first fetch has started
	var hits int64
	var mu sync.Mutex
	f := newFixture(t, nil)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-gate
		body, _ := f.idp.JWKS()
		w.Write(body)
	}))
	defer slow.Close()
	v, err := NewVerifier(Config{Issuers: []Issuer{{Issuer: f.idp.URL(), JWKSURL: slow.URL, Audiences: []string{devidp.DefaultAudience}}}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.mint(t, devidp.Token{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), tok)
			errs <- err
		})
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		close(gate)
		t.Fatal("no JWKS request within 10 s of 32 cold verifications")
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent verify: %v", err)
		}
	}
	if hits != 1 {
		t.Fatalf("JWKS requests from 32 concurrent cold verifications = %d; want 1", hits)
	}
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t, nil) // no JWKS URL: discovery
	if _, err := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Alg: jwa.ES256})); err != nil {
		t.Fatal(err)
	}
	// A discovery document naming another issuer is refused.
	lying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": "https://other.example", "jwks_uri": f.idp.URL() + "/jwks.json"})
	}))
	defer lying.Close()
	v, _ := NewVerifier(Config{Issuers: []Issuer{{Issuer: lying.URL, Audiences: []string{"a"}}}})
	if _, err := v.Prefetch(context.Background()); err == nil || !strings.Contains(err.Error(), "other.example") {
		t.Fatalf("Prefetch with a lying discovery document = %v", err)
	}
}

// Key sets are read over https only (plain http only from a loopback
// host): a configured jwksUrl, the discovery document an issuer without
// one is read from, and the jwks_uri that document names.
func TestKeySetURLsAreHTTPS(t *testing.T) {
	for _, c := range []struct {
		name string
		is   Issuer
		want string // in the error; "" for accepted
	}{
		{"https jwksUrl", Issuer{Issuer: "http://login.example/", JWKSURL: "https://keys.example/jwks.json", Audiences: []string{"a"}}, ""},
		{"loopback http jwksUrl", Issuer{Issuer: "https://login.example/", JWKSURL: "http://127.0.0.1:8080/jwks.json", Audiences: []string{"a"}}, ""},
		{"loopback http discovery", Issuer{Issuer: "http://localhost:9000/idp", Audiences: []string{"a"}}, ""},
		{"http jwksUrl", Issuer{Issuer: "https://login.example/", JWKSURL: "http://keys.example/jwks.json", Audiences: []string{"a"}}, "jwksUrl"},
		{"http issuer, discovery", Issuer{Issuer: "http://login.example/", Audiences: []string{"a"}}, "discovery document"},
		{"http issuer, cognito key-set path", Issuer{Issuer: "http://cognito.example/pool", Profile: "cognito", ClientIDs: []string{"c"}}, "jwksUrl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewVerifier(Config{Issuers: []Issuer{c.is}})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("NewVerifier = %v; want accepted", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "https")):
				t.Fatalf("NewVerifier = %v; want an error naming %s and https", err, c.want)
			}
		})
	}

	// A discovery document on loopback that names a plain-http jwks_uri
	// elsewhere: the key set is not fetched from it.
	var fetched bool
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched = true }))
	defer keys.Close()
	var disco *httptest.Server
	disco = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// keys.URL is loopback; its host spelled as a name is not.
		json.NewEncoder(w).Encode(map[string]string{"issuer": disco.URL, "jwks_uri": strings.Replace(keys.URL, "127.0.0.1", "keys.example", 1) + "/jwks.json"})
	}))
	defer disco.Close()
	v, err := NewVerifier(Config{Issuers: []Issuer{{Issuer: disco.URL, Audiences: []string{"a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Prefetch(context.Background()); err == nil || !strings.Contains(err.Error(), "jwks_uri") || !strings.Contains(err.Error(), "https") {
		t.Fatalf("Prefetch with a plain-http jwks_uri = %v; want an error naming jwks_uri and https", err)
	}
	if fetched {
		t.Error("the key set was fetched")
	}
}

func TestEntraUserKey(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Issuers[0].UserClaim = "oid"; c.Issuers[0].TenantClaim = "tid" })
	c, err := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Claims: map[string]any{"oid": "o-1", "tid": "t-9"}}))
	if err != nil || c.Subject != "t-9/o-1" {
		t.Fatalf("Verify = %+v, %v; want subject t-9/o-1", c, err)
	}
	f2 := newFixture(t, func(c *Config) { c.Issuers[0].UserClaim = "email" })
	c, err = f2.v.Verify(context.Background(), f2.mint(t, devidp.Token{Claims: map[string]any{"email": "a@b.test"}}))
	if err != nil || c.Subject != "a@b.test" {
		t.Fatalf("Verify with user claim email = %+v, %v", c, err)
	}
}

func TestVerifySET(t *testing.T) {
	f := newFixture(t, nil)
	set := func(headers map[string]any, claims map[string]any) string {
		c := map[string]any{"jti": "j-1", "events": map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": map[string]any{}}}
		for k, v := range claims {
			c[k] = v
		}
		h := map[string]any{"typ": "secevent+jwt"}
		for k, v := range headers {
			h[k] = v
		}
		return f.mint(t, devidp.Token{Headers: h, Claims: c})
	}
	got, err := f.v.VerifySET(context.Background(), set(nil, map[string]any{"exp": nil}))
	if err != nil || got.JTI != "j-1" || got.Issuer != f.idp.URL() || !strings.Contains(string(got.Payload), "session-revoked") {
		t.Fatalf("VerifySET(valid, no exp) = %+v, %v", got, err)
	}
	for _, c := range []struct {
		name string
		raw  string
		want reason.Code
	}{
		{"no jti", set(nil, map[string]any{"jti": nil}), reason.TokenMalformed},
		{"typed as a JWT", set(map[string]any{"typ": "at+jwt"}, nil), reason.TokenMalformed},
		{"wrong audience", set(nil, map[string]any{"aud": "someone-else"}), reason.TokenAudience},
		// An access token that carries jti and iat is no SET: it has no events.
		{"no events (an untyped access token with jti and iat)", f.mint(t, devidp.Token{Headers: map[string]any{"typ": ""}, Claims: map[string]any{"jti": "j-2"}}), reason.TokenMalformed},
		{"no events, typed secevent+jwt", set(nil, map[string]any{"events": nil}), reason.TokenMalformed},
		{"events not an object", set(nil, map[string]any{"events": []string{"https://schemas.openid.net/secevent/caep/event-type/session-revoked"}}), reason.TokenMalformed},
		{"events an empty object", set(nil, map[string]any{"events": map[string]any{}}), reason.TokenMalformed},
		{"an event that is not an object", set(nil, map[string]any{"events": map[string]any{"https://schemas.openid.net/secevent/caep/event-type/session-revoked": true}}), reason.TokenMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.v.VerifySET(context.Background(), c.raw)
			wantCode(t, err, c.want)
		})
	}
	// A SET is not an access token.
	_, err = f.v.Verify(context.Background(), set(nil, nil))
	wantCode(t, err, reason.TokenMalformed)
}

// A kid is only a name to look up in the issuer's own key set: path
// tricks, URLs and oversized kids fetch nothing from anywhere else and
// verify nothing.
func TestKidTricks(t *testing.T) {
	f := newFixture(t, nil)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the verifier contacted the attacker: %s", r.URL)
	}))
	defer attacker.Close()
	key := f.idp.KeyFor(jwa.RS256)
	for _, kid := range []string{"../../../../etc/passwd", attacker.URL + "/jwks.json", "file:///dev/zero", key.Kid + "\x00", strings.Repeat("k", 4000), " " + key.Kid} {
		name := kid
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			tok := f.mint(t, devidp.Token{Key: &devidp.Key{Kid: kid, Alg: jwa.RS256, Private: key.Private}})
			_, err := f.v.Verify(context.Background(), tok)
			if c := reason.CodeOf(err); c != reason.TokenSignature && c != reason.TokenTooLarge {
				t.Errorf("kid %q: %v; want token_signature", name, err)
			}
		})
	}
	if n := f.idp.Fetches(); n > 2 {
		t.Errorf("%d key-set fetches for six unknown kids; want at most the cold fetch and one cooldown refetch", n)
	}
}

// TestDuplicateAndInvalidJSON: a header or claims object that names a
// member twice, escaped or not, or carries invalid UTF-8, is malformed;
// so no two parsers can read a different user out of one token.
func TestDuplicateAndInvalidJSON(t *testing.T) {
	f := newFixture(t, nil)
	now := f.clock.Now()
	kid := f.idp.KeyFor(jwa.RS256).Kid
	hdr := `{"alg":"RS256","kid":"` + kid + `"}`
	claims := func(extra string) string {
		return `{"iss":"` + f.idp.URL() + `","aud":"` + devidp.DefaultAudience + `","exp":` + itoa(now.Add(time.Hour).Unix()) + extra + `}`
	}
	sign := func(h, c string) string {
		return signRaw(t, jwa.RS256, f.idp.KeyFor(jwa.RS256).Private, []byte(h), []byte(c))
	}
	// The control: a well-formed token passes.
	if _, err := f.v.Verify(context.Background(), sign(hdr, claims(`,"sub":"alice"`))); err != nil {
		t.Fatalf("Verify(well-formed) = %v; want nil", err)
	}
	for name, tok := range map[string]string{
		"duplicate sub":               sign(hdr, claims(`,"sub":"alice","sub":"mallory"`)),
		"duplicate sub, one escaped":  sign(hdr, claims(`,"sub":"alice","s\u0075b":"mallory"`)),
		"duplicate iss, escaped":      sign(hdr, claims(`,"sub":"alice","\u0069ss":"https://evil.example"`)),
		"duplicate in a nested claim": sign(hdr, claims(`,"sub":"alice","x":{"a":1,"a":2}`)),
		"duplicate header alg":        sign(`{"alg":"RS256","kid":"`+kid+`","alg":"none"}`, claims(`,"sub":"alice"`)),
		"duplicate header kid":        sign(`{"alg":"RS256","kid":"`+kid+`","k\u0069d":"other"}`, claims(`,"sub":"alice"`)),
		"invalid UTF-8 in sub":        sign(hdr, claims(",\"sub\":\"al\xffice\"")),
		"invalid UTF-8 in header":     sign("{\"alg\":\"RS256\",\"kid\":\""+kid+"\",\"x\":\"\xc0\"}", claims(`,"sub":"alice"`)),
		"data after the claims":       sign(hdr, claims(`,"sub":"alice"`)+`{}`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.Verify(context.Background(), tok)
			wantCode(t, err, reason.TokenMalformed)
		})
	}
}

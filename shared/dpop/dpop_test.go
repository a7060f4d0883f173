package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/identity"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// replays is a replay store for the tests: proofs by key, kept until.
type replays struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[[32]byte]time.Time
	fail error
}

func newReplays(now func() time.Time) *replays {
	return &replays{now: now, keys: map[[32]byte]time.Time{}}
}

func (r *replays) RecordProof(_ context.Context, key [32]byte, until time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return false, r.fail
	}
	if t, ok := r.keys[key]; ok && r.now().Before(t) {
		return false, nil
	}
	r.keys[key] = until
	return true, nil
}

// The proof of RFC 9449's example (its Figure 2), and the thumbprint the
// RFC publishes for its key: a proof signed by a key this repository never
// held, read as the wire carries it.
const (
	rfcProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19" +
		".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ" +
		".2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
	rfcThumbprint = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
)

// TestRFCExampleProof: the RFC's own proof passes every check at its iat,
// for its request, and its key's thumbprint is the one the RFC publishes;
// a second use is a replay, and the same proof one minute and one second
// later is too old.
func TestRFCExampleProof(t *testing.T) {
	iat := time.Unix(1562262616, 0)
	now := iat
	c := dpop.NewChecker(dpop.Config{Replay: newReplays(func() time.Time { return now }), Now: func() time.Time { return now }})
	req := dpop.Request{Method: "POST", Host: "server.example.com", Path: "/token"}
	p, err := c.Check(context.Background(), rfcProof, req, dpop.Binding{})
	if err != nil {
		t.Fatalf("Check(the RFC's proof) = %v; want it accepted", err)
	}
	if p.Thumbprint != rfcThumbprint || p.JTI != "-BwC3ESc6acc2lTc" || p.HTM != "POST" || !p.IAT.Equal(iat) {
		t.Errorf("proof = %+v; want thumbprint %s, jti -BwC3ESc6acc2lTc, htm POST, iat %v", p, rfcThumbprint, iat)
	}
	if _, err := c.Check(context.Background(), rfcProof, req, dpop.Binding{}); dpop.CheckOf(err) != dpop.CheckJTI {
		t.Errorf("Check(the same proof again) = %v; want the jti check (a replay)", err)
	}
	now = iat.Add(61 * time.Second)
	var e *dpop.Error
	if _, err := c.Check(context.Background(), rfcProof, req, dpop.Binding{}); !errors.As(err, &e) || e.Check != dpop.CheckIAT || e.Skew != 61*time.Second {
		t.Errorf("Check 61 s later = %v; want the iat check with a skew of 61s", err)
	}
}

// TestThumbprint holds the thumbprint to its rules: RFC 7638's own RSA
// example, RFC 9449's EC example, optional members left out (a jwk with
// kid, alg and use has the thumbprint of the bare key), and an EC key
// whose x coordinate starts with a zero octet: hashed over all 32 octets,
// as a hand-built canonical form says. A jwk that drops that octet (31
// octets) is refused, not hashed as it is.
func TestThumbprint(t *testing.T) {
	rsaJWK := `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`
	ecJWK := `{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256","kid":"k1","use":"sig","alg":"ES256"}`
	for _, c := range []struct{ name, jwk, want string }{
		{"RFC 7638 RSA example, with alg and kid", rsaJWK, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
		{"RFC 9449 EC example, with kid, use and alg", ecJWK, rfcThumbprint},
	} {
		k, err := jwk.ParseKey([]byte(c.jwk))
		if err != nil {
			t.Fatal(err)
		}
		var pub any
		if err := k.Raw(&pub); err != nil {
			t.Fatal(err)
		}
		if got, err := dpop.Thumbprint(pub); err != nil || got != c.want {
			t.Errorf("%s: Thumbprint = %q, %v; want %q", c.name, got, err, c.want)
		}
	}

	// An EC key whose x has a leading zero octet (one key in 256).
	var key *ecdsa.PrivateKey
	for key == nil || key.X.BitLen() > 248 {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	x, y := make([]byte, 32), make([]byte, 32)
	key.X.FillBytes(x)
	key.Y.FillBytes(y)
	enc := base64.RawURLEncoding.EncodeToString
	canonical := `{"crv":"P-256","kty":"EC","x":"` + enc(x) + `","y":"` + enc(y) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	want := enc(sum[:])
	if got, err := dpop.Thumbprint(&key.PublicKey); err != nil || got != want {
		t.Errorf("Thumbprint(x with a leading zero octet) = %q, %v; want %q, the hash of %s", got, err, want, canonical)
	}
	// Through a proof: the same thumbprint from the jwk a client sends.
	dk, err := devidp.DPoPKeyOf(jwa.ES256, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dk.JWK["x"] != enc(x) {
		t.Fatalf("the jwk's x = %v; want all 32 octets %s", dk.JWK["x"], enc(x))
	}
	p, err := dpop.Parse(dk.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x"}), nil)
	if err != nil || p.Thumbprint != want {
		t.Errorf("Parse(a proof by that key) = %+v, %v; want thumbprint %s", p, err, want)
	}
	// The same jwk with the leading zero dropped: refused.
	short := map[string]any{"kty": "EC", "crv": "P-256", "x": enc(x[1:]), "y": enc(y)}
	proof := dk.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x", Headers: map[string]any{"jwk": short}})
	if _, err := dpop.Parse(proof, nil); dpop.CheckOf(err) != dpop.CheckJWK {
		t.Errorf("Parse(a jwk whose x lost its leading zero) = %v; want the jwk check", err)
	}
}

// TestSameURL: the rules htu is held to.
func TestSameURL(t *testing.T) {
	api := dpop.Request{Method: "GET", Host: "api.example.com", Path: "/prod/items/a%20b"}
	local := dpop.Request{Method: "GET", Host: "127.0.0.1:8080", Path: "/demo"}
	for _, c := range []struct {
		htu  string
		req  dpop.Request
		want bool
	}{
		{"https://api.example.com/prod/items/a%20b", api, true},
		{"HTTPS://API.Example.COM/prod/items/a%20b", api, true},          // scheme and host in any case
		{"https://api.example.com:443/prod/items/a%20b", api, true},      // the default port
		{"https://api.example.com/prod/items/a%20b?x=1#frag", api, true}, // query and fragment ignored
		{"https://api.example.com/prod/items/a b", api, true},            // one canonical encoding
		{"https://api.example.com/prod/%69tems/a%20b", api, true},        // an unreserved character escaped
		{"https://api.example.com/prod/items/a%2520b", api, false},       // an escaped % is not a space
		{"https://api.example.com/prod/ITEMS/a%20b", api, false},         // the path is case-sensitive
		{"https://api.example.com/prod/items/a%20b/", api, false},
		{"https://api.example.com/items/a%20b", api, false}, // without the stage
		{"http://api.example.com/prod/items/a%20b", api, false},
		{"https://api.example.com:8443/prod/items/a%20b", api, false},
		{"https://evil.example/prod/items/a%20b", api, false},
		{"https://user@api.example.com/prod/items/a%20b", api, false},
		{"https://api.example.com/prod/items%2Fa%20b", api, false}, // an escaped slash is another path
		{"https://api.example.com/prod/items/a%20b", dpop.Request{Host: "api.example.com", Path: "/prod/items/a%20%62"}, true},
		{"https://api.example.com/prod/a%3Bb", dpop.Request{Host: "api.example.com", Path: "/prod/a;b"}, false}, // an escaped sub-delimiter is not itself
		{"https://api.example.com/prod/a;b", dpop.Request{Host: "api.example.com", Path: "/prod/a%3Bb"}, false},
		{"https://api.example.com/prod/a%3bb", dpop.Request{Host: "api.example.com", Path: "/prod/a%3Bb"}, true}, // hex in any case
		{"https://api.example.com/prod/a;b", dpop.Request{Host: "api.example.com", Path: "/prod/a;b"}, true},
		{"https://api.example.com/prod/a%40b", dpop.Request{Host: "api.example.com", Path: "/prod/a@b"}, false},
		{"https://api.example.com/prod/a%7Eb", dpop.Request{Host: "api.example.com", Path: "/prod/a~b"}, true},
		{"https://api.example.com/prod/items/a%2", api, false},
		{"//api.example.com/prod/items/a%20b", api, false},
		{"/prod/items/a%20b", api, false},
		{"http://127.0.0.1:8080/demo", local, true}, // plain http to a loopback host only
		{"https://127.0.0.1:8080/demo", local, true},
		{"http://localhost:8080/demo", dpop.Request{Method: "GET", Host: "localhost:8080", Path: "/demo"}, true},
		{"https://api.example.com/prod/items/a%20b", dpop.Request{Host: "api.example.com"}, false},
	} {
		if got := dpop.SameURL(c.htu, c.req); got != c.want {
			t.Errorf("SameURL(%q, %+v) = %v; want %v", c.htu, c.req, got, c.want)
		}
	}
}

// TestNeed: when a request must carry a proof, for each mode.
func TestNeed(t *testing.T) {
	const key = "k"
	type p = dpop.Presented
	for _, c := range []struct {
		name  string
		mode  dpop.Mode
		p     dpop.Presented
		check bool
		code  reason.Code
		named string
	}{
		{"off: Bearer passes as before", dpop.Off, p{Scheme: identity.Bearer, Session: true}, false, reason.OK, ""},
		{"off: a bound token as Bearer passes as before", dpop.Off, p{Scheme: identity.Bearer, TokenKey: key, Session: true}, false, reason.OK, ""},
		{"unset reads as off", "", p{Scheme: identity.DPoP, TokenKey: key, Proof: true}, false, reason.TokenMalformed, dpop.CheckOff},
		{"an unknown mode reads as required: a plain token is refused", "sometimes", p{Scheme: identity.Bearer, Session: true}, false, reason.DPoPRequired, dpop.CheckUnbound},
		{"an unknown mode reads as required: a bound token's proof is checked", "Required", p{Scheme: identity.DPoP, TokenKey: key, Proof: true, Session: true, SessionKey: key}, true, reason.OK, ""},
		{"an unknown mode reads as required: an unbound session is refused", "OFF", p{Scheme: identity.DPoP, TokenKey: key, Proof: true, Session: true}, false, reason.DPoPRequired, dpop.CheckUnbound},
		{"off: the DPoP scheme is refused", dpop.Off, p{Scheme: identity.DPoP, TokenKey: key, Proof: true, Session: true}, false, reason.TokenMalformed, dpop.CheckOff},
		{"off: a session bound to a key still needs its proof", dpop.Off, p{Scheme: identity.Bearer, Session: true, SessionKey: key}, false, reason.DPoPRequired, dpop.CheckMissing},
		{"off: and checks it", dpop.Off, p{Scheme: identity.Bearer, Proof: true, Session: true, SessionKey: key}, true, reason.OK, ""},
		{"allowed: plain Bearer passes", dpop.Allowed, p{Scheme: identity.Bearer, Session: true}, false, reason.OK, ""},
		{"allowed: plain Bearer with a stray proof passes unchecked", dpop.Allowed, p{Scheme: identity.Bearer, Proof: true, Session: true}, false, reason.OK, ""},
		{"allowed: a bound token as Bearer is a downgrade", dpop.Allowed, p{Scheme: identity.Bearer, TokenKey: key, Proof: true, Session: true}, false, reason.DPoPRequired, dpop.CheckDowngrade},
		{"allowed: DPoP without a proof", dpop.Allowed, p{Scheme: identity.DPoP, TokenKey: key, Session: true}, false, reason.DPoPRequired, dpop.CheckMissing},
		{"allowed: DPoP with a proof is checked", dpop.Allowed, p{Scheme: identity.DPoP, TokenKey: key, Proof: true, Session: true}, true, reason.OK, ""},
		{"allowed: DPoP with an unbound token is checked (and fails at cnf.jkt)", dpop.Allowed, p{Scheme: identity.DPoP, Proof: true}, true, reason.OK, ""},
		{"allowed: a bound session without a proof", dpop.Allowed, p{Scheme: identity.Bearer, Session: true, SessionKey: key}, false, reason.DPoPRequired, dpop.CheckMissing},
		{"allowed: a bound session with a plain token and a proof is checked", dpop.Allowed, p{Scheme: identity.Bearer, Proof: true, Session: true, SessionKey: key}, true, reason.OK, ""},
		{"required: plain Bearer", dpop.Required, p{Scheme: identity.Bearer, Session: true}, false, reason.DPoPRequired, dpop.CheckUnbound},
		{"required: DPoP with an unbound token", dpop.Required, p{Scheme: identity.DPoP, Proof: true, Session: true, SessionKey: key}, false, reason.DPoPRequired, dpop.CheckUnbound},
		{"required: a session without a key", dpop.Required, p{Scheme: identity.DPoP, TokenKey: key, Proof: true, Session: true}, false, reason.DPoPRequired, dpop.CheckUnbound},
		{"required: sign-in with a bound token and a proof", dpop.Required, p{Scheme: identity.DPoP, TokenKey: key, Proof: true}, true, reason.OK, ""},
		{"required: all bound", dpop.Required, p{Scheme: identity.DPoP, TokenKey: key, Proof: true, Session: true, SessionKey: key}, true, reason.OK, ""},
	} {
		check, err := dpop.Need(c.mode, c.p)
		if check != c.check || reason.CodeOf(err) != c.code || dpop.CheckOf(err) != c.named {
			t.Errorf("%s: Need = %v, %v; want %v, %s (%s)", c.name, check, err, c.check, c.code, c.named)
		}
	}
}

// TestTimeBounds: iat is accepted from MaxFuture ahead to MaxAge old,
// both ends included, configurably; the error names the skew found.
func TestTimeBounds(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	key, err := devidp.NewDPoPKey(jwa.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := dpop.Request{Method: "GET", Host: "api.example", Path: "/x"}
	for _, c := range []struct {
		maxAge, maxFuture time.Duration
		iat               time.Duration // relative to now
		ok                bool
	}{
		{0, 0, -60 * time.Second, true},
		{0, 0, -61 * time.Second, false},
		{0, 0, 10 * time.Second, true},
		{0, 0, 11 * time.Second, false},
		{30 * time.Second, 2 * time.Second, -30 * time.Second, true},
		{30 * time.Second, 2 * time.Second, -31 * time.Second, false},
		{30 * time.Second, 2 * time.Second, 3 * time.Second, false},
	} {
		c1 := dpop.NewChecker(dpop.Config{MaxAge: c.maxAge, MaxFuture: c.maxFuture, Replay: newReplays(func() time.Time { return t0 }), Now: func() time.Time { return t0 }})
		proof := key.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x", IssuedAt: t0.Add(c.iat)})
		_, err := c1.Check(context.Background(), proof, req, dpop.Binding{})
		var e *dpop.Error
		switch {
		case c.ok && err != nil:
			t.Errorf("bounds %v/%v, iat %v: %v; want accepted", c.maxAge, c.maxFuture, c.iat, err)
		case !c.ok && (!errors.As(err, &e) || e.Check != dpop.CheckIAT || e.Skew != -c.iat || !strings.Contains(err.Error(), (-c.iat).Abs().String())):
			t.Errorf("bounds %v/%v, iat %v: %v; want the iat check naming a skew of %v", c.maxAge, c.maxFuture, c.iat, err, -c.iat)
		}
	}
}

// TestReplayStoreFailureFailsClosed: when the replay store cannot answer,
// the proof is refused with an error that is not a proof's (the deny is
// dependency_unavailable), never let through.
func TestReplayStoreFailureFailsClosed(t *testing.T) {
	r := newReplays(time.Now)
	r.fail = errors.New("table unreachable")
	c := dpop.NewChecker(dpop.Config{Replay: r})
	key, _ := devidp.NewDPoPKey(jwa.ES256, nil)
	_, err := c.Check(context.Background(), key.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x"}),
		dpop.Request{Method: "GET", Host: "api.example", Path: "/x"}, dpop.Binding{})
	if err == nil || dpop.CheckOf(err) != "" || reason.CodeOf(err) != reason.DependencyUnavailable {
		t.Errorf("Check with the store down = %v; want an error whose code is dependency_unavailable", err)
	}
}

// TestEveryAlgorithm: a proof by a key of each accepted algorithm
// passes, and its thumbprint is the key's.
func TestEveryAlgorithm(t *testing.T) {
	for _, alg := range []jwa.SignatureAlgorithm{jwa.ES256, jwa.RS256, jwa.PS256, jwa.EdDSA} {
		key, err := devidp.NewDPoPKey(alg, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := dpop.Parse(key.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x"}), nil)
		if err != nil || p.Thumbprint != key.Thumbprint || p.Alg != alg.String() {
			t.Errorf("%s: Parse = %+v, %v; want thumbprint %s", alg, p, err, key.Thumbprint)
		}
	}
}

// TestHeaderChecks: each way a proof's header fails, and the check named.
func TestHeaderChecks(t *testing.T) {
	es, _ := devidp.NewDPoPKey(jwa.ES256, nil)
	rs, _ := devidp.NewDPoPKey(jwa.RS256, nil)
	other, _ := devidp.NewDPoPKey(jwa.ES256, nil)
	base := devidp.Proof{Method: "GET", URL: "https://api.example/x"}
	with := func(h map[string]any) devidp.Proof { p := base; p.Headers = h; return p }
	withPrivate := map[string]any{}
	for k, v := range es.JWK {
		withPrivate[k] = v
	}
	withPrivate["d"] = "c2VjcmV0"
	valid := es.MustSign(base)
	parts := strings.Split(valid, ".")
	flipped, _ := base64.RawURLEncoding.DecodeString(parts[2])
	flipped[0] ^= 0xff
	hs, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": "c2VjcmV0"}})
	pkcs1AsPSS, err := devidp.SignCompact(rs.Private, "RS256", map[string]any{"typ": "dpop+jwt", "alg": "PS256", "jwk": rs.JWK},
		map[string]any{"jti": "j", "htm": "GET", "htu": "https://api.example/x", "iat": time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	// PS256 with a salt of another length than the hash's.
	ps, _ := devidp.NewDPoPKey(jwa.PS256, nil)
	psWithSalt := func(n int) string {
		h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "PS256", "jwk": ps.JWK})
		c, _ := json.Marshal(map[string]any{"jti": "j", "htm": "GET", "htu": "https://api.example/x", "iat": time.Now().Unix()})
		in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
		sig, err := devidp.SignPSSSalt(ps.Private.(*rsa.PrivateKey), []byte(in), make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	if _, err := dpop.Parse(psWithSalt(32), nil); err != nil {
		t.Fatalf("PS256 with a salt as long as the hash: %v; want it parsed", err)
	}
	// An RSA jwk of bits bits (a modulus with its top bit set; no private
	// key: the jwk check runs before the signature's).
	rsaOfBits := func(bits int) string {
		n := make([]byte, (bits+7)/8)
		for i := range n {
			n[i] = 0xa5
		}
		n[0] = 0x80 >> ((8 - bits%8) % 8)
		h, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(n), "e": "AQAB"}})
		return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
	}
	for _, c := range []struct {
		name, proof, check string
	}{
		{"no header", "", dpop.CheckProof},
		{"PS256 without a salt", psWithSalt(0), dpop.CheckSignature},
		{"PS256 with a salt of 20 octets", psWithSalt(20), dpop.CheckSignature},
		{"an RSA key of 4096 bits (passes the jwk check)", rsaOfBits(4096), dpop.CheckSignature},
		{"an RSA key of 4097 bits", rsaOfBits(4097), dpop.CheckJWK},
		{"an RSA key of 8192 bits", rsaOfBits(8192), dpop.CheckJWK},
		{"an RSA key of 2047 bits", rsaOfBits(2047), dpop.CheckJWK},
		{"two parts", parts[0] + "." + parts[1], dpop.CheckProof},
		{"padding", valid + "=", dpop.CheckProof},
		{"too large", strings.Repeat("a", dpop.MaxProofBytes+1), dpop.CheckProof},
		{"crit", es.MustSign(with(map[string]any{"crit": []string{"exp"}})), dpop.CheckProof},
		{"typ JWT", es.MustSign(with(map[string]any{"typ": "JWT"})), dpop.CheckTyp},
		{"no typ", es.MustSign(with(map[string]any{"typ": nil})), dpop.CheckTyp},
		{"alg none", es.MustSign(with(map[string]any{"alg": "none"})), dpop.CheckAlg},
		{"alg HS256", base64.RawURLEncoding.EncodeToString(hs) + "." + parts[1] + "." + parts[2], dpop.CheckAlg},
		{"alg ES384", es.MustSign(with(map[string]any{"alg": "ES384"})), dpop.CheckAlg},
		{"no jwk", es.MustSign(with(map[string]any{"jwk": nil})), dpop.CheckJWK},
		{"a private member", es.MustSign(with(map[string]any{"jwk": withPrivate})), dpop.CheckJWK},
		{"an RSA key for ES256", es.MustSign(with(map[string]any{"jwk": rs.JWK})), dpop.CheckJWK},
		{"another key's jwk", es.MustSign(with(map[string]any{"jwk": other.JWK})), dpop.CheckSignature},
		{"a flipped signature", parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(flipped), dpop.CheckSignature},
		{"signed RS256, named PS256", pkcs1AsPSS, dpop.CheckSignature},
	} {
		if _, err := dpop.Parse(c.proof, nil); dpop.CheckOf(err) != c.check || reason.CodeOf(err) != reason.DPoPInvalid {
			t.Errorf("%s: Parse = %v; want dpop_invalid at the %s check", c.name, err, c.check)
		}
	}
}

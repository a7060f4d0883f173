package dpop_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// FuzzParse: the proof parser never panics, refuses with dpop_invalid
// and a named check, and accepts only what jwx also verifies: a proof it
// accepts has a header whose jwk jwx reads to a key that verifies the JWS
// under the proof's alg, and whose jwx thumbprint is the one Parse gives.
// Parsing twice, with and without the key cache, gives the same answer.
func FuzzParse(f *testing.F) {
	f.Add(rfcProof)
	for _, alg := range []jwa.SignatureAlgorithm{jwa.ES256, jwa.RS256, jwa.PS256, jwa.EdDSA} {
		k, err := devidp.NewDPoPKey(alg, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(k.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x", AccessToken: "t"}))
		f.Add(k.MustSign(devidp.Proof{Method: "POST", URL: "https://api.example/sessions", Headers: map[string]any{"kid": "x", "crit": []string{"b64"}}}))
	}
	es, _ := devidp.NewDPoPKey(jwa.ES256, nil)
	f.Add(es.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x", Claims: map[string]any{"iat": "soon", "jti": 7}}))
	f.Add(es.MustSign(devidp.Proof{Method: "GET", URL: "https://api.example/x", Headers: map[string]any{"jwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}}))
	dup := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"dpop+jwt","alg":"ES256","alg":"none","jwk":{}}`))
	f.Add(dup + ".e30.AA")
	f.Add("..")
	f.Add("a.b.c")
	keys := dpop.NewKeyCache(8)
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := dpop.Parse(raw, nil)
		q, err2 := dpop.Parse(raw, keys)
		if (err == nil) != (err2 == nil) || dpop.CheckOf(err) != dpop.CheckOf(err2) {
			t.Fatalf("Parse without and with the key cache: %v / %v", err, err2)
		}
		if err != nil {
			if reason.CodeOf(err) != reason.DPoPInvalid || dpop.CheckOf(err) == "" {
				t.Fatalf("Parse(%q) = %v; want dpop_invalid with a check named", raw, err)
			}
			return
		}
		if p.Thumbprint != q.Thumbprint {
			t.Fatalf("thumbprints %s and %s", p.Thumbprint, q.Thumbprint)
		}
		// jwx must agree: the header's jwk, the signature, the thumbprint.
		hdr, _ := base64.RawURLEncoding.DecodeString(raw[:strings.IndexByte(raw, '.')])
		var h struct {
			JWK json.RawMessage `json:"jwk"`
		}
		if err := json.Unmarshal(hdr, &h); err != nil {
			t.Fatalf("accepted a header encoding/json cannot read: %v", err)
		}
		key, err := jwk.ParseKey(h.JWK)
		if err != nil {
			t.Fatalf("accepted a jwk jwx cannot read: %v", err)
		}
		if _, err := jws.Verify([]byte(raw), jws.WithKey(jwa.SignatureAlgorithm(p.Alg), key)); err != nil {
			t.Fatalf("accepted a proof jwx does not verify: %v", err)
		}
		sum, err := key.Thumbprint(crypto.SHA256)
		if err != nil || base64.RawURLEncoding.EncodeToString(sum) != p.Thumbprint {
			t.Fatalf("thumbprint %s; jwx's %x, %v", p.Thumbprint, sum, err)
		}
	})
}

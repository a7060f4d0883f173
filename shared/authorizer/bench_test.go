package authorizer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/environment"
	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/token"
)

// rounds is how many paired rounds BenchmarkAuthorize runs per algorithm
// (go test ... -args -rounds N). go test's -count repeats each
// sub-benchmark in a block, so a change in the machine's speed between
// blocks would bias the ratios; rounds interleave them instead.
var rounds = flag.Int("rounds", 1, "BenchmarkAuthorize: paired rounds (bare, decision, decision-uncached) per algorithm")

// realisticToken mints a token of about 1.2 KB, the size of a typical
// Entra or Okta access token, with the claims extra.
func realisticToken(b *testing.B, f *fixture, alg jwa.SignatureAlgorithm, extra map[string]any) string {
	b.Helper()
	pad := ""
	claims := func() map[string]any {
		c := map[string]any{"groups_hint": pad}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	for range 3 {
		tok := f.token(b, devidp.Token{Alg: alg, Claims: claims()})
		if len(tok) >= 1180 {
			return tok
		}
		pad += strings.Repeat("g", (1200-len(tok))*3/4)
	}
	return f.token(b, devidp.Token{Alg: alg, Claims: claims()})
}

// bareCheck verifies tok's signature with the standard library over a key
// parsed in advance: the floor the whole decision is measured against.
func bareCheck(alg jwa.SignatureAlgorithm, pub crypto.PublicKey, tok string) bool {
	last := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[last+1:])
	if err != nil {
		return false
	}
	switch alg {
	case jwa.RS256:
		sum := sha256.Sum256([]byte(tok[:last]))
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) == nil
	case jwa.ES256:
		sum := sha256.Sum256([]byte(tok[:last]))
		return ecdsa.Verify(pub.(*ecdsa.PublicKey), sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case jwa.EdDSA:
		return ed25519.Verify(pub.(ed25519.PublicKey), []byte(tok[:last]), sig)
	}
	return false
}

// BenchmarkAuthorize compares, per algorithm and in one run, the bare
// signature check with the whole warm allow decision: real event JSON in,
// response out, the decision log line written (to io.Discard). decision
// sends the same token again, so the verified-token cache is hit;
// decision-uncached is the same decision through a second handler whose
// verifier has the cache off (token.Config.NoCache), over the same key
// set and store. With -rounds N the three run in that order N times per
// algorithm; go test names the repeats #01, #02, ... (the first round
// has no suffix), which is how infra/bench pairs them.
func BenchmarkAuthorize(b *testing.B) {
	f := newFixture(b, options{simple: true})
	f.h.log = obs.NewLogger(io.Discard)
	h := lambda.NewHandler(f.h)
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.Issuer{{Issuer: f.idp.URL(), Audiences: []string{devidp.DefaultAudience}, Algorithms: []string{"RS256", "ES256", "EdDSA"}}},
		Now:     f.clock.Now,
		NoCache: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	envs := environment.Config{Source: "stage", Name: "environment", Known: []string{"demo", "staging"}}
	uncached := lambda.NewHandler(NewHandler(New(v, f.store, envs, policy.Enforcement{}, f.clock.Now),
		HandlerOptions{SimpleResponses: true, Log: obs.NewLogger(io.Discard)}))
	for _, alg := range []jwa.SignatureAlgorithm{jwa.RS256, jwa.ES256, jwa.EdDSA} {
		tok := realisticToken(b, f, alg, nil)
		sid := f.session(b, sessionSpec{})
		// API Gateway sends compact JSON; the file is indented for people.
		var compact bytes.Buffer
		if err := json.Compact(&compact, load(b, "authorizer/http-api-v2.json", tok, sid.Reveal())); err != nil {
			b.Fatal(err)
		}
		ev := compact.Bytes()
		for _, h := range []lambda.Handler{h, uncached} {
			if out, err := h.Invoke(context.Background(), ev); err != nil || !strings.Contains(string(out), `"isAuthorized":true`) {
				b.Fatalf("%s: warm-up decision %s %v", alg, out, err)
			}
		}
		pub := f.idp.KeyFor(alg).Private.Public()
		decide := func(h lambda.Handler) func(*testing.B) {
			return func(b *testing.B) {
				b.ReportAllocs()
				b.ReportMetric(float64(len(ev)), "event-bytes")
				for b.Loop() {
					if _, err := h.Invoke(context.Background(), ev); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		for range max(*rounds, 1) {
			b.Run(alg.String()+"/bare-signature", func(b *testing.B) {
				b.ReportAllocs()
				b.ReportMetric(float64(len(tok)), "token-bytes")
				for b.Loop() {
					if !bareCheck(alg, pub, tok) {
						b.Fatal("signature")
					}
				}
			})
			b.Run(alg.String()+"/decision", decide(h))
			b.Run(alg.String()+"/decision-uncached", decide(uncached))
			if alg == jwa.ES256 {
				b.Run(alg.String()+"/decision-dpop", decideDPoP(f, h))
			}
		}
	}
}

// decideDPoP is decision with DPoP: the same realistic token, bound to an
// ES256 key (cnf.jkt), on a session bound to that key under dpop
// required, each request with a fresh proof by the key (so the verified-
// token cache is hit, and the proof is parsed, its signature verified
// and its jti recorded in the memory store). Proofs are signed in
// batches with the timer stopped: only the decision is measured.
func decideDPoP(f *fixture, h lambda.Handler) func(*testing.B) {
	return func(b *testing.B) {
		key, err := devidp.NewDPoPKey(jwa.ES256, f.clock.Now)
		if err != nil {
			b.Fatal(err)
		}
		tok := realisticToken(b, f, jwa.ES256, map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint}})
		set := policy.Defaults()
		set.DPoP = policy.DPoPRequired
		sid := f.session(b, sessionSpec{settings: &set, key: key.Thumbprint})
		var compact bytes.Buffer
		if err := json.Compact(&compact, load(b, "authorizer/http-api-v2.json", tok, sid.Reveal())); err != nil {
			b.Fatal(err)
		}
		const auth = `"authorization":"Bearer `
		template := strings.Replace(compact.String(), auth, `"dpop":"__PROOF__",`+auth, 1)
		template = strings.Replace(template, auth, `"authorization":"DPoP `, 1)
		const batch = 2048
		var evs [][]byte
		sign := func() {
			evs = evs[:0]
			for range batch {
				proof := key.MustSign(devidp.Proof{Method: "GET", URL: "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/demo", AccessToken: tok})
				evs = append(evs, []byte(strings.Replace(template, "__PROOF__", proof, 1)))
			}
		}
		sign()
		if out, err := h.Invoke(context.Background(), evs[0]); err != nil || !strings.Contains(string(out), `"isAuthorized":true`) {
			b.Fatalf("warm-up DPoP decision %s %v", out, err)
		}
		b.ReportAllocs()
		b.ReportMetric(float64(len(evs[1])), "event-bytes")
		i := 1
		for b.Loop() {
			if i == len(evs) {
				b.StopTimer()
				sign()
				i = 0
				b.StartTimer()
			}
			if out, err := h.Invoke(context.Background(), evs[i]); err != nil || !bytes.Contains(out, []byte(`"isAuthorized":true`)) {
				b.Fatalf("DPoP decision %s %v", out, err)
			}
			i++
		}
	}
}

package devidp_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/token"
)

// TestTokenBoundToAKey: /token?jkt= mints a token bound to that key
// (cnf.jkt), which the verifier reads as the key the token is bound to;
// a jkt that is no thumbprint is refused (400); the DPoPKey's thumbprint
// is shared/dpop's.
func TestTokenBoundToAKey(t *testing.T) {
	idp, stop, err := devidp.NewServer(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	key, err := devidp.NewDPoPKey(jwa.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tp, err := dpop.Thumbprint(key.Private.Public()); err != nil || tp != key.Thumbprint {
		t.Fatalf("thumbprints %s and %s (%v)", key.Thumbprint, tp, err)
	}
	get := func(q string) (int, string) {
		resp, err := http.Get(idp.URL() + "/token?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	code, tok := get("user=alice&jkt=" + key.Thumbprint)
	if code != 200 {
		t.Fatalf("/token?jkt= = %d %s", code, tok)
	}
	v, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: idp.URL(), Audiences: []string{devidp.DefaultAudience}}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tok)
	if err != nil || c.KeyThumbprint != key.Thumbprint {
		t.Fatalf("the token's key = %q, %v; want %s", c.KeyThumbprint, err, key.Thumbprint)
	}
	for _, bad := range []string{"short", key.Thumbprint + "A", strings.Repeat("+", 43)} {
		if code, body := get("user=alice&jkt=" + bad); code != 400 || !strings.Contains(body, "jkt") {
			t.Errorf("jkt=%s: %d %s; want 400 naming jkt", bad, code, body)
		}
	}
}

// TestSignPSSSalt: SignPSSSalt's signatures verify with crypto/rsa for
// the salt length they were made with, and only that one.
func TestSignPSSSalt(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	input := []byte("header.payload")
	sum := sha256.Sum256(input)
	for _, n := range []int{0, 20, 32} {
		sig, err := devidp.SignPSSSalt(priv, input, make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPSS(&priv.PublicKey, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: n}); n > 0 && err != nil {
			t.Errorf("a salt of %d octets: %v; want it verified with that length", n, err)
		}
		if err := rsa.VerifyPSS(&priv.PublicKey, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}); err != nil {
			t.Errorf("a salt of %d octets: %v; want it verified with any length", n, err)
		}
		if err := rsa.VerifyPSS(&priv.PublicKey, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: n + 1}); err == nil {
			t.Errorf("a salt of %d octets verified with another length", n)
		}
	}
}

package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/sessionguard/sessionguard/shared/reason"
)

// signRaw signs header.payload as given, byte for byte.
func signRaw(t testing.TB, alg jwa.SignatureAlgorithm, key crypto.Signer, header, payload []byte) string {
	input := b64url(header) + "." + b64url(payload)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	case *ecdsa.PrivateKey:
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, sum[:])
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64url(sig)
}

// deliberate reports inputs on which this verifier is stricter than jwx by
// design, so the differential test sets them aside:
//   - a header or claims object that is not I-JSON (RFC 7493): a member
//     name twice (also when one is escaped) or invalid UTF-8. Refused as
//     malformed (RFC 7519 section 4 allows refusing duplicates), where jwx
//     takes the last duplicate and replaces invalid bytes;
//   - "crit" in the header: refused (RFC 7515 4.1.11: no extension is understood);
//   - typ secevent+jwt, logout+jwt or global-token-revocation+jwt, or an
//     "events" claim: a security event or logout token, or a revocation
//     request's JWT, is refused as an access token;
//   - a time claim that is a string, zero, or beyond ±1e11 s: refused as
//     malformed, where jwx reads numeric strings and treats 0 as absent;
//   - a non-string or empty user claim: no user, no session.
func deliberate(header, payload []byte) bool {
	if !jsontext.Value(header).IsValid() || !jsontext.Value(payload).IsValid() {
		return true
	}
	var h map[string]json.RawMessage
	if json.Unmarshal(header, &h) != nil {
		return false
	}
	if _, ok := h["crit"]; ok {
		return true
	}
	var typ string
	if json.Unmarshal(h["typ"], &typ) == nil && (isSETType(typ) || isLogoutType(typ) || isRevocationType(typ)) {
		return true // an event token is not an access token
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return false
	}
	if _, ok := claims["events"]; ok {
		return true
	}
	for _, k := range []string{"exp", "nbf", "iat", "auth_time"} {
		v, ok := claims[k]
		if !ok || string(v) == "null" {
			continue
		}
		var f float64
		if json.Unmarshal(v, &f) != nil || int64(f) == 0 || f > 1e11 || f < -1e11 {
			return true
		}
	}
	var sub string
	if json.Unmarshal(claims["sub"], &sub) != nil || sub == "" {
		return true
	}
	return false
}

// sameClaims compares what both verifiers extracted from a token both
// accepted: iss, sub, aud, exp, nbf, iat and the client id.
func sameClaims(mine Claims, theirs jwt.Token) error {
	var diffs []string
	check := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s: mine %v, jwx %v", name, a, b))
		}
	}
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	check("iss", mine.Issuer, theirs.Issuer())
	check("sub", mine.Subject, theirs.Subject())
	check("aud", []string(mine.Audience), theirs.Audience())
	check("exp", unix(mine.ExpiresAt), unix(theirs.Expiration()))
	check("nbf", unix(mine.NotBefore), unix(theirs.NotBefore()))
	check("iat", unix(mine.IssuedAt), unix(theirs.IssuedAt()))
	client := ""
	for _, name := range []string{"azp", "appid", "client_id"} {
		if v, ok := theirs.PrivateClaims()[name].(string); ok && v != "" {
			client = v
			break
		}
	}
	check("client id", mine.ClientID, client)
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

func FuzzVerifierMatchesJWX(f *testing.F) {
	fx := newFixture(f, func(c *Config) { c.Issuers[0].Algorithms = []string{"RS256", "ES256", "EdDSA"} })
	now := fx.clock.Now()
	iss, aud := fx.idp.URL(), "api://sessionguard-demo"
	algs := []jwa.SignatureAlgorithm{jwa.RS256, jwa.ES256, jwa.EdDSA}
	jwksBody, _ := fx.idp.JWKS()
	set, err := jwk.Parse(jwksBody)
	if err != nil {
		f.Fatal(err)
	}
	claims := func(extra string) string {
		return `{"iss":"` + iss + `","sub":"alice","aud":"` + aud + `","exp":` + itoa(now.Add(time.Hour).Unix()) + `,"iat":` + itoa(now.Unix()) + extra + `}`
	}
	for i, alg := range algs {
		hdr := `{"alg":"` + alg.String() + `","kid":"` + fx.idp.KeyFor(alg).Kid + `","typ":"at+jwt"}`
		f.Add(hdr, claims(""), uint8(i), uint8(0))
		f.Add(hdr, claims(`,"nbf":`+itoa(now.Add(time.Hour).Unix())), uint8(i), uint8(0))
		f.Add(hdr, strings.Replace(claims(""), `"aud":"`+aud+`"`, `"aud":["x","`+aud+`"]`, 1), uint8(i), uint8(1))
		f.Add(`{"alg":"none","kid":"`+fx.idp.KeyFor(alg).Kid+`"}`, claims(""), uint8(i), uint8(0))
		f.Add(hdr, claims(`,"exp":`+itoa(now.Add(-time.Hour).Unix())), uint8(i), uint8(0))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, header, payload string, keyIdx, tamper uint8) {
		alg := algs[int(keyIdx)%len(algs)]
		tok := signRaw(t, alg, fx.idp.KeyFor(alg).Private, []byte(header), []byte(payload))
		if tamper%4 == 3 { // flip a signature byte
			b := []byte(tok)
			b[len(b)-2] ^= 1
			tok = string(b)
		}
		if deliberate([]byte(header), []byte(payload)) {
			return
		}
		got, mine := fx.v.Verify(ctx, tok)
		var coded *reason.Error
		if mine != nil && !errors.As(mine, &coded) {
			t.Fatalf("rejection without a reason code: %v", mine)
		}

		parsed, theirs := jwt.Parse([]byte(tok),
			jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)),
			jwt.WithValidate(true), jwt.WithIssuer(iss), jwt.WithAudience(aud),
			jwt.WithClock(jwt.ClockFunc(fx.clock.Now)), jwt.WithAcceptableSkew(time.Minute),
			jwt.WithRequiredClaim("exp"))
		if theirs == nil {
			// The issuer's policy on top of jwx: the allow-list and a kid.
			m, _ := jws.Parse([]byte(tok))
			h := m.Signatures()[0].ProtectedHeaders()
			if !slices.Contains([]string{"RS256", "ES256", "EdDSA"}, h.Algorithm().String()) || h.KeyID() == "" || parsed.Subject() == "" {
				theirs = errPolicy
			}
		}
		if (mine == nil) != (theirs == nil) {
			t.Fatalf("disagree on %s\nheader %s\npayload %s\nmine: %v\njwx: %v", tok, header, payload, mine, theirs)
		}
		if mine == nil {
			if err := sameClaims(got, parsed); err != nil {
				t.Fatalf("claims differ on %s\nheader %s\npayload %s\n%v", tok, header, payload, err)
			}
		}
	})
}

var errPolicy = &json.UnsupportedValueError{Str: "issuer policy"}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

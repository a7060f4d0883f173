package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/shared/jsonread"
	"github.com/sessionguard/sessionguard/shared/token"
)

// MaxProofBytes caps a proof before it is parsed: an RSA-4096 key's proof
// is about 2.2 KB.
const MaxProofBytes = 8192

// Algorithms are the proof signature algorithms accepted: asymmetric
// ones only, never none or an HMAC.
var Algorithms = []string{"ES256", "RS256", "PS256", "EdDSA"}

// maxJTIBytes caps a proof's jti.
const maxJTIBytes = 256

// Proof is a proof whose header checks passed and whose signature
// verified: what its claims say, not yet held to a request.
type Proof struct {
	Alg string
	// Thumbprint is the proof key's SHA-256 thumbprint (Thumbprint): what
	// a bound token's cnf.jkt and a bound session hold.
	Thumbprint string
	JTI        string
	HTM        string
	HTU        string
	ATH        string
	IAT        time.Time
	// bad names each claim present with the wrong type, for its check.
	bad map[string]bool
}

var b64 = base64.RawURLEncoding.Strict()

// Parse reads a proof and runs the header checks, in order: a readable
// compact JWS of at most MaxProofBytes, split and its header read as a
// token's are (token.SplitCompact, token.ParseHeader) (proof), typ dpop+jwt (typ), alg
// in Algorithms (alg), a jwk that is a public key of the kind alg takes,
// with no private members (jwk), and the signature verifying with that
// key (signature). keys may be nil; it caches parsed keys.
func Parse(raw string, keys *KeyCache) (*Proof, error) {
	if raw == "" {
		return nil, invalid(CheckProof, "empty DPoP header")
	}
	if len(raw) > MaxProofBytes {
		return nil, invalid(CheckProof, "a proof of %d bytes exceeds %d", len(raw), MaxProofBytes)
	}
	first, last, err := token.SplitCompact(raw)
	if err != nil {
		return nil, invalid(CheckProof, "%v", err)
	}
	hdr, err := b64.DecodeString(raw[:first])
	if err != nil {
		return nil, invalid(CheckProof, "header is not base64url: %v", err)
	}
	payload, err := b64.DecodeString(raw[first+1 : last])
	if err != nil {
		return nil, invalid(CheckProof, "payload is not base64url: %v", err)
	}
	sig, err := b64.DecodeString(raw[last+1:])
	if err != nil || len(sig) == 0 {
		return nil, invalid(CheckProof, "signature is empty or not base64url")
	}
	h, err := token.ParseHeader(hdr)
	if err != nil {
		return nil, invalid(CheckProof, "header: %v", err)
	}
	p := &Proof{Alg: h.Alg}
	if err := p.parseClaims(payload); err != nil {
		return nil, invalid(CheckProof, "claims: %v", err)
	}
	if h.HasCrit {
		return nil, invalid(CheckProof, `header has "crit": no critical extensions are supported`)
	}
	if h.Typ != "dpop+jwt" {
		return nil, invalid(CheckTyp, "typ %.40q is not dpop+jwt", h.Typ)
	}
	if !slices.Contains(Algorithms, h.Alg) {
		return nil, invalid(CheckAlg, "alg %.20q is not one of %s", h.Alg, strings.Join(Algorithms, ", "))
	}
	if h.JWK == nil {
		return nil, invalid(CheckJWK, "no jwk in the header")
	}
	k, err := keys.key(h.JWK)
	if err != nil {
		return nil, invalid(CheckJWK, "%v", err)
	}
	if !fits(h.Alg, k.pub) {
		return nil, invalid(CheckJWK, "a %s key cannot sign %s", k.kind, h.Alg)
	}
	if !token.CheckSignature(h.Alg, k.pub, []byte(raw[:last]), sig) {
		return nil, invalid(CheckSignature, "the signature does not verify with the proof's jwk")
	}
	p.Thumbprint = k.thumbprint
	return p, nil
}

// fits reports whether a key of pub's kind signs with alg: ES256 a P-256
// key, RS256 and PS256 an RSA key, EdDSA an Ed25519 key.
func fits(alg string, pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve.Params().Name == "P-256"
	case *rsa.PublicKey:
		return alg == "RS256" || alg == "PS256"
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

func (p *Proof) parseClaims(data []byte) error {
	r := jsonread.New(data)
	defer r.Release()
	if !r.Object() {
		return r.Err()
	}
	wrong := func(name string) {
		if p.bad == nil {
			p.bad = map[string]bool{}
		}
		p.bad[name] = true
	}
	for r.Next() {
		name := string(r.Name())
		var dst *string
		switch name {
		case "jti":
			dst = &p.JTI
		case "htm":
			dst = &p.HTM
		case "htu":
			dst = &p.HTU
		case "ath":
			dst = &p.ATH
		case "iat":
			f, ok := r.Number()
			if !ok || math.IsNaN(f) || f <= 0 || f > 1e11 {
				if r.Err() == nil {
					wrong(name)
				}
				continue
			}
			sec, frac := math.Modf(f)
			p.IAT = time.Unix(int64(sec), int64(frac*1e9)).UTC()
			continue
		default:
			r.Skip()
			continue
		}
		s, ok := r.String()
		if !ok && r.Err() == nil {
			wrong(name)
		}
		*dst = s
	}
	return r.Err()
}

package token

import (
	"context"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
)

// BenchmarkVerify compares Verify with the bare signature check of the same
// token over keys parsed in advance.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, nil)
	for _, alg := range []jwa.SignatureAlgorithm{jwa.RS256, jwa.ES256, jwa.EdDSA} {
		tok := f.mint(b, devidp.Token{Alg: alg})
		if _, err := f.v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
		b.Run(alg.String()+"/bare-signature", func(b *testing.B) {
			k := f.v.issuers[f.idp.URL()].keys.cur.Load().byKid[f.idp.KeyFor(alg).Kid][0].key
			last := strings.LastIndexByte(tok, '.')
			sig, _ := b64.DecodeString(tok[last+1:])
			input := []byte(tok[:last])
			b.ReportAllocs()
			for b.Loop() {
				if !checkSignature(alg.String(), k, input, sig) {
					b.Fatal("bad signature")
				}
			}
		})
		b.Run(alg.String()+"/Verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

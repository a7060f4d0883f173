package token

import (
	"context"
	"testing"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// TestKeyThumbprint: a DPoP-bound token's cnf.jkt is its KeyThumbprint,
// from a signature check and from the cache alike (the cache returns
// what the key is, so a cached token is bound as a fresh one is); a token
// without cnf, or with a confirmation method other than jkt, is bound to
// no key; a cnf that names a key unreadably is malformed, never taken for
// an unbound token.
func TestKeyThumbprint(t *testing.T) {
	f := newFixture(t, nil)
	const jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	bound := f.mint(t, devidp.Token{Claims: map[string]any{"cnf": map[string]any{"jkt": jkt}}})
	if c := verifyCached(t, f.v, bound, false); c.KeyThumbprint != jkt {
		t.Errorf("KeyThumbprint = %q; want %q", c.KeyThumbprint, jkt)
	}
	if c := verifyCached(t, f.v, bound, true); c.KeyThumbprint != jkt {
		t.Errorf("KeyThumbprint from the cache = %q; want %q", c.KeyThumbprint, jkt)
	}
	for _, cnf := range []any{nil, map[string]any{"x5t#S256": "bN7qLJ6KZWv-ggUZlr8V8oZc3IcVjIcjOi8Qq8E6J0A"}} {
		tok := f.mint(t, devidp.Token{Claims: map[string]any{"cnf": cnf}})
		if c := verifyCached(t, f.v, tok, false); c.KeyThumbprint != "" {
			t.Errorf("cnf %v: KeyThumbprint = %q; want none", cnf, c.KeyThumbprint)
		}
	}
	for _, cnf := range []any{"jkt", map[string]any{"jkt": 7}, map[string]any{"jkt": ""}, []any{jkt}} {
		_, err := f.v.Verify(context.Background(), f.mint(t, devidp.Token{Claims: map[string]any{"cnf": cnf}}))
		wantCode(t, err, reason.TokenMalformed)
	}
}

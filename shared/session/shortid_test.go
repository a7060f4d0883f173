package session

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// ShortID is the first 12 lowercase hex digits of the SHA-256 of the raw
// id, the same from the id and from its hash.
func TestShortID(t *testing.T) {
	id, err := NewID()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(id.Reveal()))
	want := hex.EncodeToString(sum[:])[:12]
	if got := ShortID(id.Reveal()); got != want {
		t.Errorf("ShortID = %q; want %q", got, want)
	}
	if got := id.Hash().Short(); got != want {
		t.Errorf("Hash.Short = %q; want %q (ShortID's)", got, want)
	}
	if got := ShortID("abc"); got != "ba7816bf8f01" { // SHA-256("abc") = ba7816bf 8f01cfea …
		t.Errorf(`ShortID("abc") = %q; want ba7816bf8f01`, got)
	}
}

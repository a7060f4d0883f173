package jsonread

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// The word-at-a-time tests against the byte-at-a-time rules they stand
// for: special's lowest set bit is the first quote, backslash, control
// character or non-ASCII byte; odd is set when there is a backslash,
// control character or non-ASCII byte.
func isSpecial(c byte) bool { return c == '"' || isOdd(c) }
func isOdd(c byte) bool     { return c < 0x20 || c >= 0x80 || c == '\\' }

func checkWord(t *testing.T, w [8]byte) {
	t.Helper()
	v := binary.LittleEndian.Uint64(w[:])
	first, anyOdd := -1, false
	for i, c := range w {
		if first < 0 && isSpecial(c) {
			first = i
		}
		anyOdd = anyOdd || isOdd(c)
	}
	m := special(v)
	if got := bits.TrailingZeros64(m) / 8; m == 0 && first >= 0 || m != 0 && got != first {
		t.Fatalf("special(%q) = %#x (first at %d); want first at %d", w, m, got, first)
	}
	if got := odd(v) != 0; got != anyOdd {
		t.Fatalf("odd(%q) = %v; want %v", w, got, anyOdd)
	}
}

func TestWordTests(t *testing.T) {
	interesting := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xa2, 0xbf, 0xc0, 0xdc, 0xfe, 0xff}
	for _, bg := range []byte{'a', ' ', '~', 0x21, 0x5d, 0x5b} {
		for p := range 8 {
			for c := range 256 {
				w := [8]byte{bg, bg, bg, bg, bg, bg, bg, bg}
				w[p] = byte(c)
				checkWord(t, w)
				for q := p + 1; q < 8; q++ {
					for _, d := range interesting {
						w[q] = d
						checkWord(t, w)
						w[q] = bg
					}
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		var w [8]byte
		for i := range w {
			if rng.IntN(4) == 0 {
				w[i] = interesting[rng.IntN(len(interesting))]
			} else {
				w[i] = byte(rng.IntN(256))
			}
		}
		checkWord(t, w)
	}
}

func TestPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		s := make([]byte, rng.IntN(100))
		for i := range s {
			s[i] = byte(0x20 + rng.IntN(0x5f))
		}
		if len(s) > 0 && rng.IntN(2) == 0 {
			s[rng.IntN(len(s))] = byte(rng.IntN(256))
		}
		want := true
		for _, c := range s {
			want = want && !isOdd(c)
		}
		if got := plain(s); got != want {
			t.Fatalf("plain(%q) = %v; want %v", s, got, want)
		}
	}
}

package jsonread

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/go-json-experiment/json/jsontext"
)

// The scanner below finds where each token ends. What it accepts is held
// to jsontext, token for token, by FuzzMatchesJSONText; a string that
// holds anything but printable ASCII is not judged here at all (see
// scanString).

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special is not zero when w (eight bytes, the first in the low bits)
// holds a quote, a backslash, a control character or a byte that is not
// ASCII, and its lowest set bit is the high bit of the first such byte:
// a subtraction borrows only from a byte that matched, so only bits above
// the first match can be wrong. TestWordTests holds both.
func special(w uint64) uint64 {
	q := w ^ (lsb * '"')
	b := w ^ (lsb * '\\')
	return ((w-lsb*0x20)&^w | (q-lsb)&^q | (b-lsb)&^b | w) & msb
}

// scanString returns the end of the string that starts at data[i] (a
// quote), just past its closing quote, and whether it holds a backslash
// (an escape: its content must be unquoted). ok is false when it is not
// a valid JSON string.
//
// A string of printable ASCII without escapes is checked here, eight
// bytes at a time. Anything else (an escape, a byte outside printable
// ASCII) is found to end at the first quote not escaped by a backslash,
// and that string is validated by jsontext itself: its UTF-8, its
// escapes and surrogate pairs, its control characters. The end found is
// the one jsontext would find for a valid string (inside a valid string
// every quote but the last follows a backslash that is not itself
// escaped); for an invalid one both refuse, whether the end found is
// early or not, because jsontext reads the same prefix.
func scanString(data []byte, i int) (end int, escaped, ok bool) {
	j := i + 1
	// Short strings (names, most values): word by word to the first
	// special byte.
	for k := 0; k < 2 && j+8 <= len(data); k++ {
		if m := special(binary.LittleEndian.Uint64(data[j:])); m != 0 {
			j += bits.TrailingZeros64(m) / 8
			if data[j] == '"' {
				return j + 1, false, true
			}
			return scanOther(data, i, j)
		}
		j += 8
	}
	if j+8 <= len(data) {
		// A long string (a token): find the quote (bytes.IndexByte is
		// vectorized), then check that nothing before it is special.
		q := bytes.IndexByte(data[j:], '"')
		if q < 0 {
			return 0, false, false
		}
		if plain(data[j : j+q]) {
			return j + q + 1, false, true
		}
		return scanOther(data, i, j)
	}
	for ; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1, false, true
		case c < 0x20 || c >= 0x80 || c == '\\':
			return scanOther(data, i, j)
		}
	}
	return 0, false, false
}

// plain reports whether s is all printable ASCII but the backslash.
func plain(s []byte) bool {
	var m uint64
	for len(s) >= 32 {
		w0 := binary.LittleEndian.Uint64(s)
		w1 := binary.LittleEndian.Uint64(s[8:])
		w2 := binary.LittleEndian.Uint64(s[16:])
		w3 := binary.LittleEndian.Uint64(s[24:])
		m |= odd(w0) | odd(w1) | odd(w2) | odd(w3)
		s = s[32:]
	}
	for len(s) >= 8 {
		m |= odd(binary.LittleEndian.Uint64(s))
		s = s[8:]
	}
	if m&msb != 0 {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

// odd is not zero when w holds a control character, a byte that is not
// ASCII, or a backslash, and only then: a subtraction borrows only from a
// byte that matched, and where the backslash test also matches bytes of
// 0x81 and up, w's own high bit does too. TestWordTests holds it.
func odd(w uint64) uint64 {
	b := w ^ (lsb * '\\')
	return ((w - lsb*0x20) | w | (b - lsb)) & msb
}

// scanOther is scanString for a string that, from data[j] on, holds
// something other than printable ASCII.
func scanOther(data []byte, i, j int) (end int, escaped, ok bool) {
	for j < len(data) {
		switch data[j] {
		case '"':
			return j + 1, escaped, jsontext.Value(data[i : j+1]).IsValid()
		case '\\':
			escaped = true
			j += 2
		default:
			j++
		}
	}
	return 0, false, false
}

// scanNumber returns the end of the number that starts at data[i], or
// ok false: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (end int, ok bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(data, i+1)
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		if j := digits(data, i+1); j > i+1 {
			i = j
		} else {
			return 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if j := digits(data, i); j > i {
			i = j
		} else {
			return 0, false
		}
	}
	return i, true
}

func digits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral returns the end of lit (true, false or null) at data[i], or
// ok false.
func scanLiteral(data []byte, i int, lit string) (end int, ok bool) {
	if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// space skips whitespace from data[i].
func space(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd is just past the closing quote of the string that starts at
// data[i], or len(data) when it has none (for error messages only).
func stringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	return len(data)
}

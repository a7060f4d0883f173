// Package jsonread reads JSON objects member by member, without reflection.
// It adds only the few conveniences the hot path needs: member names are
// unescaped before they are compared, values are read as the kinds a
// caller expects, and readers are pooled.
//
// A Reader refuses what a security-relevant parser must: a member name
// that appears twice in one object, at any depth and also inside values
// the caller skips (after unescaping, so "sub" and "s\u0075b" are the same
// name), invalid UTF-8, anything but strict JSON (no comments, single
// quotes, trailing commas, leading zeros, NaN), nesting deeper than
// 10,000, and anything but whitespace after the top-level value. A JWT
// parser may either refuse duplicate claim names or take the last one,
// and parsers differ; refusing them leaves no room for two parsers to
// disagree about a claim.
//
// The Reader accepts exactly what jsontext (the tokenizer behind
// encoding/json/v2) accepts, which FuzzMatchesJSONText holds against the
// Reader as it was over jsontext's Decoder. It scans by hand (scan.go)
// because that halves the cost of reading an authorizer event
// (BenchmarkEvent: about 4.4 us through jsontext, 2.3 us by hand), more
// than 2 us of a decision that took about 11 us; the commit that added it
// has the numbers. A string with an escape or a byte outside printable
// ASCII is still validated, and unescaped, by jsontext.
package jsonread

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Reader reads one JSON document. The zero value is not usable; get one
// from New and give it back with Release.
type Reader struct {
	data    []byte
	pos     int     // next byte to read
	stack   []frame // open objects and arrays
	names   []span  // member names of the open objects (frame.names)
	sets    []map[string]struct{}
	arena   []byte // names that held escapes, unescaped
	depth   []int  // len(stack) of each object opened with Object
	name    span   // the current member's name
	member  span   // the last member name read, at any depth
	scratch []byte
	escaped bool // the last string read holds an escape
	pending bool // the innermost object's member name was read, its value not yet
	started bool // the top-level value was begun
	err     error
}

// span is a member name, unescaped: data[start:end], or arena[start:end];
// key is nameKey of it.
type span struct {
	start, end int
	key        uint64
	arena      bool
}

// frame is an open object or array. It holds no pointers, so that pushing
// and popping frames costs no write barriers while the GC runs.
type frame struct {
	array bool
	n     int // values begun (members whose name and colon were read)
	// names[names:] are an object's member names so far, until it has
	// more than linearNames; then sets[set-1] holds them.
	names int
	set   int
	arena int // len(arena) when the object opened
}

const (
	// maxDepth is jsontext's limit on nesting.
	maxDepth = 10000
	// linearNames is how many names an object compares one by one
	// before it keeps them in a map.
	linearNames = 16
)

var readers = sync.Pool{New: func() any { return new(Reader) }}

// New returns a reader over data. The reader reads data in place: data
// must not change until Release.
func New(data []byte) *Reader {
	r := readers.Get().(*Reader)
	r.data, r.pos, r.err = data, 0, nil
	r.stack, r.names, r.sets, r.arena, r.depth = r.stack[:0], r.names[:0], r.sets[:0], r.arena[:0], r.depth[:0]
	r.name, r.member = span{}, span{}
	r.escaped, r.pending, r.started = false, false, false
	return r
}

// Release returns r to the pool; r must not be used afterwards.
func (r *Reader) Release() {
	r.data = nil // drop the reference to the caller's data
	clear(r.sets[:cap(r.sets)])
	if cap(r.scratch) > 4<<10 || cap(r.arena) > 4<<10 || cap(r.names) > 1<<10 || cap(r.stack) > 1<<10 || cap(r.sets) > 64 {
		r.scratch, r.arena, r.names, r.stack, r.sets = nil, nil, nil, nil, nil
	}
	readers.Put(r)
}

// ErrNotObject is returned when an object was expected.
var ErrNotObject = errors.New("not a JSON object")

var (
	errDuplicate = errors.New("duplicate member name")
	errDepth     = errors.New("nesting too deep")
	errNoValue   = errors.New("jsonread: no value is due")
	errUnread    = errors.New("jsonread: a member's value was not read")
)

// token reads the next token: the first token of a value ('{', '[', '"',
// '0' for a number, 't', 'f', 'n'), a member name ('k'), or the end of
// the innermost object or array ('}', ']'); start and end are its bytes.
// It returns 0 and sets Err when the next bytes are not a valid token
// where one is due. Opening an object or array pushes a frame, its end
// pops it; the end of the top-level value must be the end of data, but
// for whitespace.
func (r *Reader) token() (k byte, start, end int) {
	if r.err != nil {
		return 0, 0, 0
	}
	data := r.data
	i := space(data, r.pos)
	if n := len(r.stack); n > 0 {
		f := &r.stack[n-1]
		switch {
		case r.pending: // a member's value
			if i >= len(data) || data[i] != ':' {
				return r.syntax(i, "after a member name (expecting ':')")
			}
			i = space(data, i+1)
			r.pending = false
			f.n++
		case i < len(data) && data[i] == "}]"[b2i(f.array)]:
			if !f.array {
				r.names, r.arena = r.names[:f.names], r.arena[:f.arena]
				if f.set > 0 {
					clear(r.sets[f.set-1:])
					r.sets = r.sets[:f.set-1]
				}
			}
			r.stack = r.stack[:n-1]
			r.pos = i + 1
			if n == 1 && space(data, r.pos) != len(data) {
				r.fail(errors.New("data after the top-level value"))
				return 0, 0, 0
			}
			return data[i], i, i + 1
		default:
			if f.n > 0 {
				if i >= len(data) || data[i] != ',' {
					return r.syntax(i, "after a value (expecting ',' or the end)")
				}
				i = space(data, i+1)
			}
			if f.array {
				f.n++
				break
			}
			if i >= len(data) || data[i] != '"' {
				return r.syntax(i, "at the start of a member name")
			}
			end, escaped, ok := scanString(data, i)
			if !ok {
				return r.syntax(i, "in a member name")
			}
			if r.member, ok = r.addName(f, i, end, escaped); !ok {
				return 0, 0, 0
			}
			r.pos, r.pending = end, true
			return 'k', i, end
		}
	} else if r.started {
		r.fail(errors.New("data after the top-level value"))
		return 0, 0, 0
	}
	r.started = true
	if i >= len(data) {
		r.fail(io.ErrUnexpectedEOF)
		return 0, 0, 0
	}
	var ok bool
	switch k = data[i]; k {
	case '{', '[':
		if len(r.stack) >= maxDepth {
			r.fail(errDepth)
			return 0, 0, 0
		}
		r.stack = append(r.stack, frame{array: k == '[', names: len(r.names), arena: len(r.arena)})
		end, ok = i+1, true
	case '"':
		end, r.escaped, ok = scanString(data, i)
	case 't':
		end, ok = scanLiteral(data, i, "true")
	case 'f':
		end, ok = scanLiteral(data, i, "false")
	case 'n':
		end, ok = scanLiteral(data, i, "null")
	default:
		k = '0'
		end, ok = scanNumber(data, i)
	}
	if !ok {
		return r.syntax(i, "at the start of a value or in it")
	}
	r.pos = end
	if len(r.stack) == 0 && space(data, end) != len(data) {
		r.fail(errors.New("data after the top-level value"))
		return 0, 0, 0
	}
	return k, i, end
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (r *Reader) syntax(i int, where string) (byte, int, int) {
	switch {
	case i >= len(r.data):
		r.fail(io.ErrUnexpectedEOF)
	case r.data[i] == '"':
		// A string that does not scan: let jsontext say what is wrong with
		// it (invalid UTF-8, a control character, a bad escape, a lone
		// surrogate, no closing quote).
		_, err := jsontext.AppendUnquote(nil, r.data[i:stringEnd(r.data, i)])
		if err == nil {
			err = errors.New("not a valid string")
		}
		r.fail(fmt.Errorf("string %s, at byte %d: %w", where, i, err))
	default:
		r.fail(fmt.Errorf("invalid character %q %s, at byte %d", r.data[i], where, i))
	}
	return 0, 0, 0
}

// addName adds the member name tok (the string token data[start:end],
// escaped or not) to object f and returns it; ok is false, and Err set,
// when f has it already.
func (r *Reader) addName(f *frame, start, end int, escaped bool) (name span, ok bool) {
	name = span{start: start + 1, end: end - 1}
	if escaped {
		n := len(r.arena)
		var err error
		if r.arena, err = jsontext.AppendUnquote(r.arena, r.data[start:end]); err != nil {
			r.fail(err) // cannot happen: scanString had jsontext validate it
			return span{}, false
		}
		name = span{start: n, end: len(r.arena), arena: true}
	}
	b := r.bytes(name)
	name.key = nameKey(b)
	if f.set > 0 {
		set := r.sets[f.set-1]
		if _, dup := set[string(b)]; dup {
			r.fail(fmt.Errorf("%w %q", errDuplicate, b))
			return span{}, false
		}
		set[string(b)] = struct{}{}
		return name, true
	}
	seen := r.names[f.names:]
	for _, s := range seen {
		if s.key == name.key && string(r.bytes(s)) == string(b) {
			r.fail(fmt.Errorf("%w %q", errDuplicate, b))
			return span{}, false
		}
	}
	if len(seen) < linearNames {
		r.names = append(r.names, name)
		return name, true
	}
	set := make(map[string]struct{}, 4*linearNames)
	for _, s := range seen {
		set[string(r.bytes(s))] = struct{}{}
	}
	set[string(b)] = struct{}{}
	r.sets = append(r.sets, set)
	f.set = len(r.sets)
	r.names = r.names[:f.names]
	return name, true
}

// nameKey sums up a name in a word, so that comparing two names' keys
// tells most different names apart: equal names have equal keys.
func nameKey(b []byte) uint64 {
	k := uint64(len(b))
	if len(b) >= 8 {
		return k ^ binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[len(b)-8:]), 31)
	}
	for i, c := range b {
		k |= uint64(c) << (8 * (i + 1))
	}
	return k
}

// bytes is the name s.
func (r *Reader) bytes(s span) []byte {
	if s.arena {
		return r.arena[s.start:s.end]
	}
	return r.data[s.start:s.end]
}

// due reports whether a value is due: the top-level one, or a member's
// after Next.
func (r *Reader) due() bool {
	if r.err != nil {
		return false
	}
	if len(r.stack) == 0 && !r.started || r.pending {
		return true
	}
	r.fail(errNoValue)
	return false
}

// close reads to the end of the object or array just opened, which left
// base frames open.
func (r *Reader) close(base int) {
	for r.err == nil && len(r.stack) > base {
		r.token()
	}
}

// Object opens the object that is the next value. It returns false, and
// sets Err, when the next value is not an object.
func (r *Reader) Object() bool {
	if r.Kind() != '{' {
		if r.err == nil {
			r.fail(ErrNotObject)
		}
		return false
	}
	if k, _, _ := r.token(); k != '{' {
		return false
	}
	r.depth = append(r.depth, len(r.stack))
	return true
}

// Next moves to the next member of the innermost open object. At the end
// of the object it closes it and returns false; at the end of the
// top-level object it also checks that nothing follows. After a true
// result the caller reads the member's value exactly once, with one of
// String, Strings, Number, Raw, Skip, or by opening it with Object.
func (r *Reader) Next() bool {
	if r.err != nil || len(r.depth) == 0 {
		return false
	}
	if r.pending || len(r.stack) != r.depth[len(r.depth)-1] {
		r.fail(errUnread)
		return false
	}
	switch k, _, _ := r.token(); k {
	case 'k':
		r.name = r.member
		return true
	case '}':
		r.depth = r.depth[:len(r.depth)-1]
	}
	return false
}

// Name is the current member's name, unescaped. It is valid until the
// next call to Next.
func (r *Reader) Name() []byte { return r.bytes(r.name) }

// Is reports whether the current member's name is s.
func (r *Reader) Is(s string) bool { return string(r.bytes(r.name)) == s }

// Kind is the kind of the next value: '"', '0', '{', '[', 't', 'f', 'n',
// or 0 after an error, when no value is due, or when the next bytes
// cannot begin one (reading it then sets Err).
func (r *Reader) Kind() jsontext.Kind {
	if r.err != nil || !(len(r.stack) == 0 && !r.started || r.pending) {
		return 0
	}
	i := space(r.data, r.pos)
	if r.pending {
		if i >= len(r.data) || r.data[i] != ':' {
			return 0
		}
		i = space(r.data, i+1)
	}
	if i >= len(r.data) {
		return 0
	}
	switch c := r.data[i]; c {
	case '"', '{', '[', 't', 'f', 'n':
		return jsontext.Kind(c)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return '0'
	}
	return 0
}

// Skip reads the next value and discards it.
func (r *Reader) Skip() { r.Raw() }

// Raw reads the next value as raw JSON, which is valid until the next
// call on r; a caller that keeps it copies it.
func (r *Reader) Raw() jsontext.Value {
	if !r.due() {
		return nil
	}
	base := len(r.stack)
	k, start, _ := r.token()
	if k == '{' || k == '[' {
		r.close(base)
	}
	if r.err != nil {
		return nil
	}
	return r.data[start:r.pos]
}

// String reads the next value; ok is false when it is not a string.
func (r *Reader) String() (s string, ok bool) {
	if !r.due() {
		return "", false
	}
	base := len(r.stack)
	switch k, start, end := r.token(); k {
	case '"':
		return r.str(start, end), true
	case '{', '[':
		r.close(base)
	}
	return "", false
}

// str is the content of the string token data[start:end] just read.
func (r *Reader) str(start, end int) string {
	if !r.escaped {
		return string(r.data[start+1 : end-1])
	}
	var err error
	if r.scratch, err = jsontext.AppendUnquote(r.scratch[:0], r.data[start:end]); err != nil {
		r.fail(err) // cannot happen: scanString had jsontext validate it
		return ""
	}
	return string(r.scratch)
}

// Strings reads the next value as an array of strings; ok is false when it
// is anything else (the value is still consumed).
func (r *Reader) Strings() (ss []string, ok bool) {
	if !r.due() {
		return nil, false
	}
	base := len(r.stack)
	switch k, _, _ := r.token(); k {
	case '[':
	case '{':
		r.close(base)
		return nil, false
	default:
		return nil, false
	}
	out := []string{}
	for {
		switch k, start, end := r.token(); k {
		case '"':
			out = append(out, r.str(start, end))
			continue
		case ']':
			return out, true
		}
		r.close(base)
		return nil, false
	}
}

// Number reads the next value; ok is false when it is not a number.
func (r *Reader) Number() (f float64, ok bool) {
	if !r.due() {
		return 0, false
	}
	base := len(r.stack)
	switch k, start, end := r.token(); k {
	case '0':
		f, err := strconv.ParseFloat(string(r.data[start:end]), 64)
		return f, err == nil
	case '{', '[':
		r.close(base)
	}
	return 0, false
}

// Err is the first error met, or nil.
func (r *Reader) Err() error { return r.err }

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("invalid JSON: %w", err)
	}
}

// Valid reports whether data is exactly one JSON value, in valid UTF-8,
// with no member name twice in any object (RFC 7493, I-JSON): what every
// request body must be before it is decoded, so that no two readers of
// one document can disagree on it. It is jsontext's own check: request
// bodies are not on the hot path.
func Valid(data []byte) bool { return jsontext.Value(data).IsValid() }

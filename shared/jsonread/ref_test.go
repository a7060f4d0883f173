package jsonread

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// refReader is the Reader as it was before it scanned by hand, over
// jsontext's Decoder, which validates every token it reads: the
// reference that FuzzMatchesJSONText holds the Reader to. It has the
// Reader's methods and comments, but for newRef.
type refReader struct {
	src     bytes.Buffer
	dec     jsontext.Decoder
	depth   []int // decoder stack depth of each object opened with Object
	name    []byte
	scratch []byte
	pending bool // a member's name was read, its value not yet
	err     error
}

var refReaders = sync.Pool{New: func() any { return new(refReader) }}

// newRef returns a reader over data. The reader reads data in place: data
// must not change until Release.
func newRef(data []byte) *refReader {
	r := refReaders.Get().(*refReader)
	r.src = *bytes.NewBuffer(data)
	r.dec.Reset(&r.src)
	r.depth, r.name, r.pending, r.err = r.depth[:0], r.name[:0], false, nil
	return r
}

// Release returns r to the pool; r must not be used afterwards.
func (r *refReader) Release() {
	r.src = bytes.Buffer{}
	r.dec.Reset(&r.src) // drop the reference to the caller's data
	if cap(r.name) > 1<<10 || cap(r.scratch) > 4<<10 {
		r.name, r.scratch = nil, nil
	}
	refReaders.Put(r)
}

// Object opens the object that is the next value. It returns false, and
// sets Err, when the next value is not an object.
func (r *refReader) Object() bool {
	if r.err != nil {
		return false
	}
	if r.dec.PeekKind() != '{' {
		r.fail(ErrNotObject)
		return false
	}
	if _, err := r.dec.ReadToken(); err != nil {
		r.fail(err)
		return false
	}
	r.pending = false
	r.depth = append(r.depth, r.dec.StackDepth())
	return true
}

// Next moves to the next member of the innermost open object. At the end
// of the object it closes it and returns false; at the end of the
// top-level object it also checks that nothing follows. After a true
// result the caller reads the member's value exactly once, with one of
// String, Strings, Number, Raw, Skip, or by opening it with Object.
func (r *refReader) Next() bool {
	if r.err != nil || len(r.depth) == 0 {
		return false
	}
	if r.pending || r.dec.StackDepth() != r.depth[len(r.depth)-1] {
		r.fail(errors.New("jsonread: a member's value was not read"))
		return false
	}
	if r.dec.PeekKind() == '}' {
		if _, err := r.dec.ReadToken(); err != nil {
			r.fail(err)
			return false
		}
		r.depth = r.depth[:len(r.depth)-1]
		if len(r.depth) == 0 && r.dec.StackDepth() == 0 {
			r.end()
		}
		return false
	}
	v, err := r.dec.ReadValue() // a name: validated, checked for duplicates
	if err != nil {
		r.fail(err)
		return false
	}
	r.name, r.pending = refUnquote(r.name[:0], v), true
	return true
}

// end checks that only whitespace follows the top-level value.
func (r *refReader) end() {
	if _, err := r.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("jsonread: data after the top-level value")
		}
		r.fail(err)
	}
}

// Name is the current member's name, unescaped. It is valid until the
// next call to Next.
func (r *refReader) Name() []byte { return r.name }

// Is reports whether the current member's name is s.
func (r *refReader) Is(s string) bool { return string(r.name) == s }

// Kind is the kind of the next value: '"', '0', '{', '[', 't', 'f', 'n',
// or 0 after an error.
func (r *refReader) Kind() jsontext.Kind {
	if r.err != nil {
		return 0
	}
	return r.dec.PeekKind()
}

// Skip reads the next value and discards it.
func (r *refReader) Skip() {
	if r.err == nil {
		r.pending = false
		if err := r.dec.SkipValue(); err != nil {
			r.fail(err)
		}
	}
}

// Raw reads the next value as raw JSON, which is valid until the next
// call on r; a caller that keeps it copies it.
func (r *refReader) Raw() jsontext.Value {
	if r.err != nil {
		return nil
	}
	r.pending = false
	v, err := r.dec.ReadValue()
	if err != nil {
		r.fail(err)
		return nil
	}
	return v
}

// String reads the next value; ok is false when it is not a string.
func (r *refReader) String() (s string, ok bool) {
	v := r.Raw()
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	r.scratch = refUnquote(r.scratch[:0], v)
	return string(r.scratch), true
}

// Strings reads the next value as an array of strings; ok is false when it
// is anything else (the value is still consumed).
func (r *refReader) Strings() (ss []string, ok bool) {
	if r.Kind() != '[' {
		r.Skip()
		return nil, false
	}
	v := r.Raw()
	if v == nil {
		return nil, false
	}
	return refStringsOf(v)
}

// Number reads the next value; ok is false when it is not a number.
func (r *refReader) Number() (f float64, ok bool) {
	v := r.Raw()
	if len(v) == 0 || v.Kind() != '0' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// Err is the first error met, or nil.
func (r *refReader) Err() error { return r.err }

func (r *refReader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("invalid JSON: %w", err)
	}
}

// refUnquote appends the content of the JSON string v (already validated by
// the decoder) to dst.
func refUnquote(dst []byte, v jsontext.Value) []byte {
	if len(v) < 2 || v[0] != '"' {
		return dst
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return append(dst, v[1:len(v)-1]...)
	}
	out, err := jsontext.AppendUnquote(dst, v)
	if err != nil { // cannot happen for a validated string; be safe
		return dst
	}
	return out
}

// refStringsOf reads a validated JSON array; ok only when every element is a
// string.
func refStringsOf(v jsontext.Value) ([]string, bool) {
	inner := newRef(v)
	defer inner.Release()
	if _, err := inner.dec.ReadToken(); err != nil {
		return nil, false
	}
	out := []string{}
	for inner.dec.PeekKind() == '"' {
		s, ok := inner.String()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	if inner.dec.PeekKind() != ']' {
		return nil, false
	}
	return out, true
}

package jsonread

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// reader is what the Reader and its reference (refReader) share.
type reader interface {
	Object() bool
	Next() bool
	Name() []byte
	Kind() jsontext.Kind
	Skip()
	Raw() jsontext.Value
	String() (string, bool)
	Strings() ([]string, bool)
	Number() (float64, bool)
	Err() error
}

// walk reads a document through r as plan says, one choice per member
// (skip, string, strings, number, raw, open as an object, or leave
// unread, which is a caller's mistake), and writes down all it saw and
// whether reading failed.
func walk(r reader, plan []byte) string {
	var out strings.Builder
	choice := func() byte {
		if len(plan) == 0 {
			return 0
		}
		c := plan[0]
		plan = plan[1:]
		return c
	}
	// Where no value can begin, jsontext's kind is the byte found there
	// (normalized: '-' and digits are '0'); the Reader's is 0.
	kind := func() jsontext.Kind {
		switch k := r.Kind(); k {
		case '"', '0', '{', '[', 't', 'f', 'n':
			return k
		}
		return 0
	}
	var object func()
	object = func() {
		for r.Next() {
			fmt.Fprintf(&out, "%q %d: ", r.Name(), kind())
			switch choice() % 8 {
			case 0:
				r.Skip()
			case 1:
				s, ok := r.String()
				fmt.Fprintf(&out, "string %q %v", s, ok)
			case 2:
				ss, ok := r.Strings()
				fmt.Fprintf(&out, "strings %q %v %v", ss, ss == nil, ok)
			case 3:
				f, ok := r.Number()
				fmt.Fprintf(&out, "number %v %v", f, ok)
			case 4:
				fmt.Fprintf(&out, "raw %q", r.Raw())
			case 5, 6:
				if r.Object() {
					out.WriteString("{")
					object()
					out.WriteString("}")
				}
			case 7:
				out.WriteString("unread")
			}
			out.WriteString("\n")
		}
	}
	fmt.Fprintf(&out, "top %d\n", kind())
	if r.Object() {
		object()
	}
	fmt.Fprintf(&out, "error %v", r.Err() != nil)
	return out.String()
}

// matches checks that the Reader and the reference, reading data as plan
// says, see the same and fail alike; and that a Reader that reads all of
// data accepts it exactly when jsontext does.
func matches(t *testing.T, data, plan []byte) {
	t.Helper()
	r, ref := New(data), newRef(data)
	got, want := walk(r, plan), walk(ref, plan)
	r.Release()
	ref.Release()
	if got != want {
		t.Fatalf("data %q, plan %q:\nReader:\n%s\njsontext:\n%s", data, plan, got, want)
	}
	r = New(data)
	defer r.Release()
	if r.Object() {
		for r.Next() {
			r.Skip()
		}
	}
	isObject := len(data) > 0 && jsontext.Value(data).Kind() == '{'
	if ok, valid := r.Err() == nil, jsontext.Value(data).IsValid() && isObject; ok != valid {
		t.Fatalf("data %q: read all, error %v; jsontext valid object %v", data, r.Err(), valid)
	}
}

// seeds are documents that reach the scanner's corners, and the repository's
// authorizer events.
func seeds(t testing.TB) [][]byte {
	docs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":{"b":["c",1,true,false,null,{"d":[]}]},"e":"f"}`,
		`{"sub":"alice","sub":"mallory"}`, `{"sub":"alice","s\u0075b":"mallory"}`,
		`{"a":{"x":1,"\u0078":2}}`, `{"a":{},"a":1}`, `{"a":{"b":1},"b":1,"c":{"b":2}}`,
		`{"a":[{"x":1},{"x":2}]}`, `{"a":[{"x":1,"x":2}]}`,
		"{\"sub\":\"al\xffice\"}", "{\"s\xffb\":\"alice\"}", `{"sub":"\ud800"}`, `{"sub":"\udc00\ud800"}`,
		`{"sub":"\ud83d\ude00"}`, `{"sub":"\uD83D\uDE00 é ✓ 😀"}`, "{\"sub\":\"é\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		`{"sub":"alice"} x`, `{"sub":"alice"}{}`, `["sub"]`, `{"sub":"alice"`, `{"sub":"\q"}`, `{"sub":"alice",}`,
		`{'sub':'alice'}`, ``, "{\"s\x01\":1}", "{\"s\":\"\x7f\x1f\"}", `{"a" 1}`, `{"a":1 "b":2}`, `{,"a":1}`,
		`{"n":-0,"m":0.5e-10,"o":1E+3,"p":-12.34e5,"q":01,"r":1.,"s":.5,"t":-,"u":1e,"v":1e+}`,
		// Each number fault in a document of its own, so that no earlier
		// fault hides it.
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":1e+}`, `{"a":1e.5}`, `{"a":1.e5}`,
		`{"a":-01}`, `{"a":1E-}`, `{"a":[1,]}`, `{"a":0e}`, `{"a":{"b":[0e]}}`,
		"{\v}", "{\f}", "{\u00a0}", "{\"a\":\v1}",
		`{"n":1.5e3}`, `{"n":-}`, `{"n":0x10}`, `{"n":1e400}`, `{"t":tru}`, `{"t":truex}`, `{"t":nul}`,
		`{"a":"0123456789abcdef0123456789abcdef\"0123456789"}`, `{"a":"01234567\\u0041"}`,
		"{\"a\":\"0123456\x00789\"}", "{\"a\":\"0123456é789abcdef\"}", "\ufeff{}", "{}\n\t\r ", "{} \x00",
		`{"a":[1,2,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":["x","y"],"b":["x",1],"c":[],"d":[["x"]]}`,
		`{"":1,"\u0000":2,"\u0000":3}`, `{"a\/b":1,"a/b":2}`,
		`{"a":` + strings.Repeat(`[`, 9998) + strings.Repeat(`]`, 9998) + `}`,
		`{"a":` + strings.Repeat(`[`, 9999) + strings.Repeat(`]`, 9999) + `}`,
		`{"a":` + strings.Repeat(`{"a":`, 9998) + `1` + strings.Repeat(`}`, 9998) + `}`,
		`{"a":` + strings.Repeat(`{"a":`, 9999) + `1` + strings.Repeat(`}`, 9999) + `}`,
		`{"a":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
		`{"a":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `}`,
	}
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 40 {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	docs = append(docs, many.String()+`"k7":1}`, many.String()+`"k\u0037":1}`, many.String()+`"k99":{"k7":1}}`, many.String()+`"k40":1}`)
	var out [][]byte
	for _, d := range docs {
		out = append(out, []byte(d))
	}
	files, _ := filepath.Glob("../../events/*/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

var plans = []string{"", "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", "\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02",
	"\x03\x03\x03\x03\x03\x03\x03\x03", "\x04\x04\x04\x04\x04\x04\x04\x04\x04", "\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05",
	"\x07", "\x01\x02\x03\x04\x05\x00\x01\x02\x03\x04\x05\x00\x01\x02\x03\x04\x05\x00\x01\x02\x03\x04\x05"}

func TestMatchesJSONText(t *testing.T) {
	for _, d := range seeds(t) {
		for _, p := range plans {
			matches(t, d, []byte(p))
		}
	}
}

// FuzzMatchesJSONText holds the Reader to jsontext: for any data and any
// way of reading it, the Reader sees what the reference (refReader, the
// Reader over jsontext's Decoder) sees and fails where it fails.
func FuzzMatchesJSONText(f *testing.F) {
	for _, d := range seeds(f) {
		for _, p := range plans {
			f.Add(d, []byte(p))
		}
	}
	f.Fuzz(matches)
}

// BenchmarkEvent reads an authorizer event as the authorizer does (a few
// members and headers, the rest skipped), through the Reader and through
// the reference over jsontext.
func BenchmarkEvent(b *testing.B) {
	data, err := os.ReadFile("../../events/authorizer/http-api-v2.json")
	if err != nil {
		b.Fatal(err)
	}
	tok := strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 60)
	var buf bytes.Buffer
	if err := json.Compact(&buf, bytes.ReplaceAll(data, []byte("__ACCESS_TOKEN__"), []byte(tok))); err != nil {
		b.Fatal(err)
	}
	data = buf.Bytes()
	read := func(r reader) {
		if !r.Object() {
			b.Fatal(r.Err())
		}
		for r.Next() {
			switch string(r.Name()) {
			case "type", "version", "routeArn":
				r.String()
			case "headers", "requestContext", "stageVariables":
				r.Object()
				for r.Next() {
					switch string(r.Name()) {
					case "authorization", "x-session-id", "requestId", "environment":
						r.String()
					default:
						r.Skip()
					}
				}
			default:
				r.Skip()
			}
		}
		if r.Err() != nil {
			b.Fatal(r.Err())
		}
	}
	for range 3 {
		b.Run("Reader", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := New(data)
				read(r)
				r.Release()
			}
		})
		b.Run("jsontext", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := newRef(data)
				read(r)
				r.Release()
			}
		})
	}
}

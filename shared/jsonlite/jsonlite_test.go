package jsonlite

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var seeds = []string{
	`{}`, `{"a":1}`, ` {"a" : [1, 2.5e3, -0.1, true, false, null, "x\"y\\u00e9\ud83d\ude00"], "b":{"c":{}}} `,
	`{"a":1,}`, `{"a"}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":"\ud800"}`,
	`[1,2]`, `"str"`, `12`, `{"a":1} {}`, `{"a":1}x`, `{"a":tru}`, `{"k\u0061y":"v"}`, `{"a":"\u12"}`,
	`{"dup":1,"dup":2}`, "{\"a\":\"\xff\xfe\"}", `{"a":[[[[[[]]]]]]}`,
}

func FuzzValidMatchesEncodingJSON(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := json.Valid(data)
		if got := Valid(data); got != want && !bytes.Contains(data, bytes.Repeat([]byte{'['}, MaxDepth)) && !bytes.Contains(data, bytes.Repeat([]byte{'{'}, MaxDepth)) {
			t.Fatalf("Valid(%q) = %v; encoding/json says %v", data, got, want)
		}
		var m map[string]json.RawMessage
		stdErr := json.Unmarshal(data, &m)
		it := NewObject(data)
		got := map[string]json.RawMessage{}
		for it.Next() {
			got[it.KeyString()] = append(json.RawMessage(nil), it.Value()...)
			a, okA := String(it.Value())
			b, okB := StringView(it.Value())
			if a != b || okA != okB {
				t.Fatalf("StringView(%s) = %q, %v; String says %q, %v", it.Value(), b, okB, a, okA)
			}
		}
		if (stdErr == nil && m != nil) != (it.Err() == nil) {
			if it.Err() == errDepth {
				return
			}
			t.Fatalf("object %q: jsonlite err %v, encoding/json err %v", data, it.Err(), stdErr)
		}
		if it.Err() != nil {
			return
		}
		// Again, descending into object values before anything skips them.
		it2 := NewObject(data)
		for it2.Next() {
			if len(bytes.TrimSpace(m[it2.KeyString()])) == 0 || bytes.TrimSpace(m[it2.KeyString()])[0] != '{' {
				continue
			}
			var inner map[string]json.RawMessage
			json.Unmarshal(m[it2.KeyString()], &inner)
			n, count := it2.Nested(), 0
			for n.Next() {
				count++
				if !bytes.Equal(n.Value(), bytes.TrimSpace(inner[n.KeyString()])) {
					t.Fatalf("nested member %q = %s; encoding/json %s", n.KeyString(), n.Value(), inner[n.KeyString()])
				}
			}
			if n.Err() != nil {
				t.Fatalf("nested %s: %v", m[it2.KeyString()], n.Err())
			}
			if count < len(inner) {
				t.Fatalf("nested %s: %d members; encoding/json %d", m[it2.KeyString()], count, len(inner))
			}
		}
		if it2.Err() != nil {
			t.Fatalf("second pass over %q: %v", data, it2.Err())
		}
		if len(got) != len(m) {
			t.Fatalf("object %q: %d members; encoding/json %d", data, len(got), len(m))
		}
		for k, v := range m {
			if !bytes.Equal(bytes.TrimSpace(v), got[k]) {
				t.Fatalf("object %q member %q = %s; encoding/json %s", data, k, got[k], v)
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				if gs, ok := String(got[k]); !ok || gs != s {
					t.Fatalf("String(%s) = %q, %v; encoding/json %q", got[k], gs, ok, s)
				}
			}
		}
	})
}

func TestObject(t *testing.T) {
	it := NewObject([]byte(`{"a":"x","b":{"c":[1,"2"]},"d":true}`))
	var keys []string
	for it.Next() {
		keys = append(keys, string(it.Key()))
		if it.KeyIs("b") {
			n := it.Nested()
			for n.Next() {
				if got, ok := Strings(n.Value()); ok || got != nil && len(got) == 2 {
					t.Fatalf("Strings of a mixed array = %v, %v", got, ok)
				}
			}
			if n.Err() != nil {
				t.Fatal(n.Err())
			}
		}
	}
	if it.Err() != nil || !reflect.DeepEqual(keys, []string{"a", "b", "d"}) {
		t.Fatalf("keys = %v, err %v", keys, it.Err())
	}
	if s, ok := Strings([]byte(`["a", "b\n"]`)); !ok || !reflect.DeepEqual(s, []string{"a", "b\n"}) {
		t.Fatalf("Strings = %v %v", s, ok)
	}
	for _, bad := range []string{``, `[]`, `{"a":1`, `{"a":1,`, `{"a":1}}`} {
		it := NewObject([]byte(bad))
		for it.Next() {
		}
		if it.Err() == nil {
			t.Errorf("NewObject(%q) read without error", bad)
		}
	}
}

func BenchmarkEvent(b *testing.B) {
	tok := bytes.Repeat([]byte("abcdefghij"), 120)
	data := []byte(`{"version":"2.0","type":"REQUEST","headers":{"accept":"*/*","authorization":"Bearer ` + string(tok) + `","host":"abc.example","x-session-id":"0123456789abcdef"},"requestContext":{"requestId":"id","http":{"method":"GET"}},"identitySource":["Bearer ` + string(tok) + `"]}`)
	b.Run("jsonlite", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			it := NewObject(data)
			for it.Next() {
			}
			if it.Err() != nil {
				b.Fatal(it.Err())
			}
		}
	})
	b.Run("encoding-json-valid", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			json.Valid(data)
		}
	})
}

func FuzzAppendStringMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\", "<&>", "\x00\x1f\u2028\u2029", "\xff\xfe", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s; encoding/json %s", s, got, want)
		}
	})
}

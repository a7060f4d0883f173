package jsonread

import (
	"slices"
	"strings"
	"testing"
)

type member struct {
	name string
	val  any
}

// readAll reads a flat object: strings, numbers, string arrays; other
// values are skipped.
func readAll(data string) ([]member, error) {
	r := New([]byte(data))
	defer r.Release()
	var out []member
	if !r.Object() {
		return nil, r.Err()
	}
	for r.Next() {
		name := string(r.Name())
		switch r.Kind() {
		case '"':
			s, _ := r.String()
			out = append(out, member{name, s})
		case '0':
			f, _ := r.Number()
			out = append(out, member{name, f})
		case '[':
			ss, ok := r.Strings()
			if ok {
				out = append(out, member{name, ss})
			} else {
				out = append(out, member{name, nil})
			}
		default:
			r.Skip()
		}
	}
	return out, r.Err()
}

func TestRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"duplicate name":            `{"sub":"alice","sub":"mallory"}`,
		"duplicate escaped name":    `{"sub":"alice","s\u0075b":"mallory"}`,
		"duplicate name in nested":  `{"a":{"x":1,"\u0078":2}}`,
		"invalid utf-8 in value":    "{\"sub\":\"al\xffice\"}",
		"invalid utf-8 in name":     "{\"s\xffb\":\"alice\"}",
		"lone surrogate escape":     `{"sub":"\ud800"}`,
		"trailing data":             `{"sub":"alice"} x`,
		"two values":                `{"sub":"alice"}{}`,
		"not an object":             `["sub"]`,
		"unterminated":              `{"sub":"alice"`,
		"bad escape":                `{"sub":"\q"}`,
		"trailing comma":            `{"sub":"alice",}`,
		"single quotes":             `{'sub':'alice'}`,
		"empty":                     ``,
		"control character in name": "{\"s\x01\":1}",
	} {
		if _, err := readAll(in); err == nil {
			t.Errorf("%s: readAll(%q) = nil error; want an error", name, in)
		}
	}
}

func TestReads(t *testing.T) {
	got, err := readAll(` {"s\u0075b":"al\"ice","n":1.5e3,"aud":["a","b\u00e9"],"mixed":["a",1],"o":{"sub":"x"},"t":true} `)
	if err != nil {
		t.Fatal(err)
	}
	want := []member{{"sub", `al"ice`}, {"n", 1500.0}, {"aud", []string{"a", "bé"}}, {"mixed", nil}}
	if len(got) != len(want) {
		t.Fatalf("readAll = %v; want %v", got, want)
	}
	for i := range want {
		if got[i].name != want[i].name {
			t.Errorf("member %d name = %q; want %q", i, got[i].name, want[i].name)
		}
		switch w := want[i].val.(type) {
		case []string:
			if g, _ := got[i].val.([]string); !slices.Equal(g, w) {
				t.Errorf("member %q = %v; want %v", want[i].name, got[i].val, w)
			}
		default:
			if got[i].val != w {
				t.Errorf("member %q = %v; want %v", want[i].name, got[i].val, w)
			}
		}
	}
}

func TestNestedObjects(t *testing.T) {
	r := New([]byte(`{"headers":{"Authorization":"Bearer x","b":[1,{"c":2}]},"rc":{"requestId":"r1"},"z":null}`))
	defer r.Release()
	var auth, id string
	if !r.Object() {
		t.Fatal(r.Err())
	}
	for r.Next() {
		switch {
		case r.Is("headers") && r.Object():
			for r.Next() {
				if r.Is("Authorization") {
					auth, _ = r.String()
				} else {
					r.Skip()
				}
			}
		case r.Is("rc") && r.Object():
			for r.Next() {
				if r.Is("requestId") {
					id, _ = r.String()
				} else {
					r.Skip()
				}
			}
		default:
			r.Skip()
		}
	}
	if r.Err() != nil || auth != "Bearer x" || id != "r1" {
		t.Fatalf("read auth=%q id=%q err=%v; want Bearer x, r1, nil", auth, id, r.Err())
	}
}

func TestUnreadValueIsAnError(t *testing.T) {
	r := New([]byte(`{"a":1,"b":2}`))
	defer r.Release()
	r.Object()
	r.Next()
	if r.Next() || r.Err() == nil {
		t.Fatal("Next after an unread value succeeded; want an error")
	}
}

func TestObjectOnNonObject(t *testing.T) {
	r := New([]byte(`{"a":"x"}`))
	defer r.Release()
	r.Object()
	r.Next()
	if r.Object() || r.Err() == nil {
		t.Fatal(`Object on a string value succeeded; want an error`)
	}
}

func FuzzNeverPanics(f *testing.F) {
	f.Add([]byte(`{"a":{"b":["c",1]},"d":"e"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = readAll(string(data))
	})
}

// A string that does not scan is reported for what is wrong with it, not
// as a bad character at the start of a value.
func TestInvalidStringsSayWhy(t *testing.T) {
	for doc, want := range map[string]string{
		"{\"a\":\"x\xffy\"}": "UTF-8",
		`{"a":"\ud800"}`:     "surrogate",
		`{"a":"\q"}`:         "escape",
		"{\"a\":\"x\x01\"}":  "character",
		"{\"\xff\":1}":       "UTF-8",
	} {
		r := New([]byte(doc))
		if r.Object() {
			for r.Next() {
				r.Skip()
			}
		}
		if err := r.Err(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v; want one that says %q", doc, err, want)
		}
		r.Release()
	}
}

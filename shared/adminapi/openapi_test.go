package adminapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// The OpenAPI document says what the server enforces on the query
// parameters it shares with every list: each limit is 1 to MaxPageSize
// (page), and the user search's prefix is bounded in bytes
// (MaxUserPrefix), which no maxLength (a count of characters) can say.
func TestOpenAPIQueryBounds(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	type param struct {
		Name        string `json:"name"`
		In          string `json:"in"`
		Description string `json:"description"`
		Schema      struct {
			Minimum   *int `json:"minimum"`
			Maximum   *int `json:"maximum"`
			MaxLength *int `json:"maxLength"`
		} `json:"schema"`
	}
	limits, prefixes := 0, 0
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if json.Unmarshal(raw, &op) != nil {
				continue // not an operation (a path's shared parameters, say)
			}
			for _, p := range op.Parameters {
				where := strings.ToUpper(method) + " " + path + " " + p.Name
				switch {
				case p.In == "query" && p.Name == "limit":
					limits++
					if p.Schema.Minimum == nil || *p.Schema.Minimum != 1 || p.Schema.Maximum == nil || *p.Schema.Maximum != MaxPageSize {
						t.Errorf("%s: minimum %v, maximum %v; want 1 and %d, as page() enforces", where, deref(p.Schema.Minimum), deref(p.Schema.Maximum), MaxPageSize)
					}
				case p.In == "query" && p.Name == "prefix":
					prefixes++
					if p.Schema.MaxLength != nil && *p.Schema.MaxLength*4 > MaxUserPrefix {
						t.Errorf("%s: maxLength %d characters can be %d bytes of UTF-8; the server takes at most %d", where, *p.Schema.MaxLength, *p.Schema.MaxLength*4, MaxUserPrefix)
					}
					if want := strconv.Itoa(MaxUserPrefix) + " bytes of UTF-8"; !strings.Contains(p.Description, want) {
						t.Errorf("%s: description %q; want it to say %q", where, p.Description, want)
					}
				}
			}
		}
	}
	if limits < 4 || prefixes != 1 {
		t.Errorf("found %d limit and %d prefix parameters; want the lists' (4 or more) and the user search's", limits, prefixes)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

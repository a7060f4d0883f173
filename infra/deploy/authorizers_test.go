package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAuthorizersAsTheDPoPDocsSay holds every authorizer of the template
// and of the example stacks to what docs/authorizer.md ("Identity
// sources", "The authorizer cache must be off") and
// docs/integrating-your-app.md (DPoP) tell an app team:
//   - the identity sources are Authorization and the session (the
//     X-Session-Id header, or the Cookie header), never DPoP: a missing
//     identity source makes API Gateway answer 401 before the authorizer
//     runs, so a DPoP one would refuse plain Bearer requests under
//     allowed;
//   - the cache TTL is the stack's ReauthorizeEvery parameter (a Number
//     from 0), whose description tells to set it to 0 where DPoP is used;
//   - sessionguard's authorizer fails closed on a cache it is told of, and
//     its admin API refuses dpop then (AUTHORIZER_CACHE_TTL_SECONDS is
//     ReauthorizeEvery for every function of the template, and the nested
//     example hands its own ReauthorizeEvery to the nested
//     stack); an example that imports the authorizer from a stack deployed
//     apart (imported, rest) sets a TTL that stack never sees, and its
//     parameter's description says so.
//
// It reads the templates as written, not as SAM translates them: the
// translation of a REST API resolves the parameter to its default.
func TestAuthorizersAsTheDPoPDocsSay(t *testing.T) {
	for _, c := range []struct {
		name, path string
		imported   bool // the authorizer comes from a stack deployed apart
	}{
		{"template", templatePath, false},
		{"nested", filepath.Join("..", "..", "examples", "nested", "template.yaml"), false},
		{"imported", filepath.Join("..", "..", "examples", "imported", "template.yaml"), true},
		{"rest", filepath.Join("..", "..", "examples", "rest", "template.yaml"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			root := doc.Content[0]
			param := child(root, "Parameters", "ReauthorizeEvery")
			if param == nil || scalar(child(param, "Type")) != "Number" || scalar(child(param, "MinValue")) != "0" {
				t.Fatalf("%s: no ReauthorizeEvery parameter (a Number from 0)", c.path)
			}
			desc := strings.Join(strings.Fields(scalar(child(param, "Description"))), " ")
			if !strings.Contains(desc, "DPoP") || !strings.Contains(desc, "0") {
				t.Errorf("%s: ReauthorizeEvery's description %q does not tell to set it to 0 where DPoP is used", c.path, desc)
			}
			if c.imported && !strings.Contains(desc, "cannot see") {
				t.Errorf("%s: ReauthorizeEvery's description %q does not say that the sessionguard stack cannot see this API's cache", c.path, desc)
			}
			n := 0
			resources := child(root, "Resources")
			for i := 0; resources != nil && i+1 < len(resources.Content); i += 2 {
				name, res := resources.Content[i].Value, resources.Content[i+1]
				authorizers := child(res, "Properties", "Auth", "Authorizers")
				for j := 0; authorizers != nil && j+1 < len(authorizers.Content); j += 2 {
					n++
					a := authorizers.Content[j+1]
					where := name + "." + authorizers.Content[j].Value
					var headers []string
					if h := child(a, "Identity", "Headers"); h != nil {
						for _, v := range h.Content {
							headers = append(headers, v.Value)
						}
					}
					if len(headers) != 2 || headers[0] != "Authorization" || !slices.Contains([]string{"X-Session-Id", "Cookie"}, headers[1]) {
						t.Errorf("%s %s: identity sources %v; want Authorization and the session (X-Session-Id or Cookie), and no DPoP", c.path, where, headers)
					}
					if ttl := child(a, "Identity", "ReauthorizeEvery"); ttl == nil || ttl.Tag != "!Ref" || ttl.Value != "ReauthorizeEvery" {
						t.Errorf("%s %s: the cache TTL is not !Ref ReauthorizeEvery", c.path, where)
					}
				}
			}
			if n == 0 {
				t.Fatalf("%s: no authorizer found", c.path)
			}
			switch {
			case c.path == templatePath:
				env := child(root, "Globals", "Function", "Environment", "Variables", "AUTHORIZER_CACHE_TTL_SECONDS")
				own := child(root, "Resources", "AuthorizerFunction", "Properties", "Environment", "Variables", "AUTHORIZER_CACHE_TTL_SECONDS")
				if env == nil || env.Tag != "!Ref" || env.Value != "ReauthorizeEvery" || own != nil {
					t.Error("the functions are not told the cache TTL: AUTHORIZER_CACHE_TTL_SECONDS is not !Ref ReauthorizeEvery for every function")
				}
			case !c.imported:
				p := child(root, "Resources", "SessionGuard", "Properties", "Parameters", "ReauthorizeEvery")
				if p == nil || p.Tag != "!Ref" || p.Value != "ReauthorizeEvery" {
					t.Errorf("%s: the nested sessionguard stack is not given this API's ReauthorizeEvery", c.path)
				}
			}
		})
	}
	// The docs tell app teams the same.
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "integrating-your-app.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Join(strings.Fields(string(raw)), " ")
	for _, want := range []string{"`ReauthorizeEvery: 0`", "never add `DPoP`", "cannot see"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/integrating-your-app.md does not say %q", want)
		}
	}
}

// child is the node at path under n (mapping keys), nil when absent.
func child(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// scalar is n's value, "" for nil.
func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/shared/route"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// templateRoute is one route of the HTTP API as SAM deploys it.
type templateRoute struct {
	fn     string // function name, as in lambdarun.Functions
	method string // upper case, or ANY
	path   string // API Gateway's: {name} one segment, {proxy+} the rest
	public bool
}

// templateRoutes reads the routes of the translated template's HTTP API:
// the function each invokes and whether the authorizer runs.
func templateRoutes(t *testing.T) []templateRoute {
	t.Helper()
	byID := map[string]string{}
	for fn, id := range lambdarun.Functions {
		byID[id] = fn
	}
	unwrap := func(v any) any { // a conditional function's route
		if cond, ok := get(v, "Fn::If").([]any); ok {
			return cond[1]
		}
		return v
	}
	arn := regexp.MustCompile(`\$\{(\w+)\.Arn\}`)
	paths, _ := get(translated(t)["Api"].Properties, "Body", "paths").(map[string]any)
	var out []templateRoute
	for path, ops := range paths {
		for method, op := range unwrap(ops).(map[string]any) {
			op = unwrap(op)
			uri, _ := json.Marshal(get(op, "x-amazon-apigateway-integration", "uri"))
			m := arn.FindStringSubmatch(string(uri))
			if m == nil || byID[m[1]] == "" {
				t.Errorf("%s %s invokes %s, not one of the functions", method, path, uri)
				continue
			}
			sec, _ := json.Marshal(get(op, "security"))
			if method == "x-amazon-apigateway-any-method" {
				method = "ANY"
			}
			out = append(out, templateRoute{fn: byID[m[1]], method: strings.ToUpper(method), path: path, public: !strings.Contains(string(sec), `"SessionAuthorizer"`)})
		}
	}
	return out
}

// sample is a request path that falls under a route's pattern.
func sample(r route.Route) string {
	var segs []string
	for _, s := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		switch {
		case strings.HasSuffix(s, "...}"):
			segs = append(segs, "x", "y")
		case strings.HasPrefix(s, "{"):
			segs = append(segs, "x")
		default:
			segs = append(segs, s)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// covers reports whether the template route takes a request for path.
func (tr templateRoute) covers(method, path string) bool {
	if tr.method != "ANY" && tr.method != method {
		return false
	}
	want, got := strings.Split(strings.Trim(tr.path, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	for i, w := range want {
		if w == "{proxy+}" {
			return len(got) > i
		}
		if i >= len(got) || (!strings.HasPrefix(w, "{") && w != got[i]) {
			return false
		}
	}
	return len(got) == len(want)
}

// specificity orders template routes as API Gateway chooses among them:
// no greedy segment first, then an exact method before ANY.
func (tr templateRoute) specificity() int {
	n := 0
	if !strings.Contains(tr.path, "{proxy+}") {
		n += 2
	}
	if tr.method != "ANY" {
		n++
	}
	return n
}

// The template routes exactly what the functions serve: every route of
// wiring.Routes reaches its own function through the template, with the
// authorizer or without it as the table says; and every route of the
// template leads to a function that serves something under it, with the
// same authorizer setting.
func TestTemplateRoutesAreTheRouteTable(t *testing.T) {
	tmpl := templateRoutes(t)
	used := make([]bool, len(tmpl))
	for fn, routes := range wiring.Routes() {
		for _, r := range routes {
			best := -1
			for i, tr := range tmpl {
				if tr.covers(r.Method, sample(r)) && (best < 0 || tr.specificity() > tmpl[best].specificity()) {
					best = i
				}
			}
			if best < 0 {
				t.Errorf("%s serves %s %s, but the template does not route it", fn, r.Method, r.Path)
				continue
			}
			tr := tmpl[best]
			used[best] = true
			if tr.fn != fn {
				t.Errorf("the template routes %s %s to %s; %s serves it", r.Method, r.Path, tr.fn, fn)
			}
			if tr.public != r.Public {
				t.Errorf("%s %s: the template's authorizer is %v; the route table says public=%v", r.Method, r.Path, map[bool]string{true: "NONE", false: "on"}[tr.public], r.Public)
			}
		}
	}
	for i, tr := range tmpl {
		if !used[i] {
			t.Errorf("the template routes %s %s to %s, which serves nothing there", tr.method, tr.path, tr.fn)
		}
	}
}

// The OpenAPI document describes every route of the sessions and admin
// APIs, and nothing else, except the console's static files and the
// Shared Signals receiver (whose body is a signed token, not JSON).
func TestOpenAPIIsTheRouteTable(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	raw, err := os.ReadFile("../../shared/adminapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var described []string
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				described = append(described, strings.ToUpper(m)+" "+path)
			}
		}
	}
	var served []string
	for _, routes := range wiring.Routes() {
		for _, r := range routes {
			if strings.HasPrefix(r.Path, "/console/") || r.Path == "/signals" {
				continue
			}
			served = append(served, r.Pattern())
		}
	}
	slices.Sort(described)
	slices.Sort(served)
	for _, s := range served {
		if !slices.Contains(described, s) {
			t.Errorf("%s is served but not in the OpenAPI document", s)
		}
	}
	for _, d := range described {
		if !slices.Contains(served, d) {
			t.Errorf("the OpenAPI document describes %s, which nothing serves", d)
		}
	}
}

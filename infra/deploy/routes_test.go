package deploy

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/adminapi"
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
	r := translated(t)
	// Every route is on the one HTTP API: no other API (an event without
	// ApiId makes SAM add one, with no authorizer), no function URL.
	for id, res := range r {
		switch res.Type {
		case "AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi":
			if id != "Api" {
				t.Errorf("the template has another API, %s (%s): its routes escape the route table", id, res.Type)
			}
		case "AWS::Lambda::Url":
			t.Errorf("the template has a function URL, %s: a route outside the API and its authorizer", id)
		}
	}
	paths, _ := get(r["Api"].Properties, "Body", "paths").(map[string]any)
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

// moreSpecific reports whether API Gateway would choose tr over o for a
// request both take: no greedy segment first, then the longer literal
// prefix, then an exact method before ANY (the path orders what is left,
// so the choice never depends on map order).
func (tr templateRoute) moreSpecific(o templateRoute) bool {
	greedy := func(r templateRoute) bool { return strings.Contains(r.path, "{proxy+}") }
	literal := func(r templateRoute) int {
		if i := strings.Index(r.path, "{"); i >= 0 {
			return i
		}
		return len(r.path)
	}
	switch {
	case greedy(tr) != greedy(o):
		return !greedy(tr)
	case literal(tr) != literal(o):
		return literal(tr) > literal(o)
	case (tr.method == "ANY") != (o.method == "ANY"):
		return tr.method != "ANY"
	}
	return tr.path < o.path
}

// The template routes exactly what the functions serve: every route of
// wiring.Routes reaches its own function through the template, with the
// authorizer or without it as the table says; and every route of the
// template leads to a function that serves something under it, with the
// same authorizer setting.
func TestTemplateRoutesAreTheRouteTable(t *testing.T) {
	needs.Parts(t, needs.SAMTranslator)
	tmpl := templateRoutes(t)
	used := make([]bool, len(tmpl))
	for fn, routes := range wiring.Routes() {
		for _, r := range routes {
			best := -1
			for i, tr := range tmpl {
				if tr.covers(r.Method, sample(r)) && (best < 0 || tr.moreSpecific(tmpl[best])) {
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
		// ANY belongs to a catch-all path; on a path of its own it routes
		// methods nothing serves there.
		if tr.method == "ANY" && !strings.Contains(tr.path, "{proxy+}") {
			t.Errorf("the template routes ANY %s; name the methods the table serves there", tr.path)
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
	if err := json.Unmarshal(adminapi.OpenAPI, &doc); err != nil { // the document the API serves
		t.Fatal(err)
	}
	var described []string
	needsSession := map[string]bool{} // operations whose security names the session
	for path, ops := range doc.Paths {
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			described = append(described, strings.ToUpper(m)+" "+path)
			var o struct {
				Security []map[string]any `json:"security"`
			}
			json.Unmarshal(op, &o)
			needsSession[strings.ToUpper(m)+" "+path] = len(o.Security) > 0
			for _, req := range o.Security {
				if _, ok := req["session"]; !ok {
					needsSession[strings.ToUpper(m)+" "+path] = false
				}
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
			if !r.Public && !needsSession[r.Pattern()] {
				t.Errorf("%s is behind the authorizer, but the OpenAPI document does not require the session (and token) for it", r.Pattern())
			}
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

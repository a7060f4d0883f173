// Package route is the shape of the route tables that the API packages
// export: what each function serves over HTTP, and whether API Gateway's
// authorizer stands in front of it. The template's events, the OpenAPI
// document and the local gateway are held to these tables by tests, in
// both directions, so that a route served but not deployed (or deployed
// but not served) fails a test.
package route

// Route is one method on one path.
type Route struct {
	Method string
	// Path is a net/http pattern path: literal segments, {name} for one
	// segment, {name...} for the rest of the path.
	Path string
	// Public routes have no authorizer in front of them: the function
	// checks its caller itself (a token at sign-in, a signed logout token
	// or SET) or serves what anyone may read (the console's files, the
	// OpenAPI document).
	Public bool
}

// Pattern is the net/http ServeMux pattern of r.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

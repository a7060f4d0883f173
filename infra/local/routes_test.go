package local

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/shared/wiring"
)

// The local gateway serves the route table, as the template does: every
// route reaches its function, through the authorizer unless it is public;
// a path outside the table is the gateway's own 404.
func TestGatewayIsTheRouteTable(t *testing.T) {
	s, _ := startStack(t)
	fill := strings.NewReplacer("{env}", "demo", "{id}", "x", "{user}", "bob", "{file...}", "index.html")
	call := func(method, path string) (int, string, string) {
		req, _ := http.NewRequest(method, s.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for fn, routes := range wiring.Routes() {
		for _, r := range routes {
			status, ctype, body := call(r.Method, fill.Replace(r.Path))
			gateway401 := status == 401 && ctype == "application/json" && strings.Contains(body, `"Unauthorized"`)
			switch {
			case status == 404 && strings.Contains(body, `"Not Found"`):
				t.Errorf("%s %s (%s): the gateway does not route it", r.Method, r.Path, fn)
			case r.Public && gateway401:
				t.Errorf("%s %s (%s) is public, but the gateway's authorizer refused it", r.Method, r.Path, fn)
			case !r.Public && !gateway401:
				t.Errorf("%s %s (%s) without a token = %d %s %s; want the authorizer's 401", r.Method, r.Path, fn, status, ctype, body)
			}
		}
	}
	for _, path := range []string{"/sessions/other/x", "/sessionsx", "/environmentsx", "/environments/demo/unknown", "/transmitters/other", "/signalsx"} {
		if status, _, body := call("POST", path); status != 404 || !strings.Contains(body, `"Not Found"`) {
			t.Errorf("POST %s, outside the route table = %d %s; want the gateway's 404", path, status, body)
		}
	}
}

// The gateway serves the route table and nothing else but the stack's own
// named routes: every pattern it registered is a table route, forwarded to
// the table's function with the authorizer as the table says, or one of
// the local-only routes listed here.
func TestGatewayServesNothingOutsideTheTable(t *testing.T) {
	s, _ := startStack(t)
	want := map[gatewayRoute]bool{}
	for fn, routes := range wiring.Routes() {
		for _, r := range routes {
			want[gatewayRoute{r.Path, fn, !r.Public}] = true
		}
	}
	local := map[gatewayRoute]bool{ // the stack's own: not in the template
		{"/example/", "example", true}: true, {"/demo", "demo", true}: true, {"/demo/", "demo", true}: true,
		{"GET /app", "", false}: true, {"GET /spa/", "", false}: true, {"/directory/", "", false}: true,
		{"POST /local/run-checks", "", false}: true, {"POST /local/poll", "", false}: true,
		{"POST /local/cloudtrail", "", false}: true, {"GET /local/dpop/", "", false}: true, {"/", "", false}: true,
		{"/staging/", "stage staging", false}: true, // every route again, as the named stage staging
	}
	got := map[gatewayRoute]bool{}
	for _, g := range s.gateway {
		got[g] = true
		if !want[g] && !local[g] {
			t.Errorf("the gateway serves %+v, which is neither a route of the table nor a local-only route", g)
		}
	}
	for w := range want {
		if !got[w] {
			t.Errorf("the gateway lacks %+v of the route table", w)
		}
	}
}

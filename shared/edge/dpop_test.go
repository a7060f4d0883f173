package edge

import (
	"net/http"
	"os"
	"testing"

	"github.com/sessionguard/sessionguard/shared/dpop"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// TestDPoPHeaderOnce: the DPoP header is an identity header: sent under
// two spellings, twice in multiValueHeaders, or with values joined by a
// comma, it is refused (401 dpop_invalid) before the handler runs; once,
// it passes.
func TestDPoPHeaderOnce(t *testing.T) {
	c := Config{}
	c.Sources = c.Sources.WithDefaults()
	for _, tc := range []struct {
		name    string
		headers map[string]string
		multi   map[string][]string
		want    reason.Code
	}{
		{"once", map[string]string{"dpop": "a.b.c"}, nil, ""},
		{"once in each REST map", map[string]string{"DPoP": "a.b.c"}, map[string][]string{"DPoP": {"a.b.c"}}, ""},
		{"two spellings", map[string]string{"DPoP": "a.b.c", "dpop": "d.e.f"}, nil, reason.DPoPInvalid},
		{"comma-joined", map[string]string{"dpop": "a.b.c,d.e.f"}, nil, reason.DPoPInvalid},
		{"twice in multiValueHeaders", nil, map[string][]string{"DPoP": {"a.b.c", "d.e.f"}}, reason.DPoPInvalid},
		{"once under each spelling in multiValueHeaders", nil, map[string][]string{"DPoP": {"a.b.c"}, "DPOP": {"a.b.c"}}, reason.DPoPInvalid},
	} {
		x := c.checkIdentity(tc.headers, tc.multi, nil)
		switch {
		case tc.want == "" && x != nil:
			t.Errorf("%s: refused %v; want accepted", tc.name, x)
		case tc.want != "" && (x == nil || x.Reason != tc.want || x.Status != http.StatusUnauthorized || x.Field != "DPoP"):
			t.Errorf("%s: %v; want 401 %s naming DPoP", tc.name, x, tc.want)
		}
	}
}

// TestRequestAsCalled: the handler finds in its context the request as
// the client called it (dpop.RequestFrom), for a proof's htm and htu: on
// a named stage the path before the stage is taken off (the handler's own
// path has none); through a REST API the requestContext path, which keeps
// the stage (or a custom domain's base path). Without a domain name no
// host: the Host header, which the client chooses, never names it (a
// proof then fails htu); without rawPath, requestContext.http.path.
func TestRequestAsCalled(t *testing.T) {
	var got dpop.Request
	var path string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = dpop.RequestFrom(r.Context())
		path = r.URL.Path
		w.WriteHeader(http.StatusNoContent)
	})
	v2 := `{"version":"2.0","rawPath":"/staging/sessions","headers":{"host":"ignored.example"},
"requestContext":{"stage":"staging","domainName":"api.example.com","http":{"method":"POST","path":"/staging/sessions"}}}`
	if code, _ := invoke(t, NewV2(h, Config{}), v2); code != http.StatusNoContent || path != "/sessions" ||
		got != (dpop.Request{Method: "POST", Host: "api.example.com", Path: "/staging/sessions"}) {
		t.Errorf("payload 2.0 on a named stage: %d, handler path %q, request %+v; want /sessions and POST api.example.com /staging/sessions", code, path, got)
	}
	noDomain := `{"version":"2.0","headers":{"host":"evil.example"},"requestContext":{"http":{"method":"GET","path":"/sessions"}}}`
	if code, _ := invoke(t, NewV2(h, Config{}), noDomain); code != http.StatusNoContent || got != (dpop.Request{Method: "GET", Path: "/sessions"}) {
		t.Errorf("payload 2.0 without a domain name or rawPath: %d, request %+v; want no host (never the Host header's), the path of requestContext.http", code, got)
	}
	raw, err := os.ReadFile("testdata/rest-proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	want := dpop.Request{Method: "GET", Host: "k9l8m7n6o5.execute-api.eu-west-1.amazonaws.com", Path: "/prod/items"}
	if code, _ := invoke(t, NewREST(h, Config{}), string(raw)); code != http.StatusNoContent || got != want {
		t.Errorf("REST: %d, request %+v; want %+v (requestContext.path keeps the stage)", code, got, want)
	}
}

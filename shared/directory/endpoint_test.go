package directory_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// sentRecorder is a transport that records what is sent and answers 500.
type sentRecorder struct{ sent []string }

func (r *sentRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.sent = append(r.sent, req.Method+" "+req.URL.String())
	return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// Directories are asked over https only (plain http only to a loopback
// host), the Graph token endpoint too: their requests carry a bearer
// token or the app's client secret. A plain-http URL is refused before
// anything is sent, and a redirect to one is not followed.
func TestEndpointsAreHTTPS(t *testing.T) {
	rec := &sentRecorder{}
	hc := &http.Client{Transport: rec}
	for name, a := range map[string]checker{
		"http-json":   &directory.HTTPJSON{BaseURL: "http://dir.example", Token: "t", Client: hc},
		"scim":        &directory.SCIM{BaseURL: "http://dir.example/scim/v2", Token: "t", Client: hc},
		"graph token": &directory.Graph{TokenURL: "http://login.example/t/oauth2/v2.0/token", ClientID: "app", ClientSecret: "s3cret", Client: hc},
	} {
		t.Run(name, func(t *testing.T) {
			rec.sent = nil
			r := a.Check(context.Background(), []string{"alice"})[0]
			if !errors.Is(r.Err, endpoint.ErrInsecure) || r.State != directory.Unknown {
				t.Errorf("Check = %v, %v; want Unknown with ErrInsecure", r.State, r.Err)
			}
			if len(rec.sent) != 0 {
				t.Errorf("sent over plain http: %q", rec.sent)
			}
		})
	}
	// With a token in hand, Graph's own URL must be https as well.
	dir := devdir.New()
	dir.Put("alice", devdir.User{Enabled: true})
	srv := httptest.NewServer(dir)
	defer srv.Close()
	g := &directory.Graph{TokenURL: srv.URL + "/graph/token", GraphURL: strings.Replace(srv.URL, "127.0.0.1", "graph.example", 1) + "/graph/v1.0", ClientID: "app", ClientSecret: "s3cret"}
	if r := g.Check(context.Background(), []string{"alice"})[0]; !errors.Is(r.Err, endpoint.ErrInsecure) {
		t.Errorf("graph over plain http = %v, %v; want ErrInsecure", r.State, r.Err)
	}

	// A loopback directory that redirects to a plain-http host elsewhere:
	// the redirect is refused before it is followed.
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://dir.example"+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	for name, a := range map[string]checker{
		"http-json": &directory.HTTPJSON{BaseURL: redirect.URL, Token: "t"},
		"scim":      &directory.SCIM{BaseURL: redirect.URL + "/scim/v2", Token: "t"},
	} {
		if r := a.Check(context.Background(), []string{"alice"})[0]; !errors.Is(r.Err, endpoint.ErrInsecure) {
			t.Errorf("%s redirected to plain http = %v, %v; want ErrInsecure", name, r.State, r.Err)
		}
	}
}

// The Graph token request carries the client secret: a redirect from the
// token endpoint (a 307 keeps the body) is not followed, so the secret
// reaches no other host, even an https one.
func TestTokenRequestFollowsNoRedirect(t *testing.T) {
	var secretSeen bool
	other := httptest.NewTLSServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		secretSeen = secretSeen || strings.Contains(string(b), "s3cret")
	}))
	defer other.Close()
	token := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer token.Close()
	hc := token.Client()
	hc.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(other.Certificate())
	g := &directory.Graph{TokenURL: token.URL + "/token", GraphURL: "https://graph.example/v1.0", ClientID: "app", ClientSecret: "s3cret", Client: hc}
	res := g.Check(context.Background(), []string{"alice"})
	if len(res) != 1 || res[0].Err == nil {
		t.Errorf("Check through a redirecting token endpoint = %+v; want an error", res)
	}
	if secretSeen {
		t.Error("the client secret was sent on to the redirect's host")
	}
}

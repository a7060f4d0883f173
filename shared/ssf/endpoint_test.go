package ssf

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// sentRecorder is a transport that answers 200 {} to everything and records
// what was sent.
type sentRecorder struct{ sent []string }

func (r *sentRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.sent = append(r.sent, req.Method+" "+req.URL.String()+" "+req.Header.Get("Authorization"))
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: req}, nil
}

// The transmitter's metadata and every endpoint it names (which are sent
// the stream's bearer credential) are called over https only, or plain
// http to a loopback host: a plain-http endpoint learned at run time is
// refused before anything is sent to it.
func TestEndpointsAreHTTPS(t *testing.T) {
	ctx := context.Background()
	rec := &sentRecorder{}
	hc := &http.Client{Transport: rec}
	if _, err := Discover(ctx, hc, "http://tx.example/"); !errors.Is(err, endpoint.ErrInsecure) {
		t.Errorf("Discover(http issuer) = %v; want ErrInsecure", err)
	}
	insecure := &Client{HTTP: hc, Bearer: "stream-credential", Meta: Metadata{Issuer: "https://tx.example/",
		ConfigurationEndpoint: "http://tx.example/ssf/stream", StatusEndpoint: "http://tx.example/ssf/status", VerificationEndpoint: "http://tx.example/ssf/verify"}}
	calls := map[string]error{
		"create":     errOnly(insecure.Create(ctx, StreamConfig{})),
		"get":        errOnly(insecure.Get(ctx, "s-1")),
		"update":     errOnly(insecure.Update(ctx, StreamConfig{StreamID: "s-1"})),
		"status":     errOnly(insecure.Status(ctx, "s-1")),
		"set status": errOnly(insecure.SetStatus(ctx, Status{StreamID: "s-1", Status: "enabled"})),
		"verify":     insecure.Verify(ctx, "s-1", "state"),
		"poll":       errOnly(Poll(ctx, hc, "http://tx.example/ssf/poll", "stream-credential", PollRequest{})),
	}
	for name, err := range calls {
		if !errors.Is(err, endpoint.ErrInsecure) || !strings.Contains(err.Error(), "http://tx.example/") {
			t.Errorf("%s over plain http = %v; want ErrInsecure naming the URL", name, err)
		}
	}
	if len(rec.sent) != 0 {
		t.Errorf("requests sent over plain http: %q", rec.sent)
	}
	// https, and plain http to loopback, are called.
	for _, u := range []string{"https://tx.example/ssf/stream", "http://127.0.0.1:8080/ssf/stream", "http://localhost:8080/ssf/stream", "http://[::1]:8080/ssf/stream"} {
		c := &Client{HTTP: hc, Bearer: "stream-credential", Meta: Metadata{ConfigurationEndpoint: u}}
		if _, err := c.Get(ctx, "s-1"); err != nil {
			t.Errorf("Get at %s = %v; want it called", u, err)
		}
	}
	if len(rec.sent) != 4 {
		t.Errorf("requests sent = %q; want the 4 to https and loopback", rec.sent)
	}
}

func errOnly[T any](_ T, err error) error { return err }

package directory_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sessionguard/sessionguard/shared/directory"
)

// tokenEndpoint answers the Graph token request: first the statuses in
// fail (429 with Retry-After 0, or another), then a token valid for
// expiresIn seconds; batch requests get an empty batch answer.
func tokenEndpoint(t *testing.T, expiresIn int, fail ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"responses":[]}`)
			return
		}
		i := int(n.Add(1)) - 1
		r.ParseForm()
		if r.Header.Get("Authorization") != "" || r.PostForm.Get("client_secret") != "s3cret" || r.PostForm.Get("client_id") != "app" ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "https://graph.microsoft.com/.default" {
			t.Errorf("token request: Authorization %q, form %v; want the client credentials in the form", r.Header.Get("Authorization"), r.PostForm)
		}
		if i < len(fail) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(fail[i])
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":%d}`, i, expiresIn)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func graphAt(srv *httptest.Server) *directory.Graph {
	return &directory.Graph{TokenURL: srv.URL + "/token", GraphURL: srv.URL + "/v1.0", ClientID: "app", ClientSecret: "s3cret"}
}

// The app token is kept until a minute before it expires: a token valid
// for two minutes serves the next check; one valid for less than a minute
// is fetched again.
func TestGraphTokenIsKeptUntilAMinuteBeforeItExpires(t *testing.T) {
	for _, c := range []struct {
		expiresIn int
		want      int64
	}{{120, 1}, {59, 2}, {0, 2}} {
		srv, n := tokenEndpoint(t, c.expiresIn)
		g := graphAt(srv)
		for range 2 {
			if r := g.Check(context.Background(), []string{"alice"})[0]; errors.Is(r.Err, directory.ErrThrottled) || (r.Err != nil && strings.Contains(r.Err.Error(), "token")) {
				t.Fatalf("expires_in %d: Check = %v", c.expiresIn, r.Err)
			}
		}
		if got := n.Load(); got != c.want {
			t.Errorf("expires_in %d: two checks fetched %d tokens; want %d", c.expiresIn, got, c.want)
		}
	}
}

// The token request is retried after 429 and 503, as every directory
// request is, and any other answer is an error naming the status.
func TestGraphTokenRetriesAndStatuses(t *testing.T) {
	srv, n := tokenEndpoint(t, 3600, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	if r := graphAt(srv).Check(context.Background(), []string{"alice"})[0]; r.Err != nil && strings.Contains(r.Err.Error(), "token") {
		t.Errorf("token after 429, 503: %v; want a token", r.Err)
	}
	if n.Load() != 3 {
		t.Errorf("token requests = %d; want 3", n.Load())
	}
	srv, _ = tokenEndpoint(t, 3600, http.StatusBadRequest)
	want := "directory: graph token endpoint answered 400"
	if r := graphAt(srv).Check(context.Background(), []string{"alice"})[0]; r.Err == nil || r.Err.Error() != want {
		t.Errorf("token answered 400: Check = %v; want %q", r.Err, want)
	}
	srv, _ = tokenEndpoint(t, 3600, http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusTooManyRequests)
	if r := graphAt(srv).Check(context.Background(), []string{"alice"})[0]; !errors.Is(r.Err, directory.ErrThrottled) {
		t.Errorf("token throttled past the retries: Check = %v; want ErrThrottled", r.Err)
	}
}

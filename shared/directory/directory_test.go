package directory_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/shared/directory"
)

type checker interface {
	Check(ctx context.Context, subjects []string) []directory.Result
	BatchSize() int
}

func adapters(url string) map[string]checker {
	return map[string]checker{
		"http-json": &directory.HTTPJSON{BaseURL: url},
		"scim":      &directory.SCIM{BaseURL: url + "/scim/v2"},
		"graph":     &directory.Graph{TokenURL: url + "/graph/token", GraphURL: url + "/graph/v1.0", ClientID: "app", ClientSecret: "s3cret"},
	}
}

func TestStates(t *testing.T) {
	dir := devdir.New()
	srv := httptest.NewServer(dir)
	defer srv.Close()
	from := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	dir.Put("alice", devdir.User{Enabled: true})
	dir.Put("bob", devdir.User{Enabled: false})
	dir.Put("carol", devdir.User{Enabled: true, SessionsValidFrom: from})
	for name, a := range adapters(srv.URL) {
		t.Run(name, func(t *testing.T) {
			got := a.Check(context.Background(), []string{"alice", "tenant/bob", "carol", "dave"})
			want := []directory.State{directory.Active, directory.Disabled, directory.Active, directory.Deleted}
			for i, r := range got {
				if r.Err != nil || r.State != want[i] {
					t.Errorf("user %d = %v, %v; want %v", i, r.State, r.Err, want[i])
				}
			}
			if name != "scim" && !got[2].SessionsValidFrom.Equal(from) {
				t.Errorf("carol's sessions valid from %v; want %v", got[2].SessionsValidFrom, from)
			}
		})
	}
}

func TestOutageAndThrottling(t *testing.T) {
	dir := devdir.New()
	srv := httptest.NewServer(dir)
	defer srv.Close()
	dir.Put("alice", devdir.User{Enabled: true})
	for name, a := range adapters(srv.URL) {
		t.Run(name, func(t *testing.T) {
			a.Check(context.Background(), []string{"alice"}) // Graph: fetch the app token first
			dir.SetDown(true)
			if r := a.Check(context.Background(), []string{"alice"})[0]; r.Err == nil {
				t.Errorf("directory down: %v; want an error (and no verdict)", r.State)
			}
			dir.SetDown(false)
			dir.Throttle(2, "0") // retried after Retry-After
			if r := a.Check(context.Background(), []string{"alice"})[0]; r.Err != nil || r.State != directory.Active {
				t.Errorf("throttled twice: %v, %v; want active after the retries", r.State, r.Err)
			}
			dir.Throttle(1, "120") // a Retry-After past the deadline is not waited for
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if r := a.Check(ctx, []string{"alice"})[0]; !errors.Is(r.Err, directory.ErrThrottled) {
				t.Errorf("Retry-After past the deadline: %v; want ErrThrottled", r.Err)
			}
			dir.Throttle(0, "")
		})
	}
}

func TestGraphBatchesTwentyUsers(t *testing.T) {
	dir := devdir.New()
	srv := httptest.NewServer(dir)
	defer srv.Close()
	var ids []string
	for i := range 20 {
		id := string(rune('a'+i)) + "-user"
		dir.Put(id, devdir.User{Enabled: i%2 == 0})
		ids = append(ids, id)
	}
	g := adapters(srv.URL)["graph"]
	g.Check(context.Background(), ids[:1]) // token
	before := dir.Requests()
	res := g.Check(context.Background(), ids)
	if n := dir.Requests() - before; n != 1 {
		t.Errorf("20 users took %d requests; want 1 batch", n)
	}
	for i, r := range res {
		if want := map[bool]directory.State{true: directory.Active, false: directory.Disabled}[i%2 == 0]; r.Err != nil || r.State != want {
			t.Errorf("user %d = %v %v; want %v", i, r.State, r.Err, want)
		}
	}
}

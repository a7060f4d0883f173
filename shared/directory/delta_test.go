package directory

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestGraphDeltaEntries(t *testing.T) {
	from := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		entry string
		want  Change
	}{
		{`{"id":"a","accountEnabled":true,"signInSessionsValidFromDateTime":"2026-11-30T09:00:00Z"}`, Change{ID: "a", Complete: true, Result: Result{State: Active, SessionsValidFrom: from}}},
		{`{"id":"a","accountEnabled":true,"signInSessionsValidFromDateTime":null}`, Change{ID: "a", Complete: true, Result: Result{State: Active}}},
		{`{"id":"a","accountEnabled":false}`, Change{ID: "a", Complete: true, Result: Result{State: Disabled}}},
		{`{"id":"a","@removed":{"reason":"changed"}}`, Change{ID: "a", Complete: true, Result: Result{State: Deleted}}},
		{`{"id":"a","@removed":{"reason":"deleted"}}`, Change{ID: "a", Complete: true, Result: Result{State: Deleted}}},
		// What the entry does not carry is asked user by user.
		{`{"id":"a","accountEnabled":true}`, Change{ID: "a"}},
		{`{"id":"a","displayName":"A"}`, Change{ID: "a"}},
	} {
		var e map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.entry), &e); err != nil {
			t.Fatal(err)
		}
		got, err := deltaEntry(e)
		if err != nil || got != c.want {
			t.Errorf("deltaEntry(%s) = %+v, %v; want %+v", c.entry, got, err, c.want)
		}
	}
	for _, bad := range []string{`{"accountEnabled":true}`, `{"id":"a","accountEnabled":"yes"}`, `{"id":"a","accountEnabled":true,"signInSessionsValidFromDateTime":"soon"}`} {
		var e map[string]json.RawMessage
		json.Unmarshal([]byte(bad), &e)
		if _, err := deltaEntry(e); err == nil {
			t.Errorf("deltaEntry(%s) accepted", bad)
		}
	}
}

// A delta link is followed only under the configured Graph URL: a cursor
// or nextLink pointing elsewhere is refused before any request.
func TestGraphDeltaStaysOnGraph(t *testing.T) {
	var hits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	g := &Graph{TokenURL: other.URL + "/token", GraphURL: "https://graph.example/v1.0", ClientID: "a", ClientSecret: "s"}
	g.token = &oauth2.Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}
	for _, cursor := range []string{other.URL + "/v1.0/users/delta?$deltatoken=1", "https://graph.example/v1.0/users/deltax?$deltatoken=1", "https://graph.example.evil/v1.0/users/delta?x"} {
		if _, _, err := g.Changes(context.Background(), cursor); err == nil || !strings.Contains(err.Error(), "is not under") {
			t.Errorf("Changes(%s) = %v; want refused", cursor, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("%d requests reached another host", hits.Load())
	}
}

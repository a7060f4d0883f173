package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/ssf"
	"github.com/sessionguard/sessionguard/shared/token"
)

// withStreams gives the fixture the development transmitter, a push
// receiver, and a stream manager; it returns the ?issuer= query.
func (f *fixture) withStreams(t *testing.T) string {
	t.Helper()
	sv, err := token.NewVerifier(token.Config{Issuers: []token.Issuer{{Issuer: f.idp.URL(), Audiences: []string{devidp.SETAudience}}}, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	rc := signals.New(signals.Config{Verifier: sv, Store: f.store, Verifications: f.store, Environments: []string{"demo"}, Now: f.clock.Now})
	push := httptest.NewServer(rc)
	t.Cleanup(push.Close)
	f.api.cfg.Transmitters = []string{f.idp.URL()}
	f.api.cfg.StreamStore = f.store
	f.api.cfg.Streams = &ssf.Manager{Store: f.store, PushURL: push.URL, Now: f.clock.Now, Transmitters: []ssf.Transmitter{{Issuer: f.idp.URL(), Audience: devidp.SETAudience,
		Credential: func(context.Context) (string, error) { return devidp.TransmitterCredential, nil }}}}
	return "?issuer=" + url.QueryEscape(f.idp.URL())
}

// atTransmitter reports whether the development transmitter has stream id.
func (f *fixture) atTransmitter(t *testing.T, id string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.idp.URL()+"/ssf/streams?stream_id="+url.QueryEscape(id), nil)
	req.Header.Set("Authorization", "Bearer "+devidp.TransmitterCredential)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// After the transmitter forgot the stream (it restarted without a
// persistent store), setting up the stream again creates it afresh
// instead of answering 502; the calls that need the stream say what to do
// (409), and the listing says so too.
func TestSetupAfterTheTransmitterForgotTheStream(t *testing.T) {
	f := newFixture(t)
	q := f.withStreams(t)
	admin := f.admin(t)
	r := f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	first, _ := get(r.json(t), "stream", "streamId").(string)
	if r.status != 200 || first == "" {
		t.Fatalf("setup = %d %s", r.status, r.body)
	}
	f.idp.ForgetStreams()

	r = f.call(t, "GET", "/transmitters", admin, nil, "")
	list, _ := r.json(t)["transmitters"].([]any)
	if p, _ := get(list[0], "problem").(string); r.status != 200 || !strings.Contains(p, "no longer knows this stream") {
		t.Errorf("transmitters = %d %s; want the problem: the transmitter no longer knows the stream", r.status, r.body)
	}
	if r := f.call(t, "POST", "/transmitters/stream/verify"+q, admin, nil, ""); r.status != 409 || !strings.Contains(string(r.body), "set it up again") {
		t.Errorf("verify a forgotten stream = %d %s; want 409 saying to set it up again", r.status, r.body)
	}
	r = f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	second, _ := get(r.json(t), "stream", "streamId").(string)
	if r.status != 200 || second == "" || second == first {
		t.Fatalf("setup after the transmitter forgot the stream = %d %s; want 200 and a new stream (not %s)", r.status, r.body, first)
	}
	if got := get(r.json(t), "status", "status"); got != "enabled" {
		t.Errorf("status of the new stream = %v; want enabled", got)
	}
	if r := f.call(t, "POST", "/transmitters/stream/verify"+q, admin, nil, ""); r.status != 200 || r.json(t)["verified"] != true {
		t.Errorf("verify the new stream = %d %s; want verified", r.status, r.body)
	}
}

// DELETE /transmitters/stream resets the stream: deleted at the
// transmitter (a stream it no longer knows is fine), forgotten here, and
// the next setup creates a new one. Global admins only; the issuer must be
// a configured transmitter (problem+json naming issuer).
func TestResetStream(t *testing.T) {
	f := newFixture(t)
	q := f.withStreams(t)
	admin := f.admin(t)

	if r := f.call(t, "DELETE", "/transmitters/stream"+q, f.token(t, "ops", "sessionguard-admin:demo"), nil, ""); r.status != 403 {
		t.Errorf("an environment admin resetting a stream: %d; want 403", r.status)
	}
	if r := f.call(t, "DELETE", "/transmitters/stream?issuer=https://nope.example", admin, nil, ""); r.status != 400 || !slices.Equal(r.fields(t), []string{"issuer"}) {
		t.Errorf("reset at an unknown transmitter: %d %s; want 400 naming issuer", r.status, r.body)
	}
	if r := f.call(t, "DELETE", "/transmitters/stream"+q, admin, nil, ""); r.status != 200 || r.json(t)["stream"] != nil {
		t.Errorf("reset without a stream = %d %s; want 200, no stream", r.status, r.body)
	}
	r := f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"poll"}`)
	first, _ := get(r.json(t), "stream", "streamId").(string)
	if r.status != 200 || !f.atTransmitter(t, first) {
		t.Fatalf("setup = %d %s", r.status, r.body)
	}

	r = f.call(t, "DELETE", "/transmitters/stream"+q, admin, nil, "")
	if r.status != 200 || r.json(t)["stream"] != nil || r.json(t)["issuer"] != f.idp.URL() {
		t.Fatalf("reset = %d %s; want 200, the transmitter without a stream", r.status, r.body)
	}
	if f.atTransmitter(t, first) {
		t.Errorf("stream %s is still at the transmitter after the reset", first)
	}
	if s, _, _ := f.store.Stream(context.Background(), f.idp.URL()); s.StreamID != "" || s.PollURL != "" {
		t.Errorf("stored after the reset: %+v; want no stream", s)
	}
	if r := f.call(t, "POST", "/transmitters/stream/verify"+q, admin, nil, ""); r.status != 409 {
		t.Errorf("verify after the reset = %d; want 409 (set up a stream first)", r.status)
	}
	if !strings.Contains(f.logs.String(), `"action":"stream reset"`) || !strings.Contains(f.logs.String(), first) {
		t.Errorf("no audit line for the reset of %s:\n%s", first, f.logs)
	}

	r = f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	second, _ := get(r.json(t), "stream", "streamId").(string)
	if r.status != 200 || second == "" || second == first {
		t.Fatalf("setup after the reset = %d %s; want a new stream", r.status, r.body)
	}

	// The transmitter forgot the stream: the reset still clears it here.
	f.idp.ForgetStreams()
	if r := f.call(t, "DELETE", "/transmitters/stream"+q, admin, nil, ""); r.status != 200 || r.json(t)["stream"] != nil {
		t.Errorf("reset of a stream the transmitter forgot = %d %s; want 200", r.status, r.body)
	}

	// The transmitter refuses the delete: 502, and the stream stays.
	r = f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	third, _ := get(r.json(t), "stream", "streamId").(string)
	f.api.cfg.Streams.(*ssf.Manager).Transmitters[0].Credential = func(context.Context) (string, error) { return "not-the-credential", nil }
	if r := f.call(t, "DELETE", "/transmitters/stream"+q, admin, nil, ""); r.status != 502 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("reset refused by the transmitter = %d %s; want 502 problem+json", r.status, r.body)
	}
	if s, _, _ := f.store.Stream(context.Background(), f.idp.URL()); s.StreamID != third || !f.atTransmitter(t, third) {
		t.Errorf("after a refused reset: stored %+v; want %s kept here and there", s, third)
	}
}

// Every path of the OpenAPI document that the admin API serves allows
// exactly the methods the document lists (the 405 of another method names
// them in Allow): a route missing from either side fails.
func TestOpenAPIMethodsMatchTheRoutes(t *testing.T) {
	f := newFixture(t)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{env}", "demo", "{id}", "x", "{user}", "bob")
	for path, ops := range doc.Paths {
		if strings.HasPrefix(path, "/sessions") || path == "/backchannel-logout" || path == "/global-token-revocation" {
			continue // the sessions function's
		}
		var want []string
		for m := range ops {
			if m != "parameters" {
				want = append(want, strings.ToUpper(m))
			}
		}
		r := f.call(t, "TRACE", fill.Replace(path), "", nil, "")
		got := strings.Split(r.header.Get("Allow"), ", ")
		slices.Sort(want)
		slices.Sort(got)
		if r.status != 405 || !slices.Equal(got, want) {
			t.Errorf("%s: %d, Allow %v; the OpenAPI document lists %v", path, r.status, got, want)
		}
	}
}

// stubTransmitter is a transmitter whose update (PATCH) always answers
// 404 while it serves every stream it has (GET 200), and whose creates
// wait for each other until `together` have arrived (setups at once).
type stubTransmitter struct {
	*httptest.Server
	mu       sync.Mutex
	streams  map[string]bool
	n        int
	together int
	all      chan struct{} // closed when `together` creates have arrived
}

func newStubTransmitter(t *testing.T, together int) *stubTransmitter {
	t.Helper()
	st := &stubTransmitter{streams: map[string]bool{}, together: together, all: make(chan struct{})}
	mux := http.NewServeMux()
	st.Server = httptest.NewServer(mux)
	t.Cleanup(st.Close)
	mux.HandleFunc("GET /.well-known/ssf-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(ssf.Metadata{Issuer: st.URL, ConfigurationEndpoint: st.URL + "/streams", StatusEndpoint: st.URL + "/status"})
	})
	mux.HandleFunc("PATCH /streams", http.NotFound)
	mux.HandleFunc("GET /streams", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("stream_id")
		if !st.has(id) {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(ssf.StreamConfig{StreamID: id, Delivery: ssf.Delivery{Method: ssf.PushDelivery}})
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(ssf.Status{StreamID: r.URL.Query().Get("stream_id"), Status: "enabled"})
	})
	mux.HandleFunc("POST /streams", func(w http.ResponseWriter, _ *http.Request) {
		st.mu.Lock()
		st.n++
		id := fmt.Sprintf("st-%d", st.n)
		st.streams[id] = true
		if st.n == st.together {
			close(st.all)
		}
		st.mu.Unlock()
		select {
		case <-st.all:
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(ssf.StreamConfig{StreamID: id, Delivery: ssf.Delivery{Method: ssf.PushDelivery}})
	})
	mux.HandleFunc("DELETE /streams", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		defer st.mu.Unlock()
		delete(st.streams, r.URL.Query().Get("stream_id"))
		w.WriteHeader(http.StatusNoContent)
	})
	return st
}

func (st *stubTransmitter) has(id string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.streams[id]
}

func (st *stubTransmitter) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.streams)
}

// withStub makes st the fixture's one transmitter; it returns the
// ?issuer= query.
func (f *fixture) withStub(st *stubTransmitter) string {
	f.api.cfg.Transmitters = []string{st.URL}
	f.api.cfg.StreamStore = f.store
	f.api.cfg.Streams = &ssf.Manager{Store: f.store, PushURL: "https://api.example/signals", Now: f.clock.Now,
		Transmitters: []ssf.Transmitter{{Issuer: st.URL, Audience: devidp.SETAudience}}}
	return "?issuer=" + url.QueryEscape(st.URL)
}

// A transmitter that answers 404 to the update of the stored stream but
// still serves it has not lost it: the setup answers 502 (its log line
// says so), not 409 "the transmitter no longer knows this stream", and
// creates nothing.
func TestSetupWhenTheUpdateAnswers404ButTheStreamIsServed(t *testing.T) {
	f := newFixture(t)
	st := newStubTransmitter(t, 1)
	q := f.withStub(st)
	admin := f.admin(t)
	r := f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	first, _ := get(r.json(t), "stream", "streamId").(string)
	if r.status != 200 || !st.has(first) {
		t.Fatalf("setup = %d %s", r.status, r.body)
	}
	r = f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
	if r.status != 502 || r.header.Get("Content-Type") != "application/problem+json" || strings.Contains(string(r.body), "no longer knows") {
		t.Errorf("setup whose update answered 404 while the stream is served = %d %s; want 502 problem+json", r.status, r.body)
	}
	if !strings.Contains(f.logs.String(), ssf.ErrStreamNotUpdated.Error()) {
		t.Errorf("the log does not say the transmitter still serves the stream:\n%s", f.logs)
	}
	if n := st.count(); n != 1 {
		t.Errorf("the transmitter has %d streams; want the first one only", n)
	}
}

// Two setups at once (a double-click in the console) leave one stream:
// one answers 200, the other 409 after deleting the stream it created at
// the transmitter.
func TestTwoSetupsAtOnce(t *testing.T) {
	f := newFixture(t)
	st := newStubTransmitter(t, 2)
	q := f.withStub(st)
	admin := f.admin(t)
	rs := make([]response, 2)
	var wg sync.WaitGroup
	for i := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i] = f.call(t, "PUT", "/transmitters/stream"+q, admin, nil, `{"delivery":"push"}`)
		}()
	}
	wg.Wait()
	codes := []int{rs[0].status, rs[1].status}
	slices.Sort(codes)
	if !slices.Equal(codes, []int{200, 409}) {
		t.Fatalf("two setups at once = %d %s, %d %s; want 200 and 409", rs[0].status, rs[0].body, rs[1].status, rs[1].body)
	}
	stored, _, _ := f.store.Stream(context.Background(), st.URL)
	if n := st.count(); n != 1 || !st.has(stored.StreamID) {
		t.Errorf("the transmitter has %d streams, %s stored; want only the stored one", n, stored.StreamID)
	}
}

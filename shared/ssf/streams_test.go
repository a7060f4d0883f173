package ssf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/memstore"
	"github.com/sessionguard/sessionguard/shared/signals"
	"github.com/sessionguard/sessionguard/shared/stream"
)

// A transmitter that lost its streams (restarted without a persistent
// store) answers 404 to the stored stream id: setting up again creates the
// stream afresh and stores its new id, instead of failing.
func TestAStreamTheTransmitterForgotIsCreatedAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, devidp.TransmitterCredential)
	iss := f.idp.URL()
	first, _, err := f.m.Setup(ctx, iss, "push")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.m.RequestVerification(ctx, iss); err != nil || !s.Verified() {
		t.Fatalf("verification = %+v, %v; want verified", s, err)
	}
	f.idp.ForgetStreams()
	if _, err := f.m.Status(ctx, iss); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("Status of a forgotten stream = %v; want ErrStreamNotFound", err)
	}
	again, cfg, err := f.m.Setup(ctx, iss, "push")
	if err != nil {
		t.Fatalf("Setup after the transmitter forgot the stream = %v; want the stream created again", err)
	}
	if again.StreamID == "" || again.StreamID == first.StreamID || cfg.StreamID != again.StreamID {
		t.Fatalf("stream = %+v (config %s); want a new stream id, not %s", again, cfg.StreamID, first.StreamID)
	}
	if again.Verified() {
		t.Error("the new stream reads verified; want it verified again")
	}
	if stored, _, _ := f.store.Stream(ctx, iss); stored.StreamID != again.StreamID {
		t.Errorf("stored stream id = %s; want the new %s", stored.StreamID, again.StreamID)
	}
	if st, err := f.m.Status(ctx, iss); err != nil || st.Status != "enabled" {
		t.Errorf("status of the new stream = %+v, %v; want enabled", st, err)
	}
	if n, err := f.idp.Emit("carol", "session-revoked"); n != 1 || err != nil {
		t.Errorf("an event after the re-creation: %d delivered, %v; want 1", n, err)
	}
}

// Reset deletes the stream at the transmitter and forgets it, so the next
// setup creates one afresh; a stream the transmitter no longer knows (404)
// is forgotten all the same; a transmitter that refuses keeps it stored.
func TestResetDeletesAndForgetsTheStream(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, devidp.TransmitterCredential)
	iss := f.idp.URL()
	if s, err := f.m.Reset(ctx, iss); err != nil || s.StreamID != "" {
		t.Fatalf("Reset without a stream = %+v, %v; want nothing done", s, err)
	}
	first, _, err := f.m.Setup(ctx, iss, "poll")
	if err != nil {
		t.Fatal(err)
	}
	forgot, err := f.m.Reset(ctx, iss)
	if err != nil || forgot.StreamID != first.StreamID {
		t.Fatalf("Reset = %+v, %v; want stream %s forgotten", forgot, err, first.StreamID)
	}
	c, err := f.m.client(ctx, f.m.Transmitters[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, first.StreamID); !errors.Is(err, ErrStreamNotFound) {
		t.Errorf("the transmitter still has the reset stream: Get = %v; want ErrStreamNotFound", err)
	}
	if s, ok, _ := f.store.Stream(ctx, iss); ok && (s.StreamID != "" || s.PollURL != "" || s.Delivery != "") {
		t.Errorf("stored after the reset: %+v; want no stream", s)
	}
	if _, err := f.m.Status(ctx, iss); !errors.Is(err, ErrNoStream) {
		t.Errorf("Status after the reset = %v; want ErrNoStream", err)
	}
	if rep, err := f.m.Poll(ctx, f.receiver); err != nil || len(rep) != 0 {
		t.Errorf("Poll after the reset = %+v, %v; want nothing polled", rep, err)
	}
	second, _, err := f.m.Setup(ctx, iss, "push")
	if err != nil || second.StreamID == first.StreamID {
		t.Fatalf("Setup after the reset = %+v, %v; want a new stream", second, err)
	}

	// The transmitter forgot the stream: the 404 of the delete is ignored.
	f.idp.ForgetStreams()
	if s, err := f.m.Reset(ctx, iss); err != nil || s.StreamID != second.StreamID {
		t.Fatalf("Reset of a stream the transmitter forgot = %+v, %v; want it forgotten here too", s, err)
	}

	// The transmitter refuses the delete (a wrong credential): the stream
	// stays stored, to be reset again later.
	third, _, err := f.m.Setup(ctx, iss, "push")
	if err != nil {
		t.Fatal(err)
	}
	f.m.Transmitters[0].Credential = func(context.Context) (string, error) { return "not-the-credential", nil }
	if _, err := f.m.Reset(ctx, iss); err == nil {
		t.Fatal("Reset refused by the transmitter succeeded")
	}
	if s, _, _ := f.store.Stream(ctx, iss); s.StreamID != third.StreamID {
		t.Errorf("after a refused reset the stored stream is %+v; want %s kept", s, third.StreamID)
	}
}

// endlessPoll is a transmitter's poll endpoint that always has more: each
// request that asks for SETs gets one new one and moreAvailable. It keeps
// every request body and the jtis it served.
type endlessPoll struct {
	mu     sync.Mutex
	bodies []map[string]any
	served []string
}

func (e *endlessPoll) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.bodies = append(e.bodies, body)
	sets := map[string]string{}
	if body["maxEvents"] != 0.0 {
		jti := fmt.Sprintf("jti-%d", len(e.served)+1)
		e.served = append(e.served, jti)
		sets[jti] = "set-of-" + jti
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(PollResponse{Sets: sets, MoreAvailable: true})
}

// acked lists the jtis acknowledged over every request.
func (e *endlessPoll) acked() []string {
	var out []string
	for _, b := range e.bodies {
		for _, a := range b["ack"].([]any) {
			out = append(out, a.(string))
		}
	}
	return out
}

type acceptAll struct{}

func (acceptAll) Process(context.Context, string) signals.Outcome {
	return signals.Outcome{Status: http.StatusAccepted}
}

// When polling stops with SETs still coming (the run's rounds are spent,
// or its deadline is near), the last round's SETs are acknowledged by a
// last request asking for none (maxEvents 0, returnImmediately), so the
// transmitter does not deliver them again.
func TestPollAcknowledgesTheLastRoundBeforeStopping(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // 0: none
		rounds   int
	}{
		{"the rounds are spent", 0, maxPollRounds},
		{"the deadline is near", pollMargin - 3*time.Second, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			tx := &endlessPoll{}
			srv := httptest.NewServer(tx)
			defer srv.Close()
			const iss = "https://transmitter.example"
			store := memstore.New(nil)
			if _, err := store.PutStream(ctx, stream.Stream{Transmitter: iss, StreamID: "st-1", Delivery: "poll", PollURL: srv.URL}, ""); err != nil {
				t.Fatal(err)
			}
			m := &Manager{Store: store, Transmitters: []Transmitter{{Issuer: iss}}}
			rep, err := m.Poll(ctx, acceptAll{})
			if err != nil || rep[iss].Applied != tc.rounds {
				t.Fatalf("Poll = %+v, %v; want %d applied", rep, err, tc.rounds)
			}
			tx.mu.Lock()
			defer tx.mu.Unlock()
			if len(tx.bodies) != tc.rounds+1 {
				t.Errorf("%d requests; want %d rounds and one acknowledgement", len(tx.bodies), tc.rounds)
			}
			for _, jti := range tx.served {
				if !slices.Contains(tx.acked(), jti) {
					t.Errorf("%s was applied but never acknowledged: the transmitter delivers it again (served %v, acknowledged %v)", jti, tx.served, tx.acked())
				}
			}
			last := tx.bodies[len(tx.bodies)-1]
			if last["maxEvents"] != 0.0 || last["returnImmediately"] != true {
				t.Errorf("the last request = %v; want an acknowledgement asking for no SETs (maxEvents 0, returnImmediately)", last)
			}
		})
	}
}

// A transmitter whose update answers 404 while it still serves the stream
// (an update endpoint it does not have) gets no second stream: the setup
// fails with ErrStreamNotUpdated (the transmitter has not lost the
// stream), and the first one is not left delivering, unmanaged.
func TestNoSecondStreamWhileTheFirstIsServed(t *testing.T) {
	ctx := context.Background()
	var created int
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("GET /.well-known/ssf-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(Metadata{Issuer: srv.URL, ConfigurationEndpoint: srv.URL + "/streams"})
	})
	mux.HandleFunc("PATCH /streams", http.NotFound)
	mux.HandleFunc("GET /streams", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(StreamConfig{StreamID: r.URL.Query().Get("stream_id"), Delivery: Delivery{Method: PushDelivery}})
	})
	mux.HandleFunc("POST /streams", func(w http.ResponseWriter, _ *http.Request) {
		created++
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(StreamConfig{StreamID: "st-2"})
	})
	store := memstore.New(nil)
	if _, err := store.PutStream(ctx, stream.Stream{Transmitter: srv.URL, StreamID: "st-1", Delivery: "push"}, ""); err != nil {
		t.Fatal(err)
	}
	m := &Manager{Store: store, PushURL: "https://api.example/signals", Transmitters: []Transmitter{{Issuer: srv.URL, Audience: audience}}}
	_, _, err := m.Setup(ctx, srv.URL, "push")
	if err == nil || created != 0 {
		t.Fatalf("Setup = %v with %d stream(s) created; want an error and none created", err, created)
	}
	// Not "the transmitter no longer knows this stream": its read says it does.
	if errors.Is(err, ErrStreamNotFound) || !errors.Is(err, ErrStreamNotUpdated) {
		t.Errorf("Setup = %v; want ErrStreamNotUpdated, not ErrStreamNotFound", err)
	}
	if s, _, _ := store.Stream(ctx, srv.URL); s.StreamID != "st-1" {
		t.Errorf("stored stream = %+v; want st-1 kept", s)
	}
}

// newTransmitterMux is a transmitter serving its metadata, its streams at
// /streams; the test adds the stream handlers it needs.
func newTransmitterMux(t *testing.T) (*httptest.Server, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/ssf-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(Metadata{Issuer: srv.URL, ConfigurationEndpoint: srv.URL + "/streams"})
	})
	return srv, mux
}

// A transmitter whose update answers 404 and whose read then fails for
// another reason (503 here; a timeout or a 401 alike) has not said that it
// lost the stream: no second stream is created, the setup fails with the
// read's error, and the stored stream is kept.
func TestNoSecondStreamWhenTheReadFailsTransiently(t *testing.T) {
	ctx := context.Background()
	var created int
	srv, mux := newTransmitterMux(t)
	mux.HandleFunc("PATCH /streams", http.NotFound)
	mux.HandleFunc("GET /streams", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("POST /streams", func(w http.ResponseWriter, _ *http.Request) {
		created++
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(StreamConfig{StreamID: "st-2"})
	})
	store := memstore.New(nil)
	if _, err := store.PutStream(ctx, stream.Stream{Transmitter: srv.URL, StreamID: "st-1", Delivery: "push"}, ""); err != nil {
		t.Fatal(err)
	}
	m := &Manager{Store: store, PushURL: "https://api.example/signals", Transmitters: []Transmitter{{Issuer: srv.URL, Audience: audience}}}
	_, _, err := m.Setup(ctx, srv.URL, "push")
	if err == nil || created != 0 {
		t.Fatalf("Setup = %v, %d created; want an error, none created", err, created)
	}
	if errors.Is(err, ErrStreamNotFound) || !strings.Contains(err.Error(), "503") {
		t.Errorf("Setup = %v; want the read's 503, not ErrStreamNotFound", err)
	}
	if s, _, _ := store.Stream(ctx, srv.URL); s.StreamID != "st-1" {
		t.Errorf("stored stream = %+v; want st-1 kept", s)
	}
}

// racingTransmitter creates streams only when two creates have arrived
// together (two setups at once: a double-click in the console), and
// deletes them; it keeps the streams it has.
type racingTransmitter struct {
	mu      sync.Mutex
	streams map[string]bool
	n       int
	both    chan struct{} // closed when the second create arrives
}

func newRacingTransmitter(t *testing.T) (*httptest.Server, *racingTransmitter) {
	t.Helper()
	rt := &racingTransmitter{streams: map[string]bool{}, both: make(chan struct{})}
	srv, mux := newTransmitterMux(t)
	mux.HandleFunc("POST /streams", func(w http.ResponseWriter, _ *http.Request) {
		rt.mu.Lock()
		rt.n++
		id := fmt.Sprintf("st-%d", rt.n)
		rt.streams[id] = true
		if rt.n == 2 {
			close(rt.both)
		}
		rt.mu.Unlock()
		select {
		case <-rt.both:
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(StreamConfig{StreamID: id, Delivery: Delivery{Method: PushDelivery}})
	})
	mux.HandleFunc("DELETE /streams", func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		id := r.URL.Query().Get("stream_id")
		if !rt.streams[id] {
			http.NotFound(w, r)
			return
		}
		delete(rt.streams, id)
		w.WriteHeader(http.StatusNoContent)
	})
	return srv, rt
}

func (rt *racingTransmitter) live() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []string
	for id := range rt.streams {
		out = append(out, id)
	}
	return out
}

// Two setups at once, each reading that no stream is stored, each create
// one at the transmitter: only the first stored wins; the other deletes
// the stream it created there and fails with ErrStreamChanged, so the
// transmitter keeps one stream, the one stored.
func TestTwoSetupsAtOnceLeaveOneStream(t *testing.T) {
	ctx := context.Background()
	srv, rt := newRacingTransmitter(t)
	store := memstore.New(nil)
	m := &Manager{Store: store, PushURL: "https://api.example/signals", Transmitters: []Transmitter{{Issuer: srv.URL, Audience: audience}}}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = m.Setup(ctx, srv.URL, "push")
		}()
	}
	wg.Wait()
	var won, lost int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrStreamChanged):
			lost++
		default:
			t.Errorf("Setup = %v; want success or ErrStreamChanged", err)
		}
	}
	if won != 1 || lost != 1 {
		t.Errorf("Setup results %v; want one success and one ErrStreamChanged", errs)
	}
	stored, _, _ := store.Stream(ctx, srv.URL)
	if live := rt.live(); len(live) != 1 || live[0] != stored.StreamID {
		t.Errorf("the transmitter has streams %v, %s stored; want only the stored one", live, stored.StreamID)
	}
}

// cancelling cancels the poll run while it processes a SET (the run's
// context ends), and accepts the SET.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) Process(context.Context, string) signals.Outcome {
	c.cancel()
	return signals.Outcome{Status: http.StatusAccepted}
}

// A run whose context ends while it processes still acknowledges what it
// applied: the last acknowledgement goes out on a short context of its
// own, not on the ended one, so those SETs are not delivered again.
func TestPollAcknowledgesAfterTheRunIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tx := &endlessPoll{}
	srv := httptest.NewServer(tx)
	defer srv.Close()
	const iss = "https://transmitter.example"
	store := memstore.New(nil)
	if _, err := store.PutStream(ctx, stream.Stream{Transmitter: iss, StreamID: "st-1", Delivery: "poll", PollURL: srv.URL}, ""); err != nil {
		t.Fatal(err)
	}
	m := &Manager{Store: store, Transmitters: []Transmitter{{Issuer: iss}}}
	rep, err := m.Poll(ctx, cancelling{cancel})
	if err != nil || rep[iss].Applied != 1 {
		t.Fatalf("Poll = %+v, %v; want 1 applied and acknowledged", rep, err)
	}
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if len(tx.bodies) != 2 || !slices.Equal(tx.acked(), tx.served) {
		t.Errorf("%d requests, served %v, acknowledged %v; want the one round acknowledged by a second request", len(tx.bodies), tx.served, tx.acked())
	}
}

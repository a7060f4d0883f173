package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/stream"
)

// streamVerification: a stream is stored and read back, and is verified only
// once the verification event of its latest request has arrived.
func streamVerification(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	const tx = "https://transmitter.example"
	if _, ok, err := st.Stream(ctx, tx); ok || err != nil {
		t.Fatalf("Stream before any = %v, %v; want none", ok, err)
	}
	s := stream.Stream{Transmitter: tx, StreamID: "st-1", Delivery: "poll", PollURL: tx + "/poll/st-1", VerifyState: "v1", UpdatedAt: T0}
	if ok, err := st.PutStream(ctx, s, ""); !ok || err != nil {
		t.Fatalf("PutStream = %v, %v; want stored", ok, err)
	}
	if err := st.RecordVerification(ctx, tx, "v1", T0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.Stream(ctx, tx)
	want := s
	want.VerifiedState, want.VerifiedAt = "v1", T0.Add(time.Second)
	if err != nil || !ok || !reflect.DeepEqual(got, want) || !got.Verified() {
		t.Fatalf("Stream = %+v, %v, %v; want %+v, verified", got, ok, err, want)
	}
	// A new verification request: not verified until its event arrives.
	s.VerifyState = "v2"
	if ok, err := st.PutStream(ctx, s, "st-1"); !ok || err != nil {
		t.Fatalf("PutStream = %v, %v; want stored", ok, err)
	}
	if got, _, _ := st.Stream(ctx, tx); got.Verified() || got.VerifiedState != "v1" {
		t.Fatalf("after a new request = %+v; want not verified, the old arrival kept", got)
	}
}

// streamStoredOverTheRead: a stream is stored only if the stream id stored
// at its transmitter is still the one the writer read ("": none), so two
// setups at once (a double-click) cannot both store a stream they created,
// and a reset does not forget a stream stored after its read.
func streamStoredOverTheRead(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	const tx = "https://transmitter.example"
	put := func(id, was string) bool {
		t.Helper()
		ok, err := st.PutStream(ctx, stream.Stream{Transmitter: tx, StreamID: id, Delivery: "push", UpdatedAt: T0}, was)
		if err != nil {
			t.Fatalf("PutStream(%q over %q): %v", id, was, err)
		}
		return ok
	}
	stored := func() string {
		t.Helper()
		s, _, err := st.Stream(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		return s.StreamID
	}

	// Only a verification has arrived: the item holds no stream id.
	if err := st.RecordVerification(ctx, tx, "v0", T0); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		id, was string
		ok      bool
		stored  string
	}{
		{"st-1", "", true, "st-1"},      // created: none was stored
		{"st-2", "", false, "st-1"},     // a second create over none read: refused
		{"st-2", "st-9", false, "st-1"}, // over an id that was never stored: refused
		{"st-1", "st-1", true, "st-1"},  // an update of the stream read
		{"st-2", "st-1", true, "st-2"},  // replaced: the stream read is still stored
		{"st-3", "st-1", false, "st-2"}, // over a stream replaced since the read: refused
		{"", "st-2", true, ""},          // forgotten (a reset)
		{"st-3", "st-2", false, ""},     // over a stream forgotten since the read: refused
		{"st-3", "", true, "st-3"},      // created over the forgotten one
	} {
		if ok := put(step.id, step.was); ok != step.ok || stored() != step.stored {
			t.Fatalf("PutStream(%q over %q) = %v, %q stored; want %v, %q stored", step.id, step.was, ok, stored(), step.ok, step.stored)
		}
	}

	// Writers that all read no stream, storing at once: exactly one wins.
	const other = "https://other-transmitter.example"
	const n = 8
	won := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.PutStream(ctx, stream.Stream{Transmitter: other, StreamID: fmt.Sprintf("st-%d", i), UpdatedAt: T0.Add(time.Duration(i))}, "")
			if err != nil {
				t.Errorf("PutStream %d: %v", i, err)
			}
			won[i] = ok
		}()
	}
	wg.Wait()
	var winners []string
	for i, ok := range won {
		if ok {
			winners = append(winners, fmt.Sprintf("st-%d", i))
		}
	}
	if s, _, _ := st.Stream(ctx, other); len(winners) != 1 || s.StreamID != winners[0] {
		t.Fatalf("%d writers over no stream: %v stored, %q kept; want exactly one, kept", n, winners, s.StreamID)
	}
}

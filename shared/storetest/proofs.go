package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
)

// proofReplay: a DPoP proof is received once per key and jti until its
// record expires; another key's same jti is another proof; of concurrent
// first uses of one proof exactly one is first.
func proofReplay(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	until := T0.Add(61 * time.Second)
	for _, c := range []struct {
		key, jti string
		want     bool
	}{{"key-a", "j1", true}, {"key-a", "j1", false}, {"key-b", "j1", true}, {"key-a", "j2", true}} {
		if got, err := st.RecordProof(ctx, dpop.ReplayKey(c.key, c.jti), until); err != nil || got != c.want {
			t.Errorf("RecordProof(%s, %s) = %v, %v; want %v", c.key, c.jti, got, err, c.want)
		}
	}
	clock.Set(until.Add(-time.Nanosecond))
	if got, _ := st.RecordProof(ctx, dpop.ReplayKey("key-a", "j1"), until.Add(time.Minute)); got {
		t.Errorf("RecordProof one nanosecond before its record expires = true; want false (a replay)")
	}
	clock.Set(until)
	if got, err := st.RecordProof(ctx, dpop.ReplayKey("key-a", "j1"), until.Add(time.Minute)); err != nil || !got {
		t.Errorf("RecordProof after its record expired = %v, %v; want true", got, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := st.RecordProof(ctx, dpop.ReplayKey("key-c", "raced"), until.Add(time.Minute))
			if err != nil {
				t.Errorf("RecordProof (concurrent): %v", err)
			}
			if got {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Errorf("concurrent RecordProof of one proof: %d firsts; want exactly 1", firsts)
	}
}

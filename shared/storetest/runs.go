package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/runcount"
)

// runShards: the shards of a run count together, concurrently, without losing
// a count, and a tripped run stays tripped.
func runShards(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 { // shards at once: no count lost
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.CountRun(ctx, "run-1", 100, 3, T0.Add(time.Hour)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := st.CountRun(ctx, "run-1", 0, 0, T0.Add(time.Hour))
	if err != nil || got != (runcount.Count{Checked: 800, Revoking: 24}) {
		t.Fatalf("totals = %+v, %v; want 800 checked, 24 revoking, not tripped", got, err)
	}
	if err := st.TripRun(ctx, "run-1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.CountRun(ctx, "run-1", 10, 0, T0.Add(time.Hour)); !got.Tripped || got.Checked != 810 {
		t.Fatalf("after TripRun = %+v; want tripped, 810 checked", got)
	}
	if got, _ := st.CountRun(ctx, "run-2", 1, 1, T0.Add(time.Hour)); got != (runcount.Count{Checked: 1, Revoking: 1}) {
		t.Fatalf("another run = %+v; want its own totals", got)
	}
}

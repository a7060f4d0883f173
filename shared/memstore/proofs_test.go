package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
)

// TestProofRecordsArePurged: the records of proofs past their window are
// dropped by later writes, a bounded number per write, so that the store
// does not grow with every proof it ever saw; one in its window is kept
// (its replay is still refused).
func TestProofRecordsArePurged(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	m := New(func() time.Time { return now })
	ctx := context.Background()
	for i := range 1000 {
		if first, _ := m.RecordProof(ctx, dpop.ReplayKey("old", string(rune(i))), now.Add(61*time.Second)); !first {
			t.Fatalf("proof %d refused on its first use", i)
		}
	}
	now = now.Add(2 * time.Minute)
	live := dpop.ReplayKey("live", "j")
	m.RecordProof(ctx, live, now.Add(61*time.Second))
	for i := range 200 {
		m.RecordProof(ctx, dpop.ReplayKey("new", string(rune(i))), now.Add(61*time.Second))
	}
	if n := len(m.proofs); n > 300 {
		t.Errorf("%d proof records after 201 writes, 1000 of them past their window; want the expired ones dropped (at most 300 left)", n)
	}
	if first, _ := m.RecordProof(ctx, live, now.Add(61*time.Second)); first {
		t.Error("a proof in its window was dropped: its replay passed")
	}
}

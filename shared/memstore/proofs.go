package memstore

import (
	"context"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
)

var _ dpop.ReplayStore = (*Store)(nil)

// proofPurge is how many proof records a write looks at to drop those
// past their time: a proof is kept about a minute, so a store taking a
// proof per request would otherwise grow without end. Each write does a
// bounded amount of work; the records kept stay within a small multiple
// of those still in their window.
const proofPurge = 16

// RecordProof records a DPoP proof by its key (dpop.ReplayKey) until
// keepUntil, and reports whether this is its first use (false: a replay
// within the window). A record past keepUntil counts as absent; a write
// first drops up to proofPurge such records.
func (m *Store) RecordProof(_ context.Context, key [32]byte, keepUntil time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	seen := 0
	for k, until := range m.proofs { // from a random place: Go's map order
		if seen++; seen > proofPurge {
			break
		}
		if !now.Before(until) {
			delete(m.proofs, k)
		}
	}
	if until, ok := m.proofs[key]; ok && now.Before(until) {
		return false, nil
	}
	m.proofs[key] = keepUntil
	return true, nil
}

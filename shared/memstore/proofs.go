package memstore

import (
	"context"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
)

var _ dpop.ReplayStore = (*Store)(nil)

// RecordProof records a DPoP proof by its key (dpop.ReplayKey) until
// keepUntil, and reports whether this is its first use (false: a replay
// within the window). A record past keepUntil counts as absent.
func (m *Store) RecordProof(_ context.Context, key [32]byte, keepUntil time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until, ok := m.proofs[key]; ok && m.now().Before(until) {
		return false, nil
	}
	m.proofs[key] = keepUntil
	return true, nil
}

package memstore

import (
	"context"
	"slices"

	"github.com/sessionguard/sessionguard/shared/token"
)

// KeySetSnapshots returns the snapshots stored under keys, but those kept
// past token.SnapshotKeep (as the DynamoDB store's TTL).
func (m *Store) KeySetSnapshots(_ context.Context, keys []token.SnapshotKey) ([]token.KeySetSnapshot, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []token.KeySetSnapshot
	for _, k := range keys {
		if s, ok := m.keySets[k]; ok && m.now().Before(s.FetchedAt.Add(token.SnapshotKeep)) {
			s.Keys = slices.Clone(s.Keys)
			out = append(out, s)
		}
	}
	return out, nil
}

// PutKeySetSnapshot stores s unless the stored snapshot was fetched at
// the same time or later (but not more than token.SnapshotFutureSlack
// later).
func (m *Store) PutKeySetSnapshot(_ context.Context, s token.KeySetSnapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.keySets[s.SnapshotKey]; ok && !old.FetchedAt.Before(s.FetchedAt) && !old.FetchedAt.After(s.FetchedAt.Add(token.SnapshotFutureSlack)) {
		return nil
	}
	s.Keys = slices.Clone(s.Keys)
	m.keySets[s.SnapshotKey] = s
	return nil
}

package memstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/session"
)

// PutReport stores an audit report.
func (m *Store) PutReport(_ context.Context, r audit.Record) error {
	if err := r.Check(); err != nil {
		return fmt.Errorf("memstore: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reports[r.Environment] = append(m.reports[r.Environment], r)
	return nil
}

// Reports lists env's audit reports, newest first.
func (m *Store) Reports(_ context.Context, env string, p session.Page) ([]audit.Record, string, error) {
	m.mu.RLock()
	rs := slices.Clone(m.reports[env])
	m.mu.RUnlock()
	slices.SortStableFunc(rs, func(a, b audit.Record) int { return b.At.Compare(a.At) })
	return page(rs, p)
}

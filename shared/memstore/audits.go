package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/session"
)

// PutReport stores an audit report.
func (m *Store) PutReport(_ context.Context, r audit.Record) error {
	if !json.Valid(r.Body) {
		return fmt.Errorf("memstore: report of %s at %s is not JSON", r.Environment, r.At.Format(time.RFC3339))
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

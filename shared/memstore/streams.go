package memstore

import (
	"context"
	"time"

	"github.com/sessionguard/sessionguard/shared/runcount"
	"github.com/sessionguard/sessionguard/shared/stream"
)

// PutStream stores the stream at s.Transmitter, keeping the verification
// that arrived, only if the stream id stored there is still was ("": none);
// it reports whether it did.
func (m *Store) PutStream(_ context.Context, s stream.Stream, was string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.streams[s.Transmitter]
	if old.StreamID != was {
		return false, nil
	}
	s.VerifiedState, s.VerifiedAt = old.VerifiedState, old.VerifiedAt
	m.streams[s.Transmitter] = s
	return true, nil
}

// Stream returns the stream at transmitter; ok is false when there is none.
func (m *Store) Stream(_ context.Context, transmitter string) (stream.Stream, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.streams[transmitter]
	return s, ok, nil
}

// RecordVerification notes a verification event from transmitter.
func (m *Store) RecordVerification(_ context.Context, transmitter, state string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[transmitter]
	s.Transmitter, s.VerifiedState, s.VerifiedAt = transmitter, state, at
	m.streams[transmitter] = s
	return nil
}

// DirectoryCursor returns the change cursor kept for directory, "" if none.
func (m *Store) DirectoryCursor(_ context.Context, directory string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.cursors[directory], nil
}

// PutDirectoryCursor keeps cursor for directory.
func (m *Store) PutDirectoryCursor(_ context.Context, directory, cursor string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cursors[directory] = cursor
	return nil
}

// CountRun adds a shard's counts to run's totals and returns them.
// (Totals are kept for the store's life: runs are few.)
func (m *Store) CountRun(_ context.Context, run string, checked, revoking int, _ time.Time) (runcount.Count, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.runs[run]
	c.Checked += checked
	c.Revoking += revoking
	m.runs[run] = c
	return c, nil
}

// TripRun marks run's guard as tripped.
func (m *Store) TripRun(_ context.Context, run string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.runs[run]
	c.Tripped = true
	m.runs[run] = c
	return nil
}

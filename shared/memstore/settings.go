package memstore

import (
	"context"
	"slices"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

type envSettings struct {
	s        policy.Settings
	version  int
	override session.Override
	history  []policy.SettingsChange // oldest first
}

// Settings returns env's current settings and version; an environment with
// no custom settings gets the defaults at version 0.
func (m *Store) Settings(_ context.Context, env string) (policy.Settings, int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.settings[env]
	if !ok {
		return policy.Defaults(), 0, nil
	}
	return v.s, v.version, nil
}

// Override is the latest settings change applied to running sessions in
// env (zero: none), as Lookup applies it.
func (m *Store) Override(_ context.Context, env string) (session.Override, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.settings[env].override, nil
}

// PutSettings writes c.New as version c.Version of c.Environment's settings
// and records c in the history, both or neither. The current version must
// be c.Version-1, else session.ErrVersionConflict.
func (m *Store) PutSettings(_ context.Context, c policy.SettingsChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.settings[c.Environment]
	if v.version != c.Version-1 {
		return session.ErrVersionConflict
	}
	v.s, v.version = c.New, c.Version
	if c.ApplyToRunning {
		v.override = session.Override{Version: c.Version, Settings: c.New, AppliedAt: c.At}
	}
	v.history = append(v.history, c)
	m.settings[c.Environment] = v
	return nil
}

// History lists env's settings changes, newest first.
func (m *Store) History(_ context.Context, env string, p session.Page) ([]policy.SettingsChange, string, error) {
	m.mu.RLock()
	h := slices.Clone(m.settings[env].history)
	m.mu.RUnlock()
	slices.Reverse(h)
	return page(h, p)
}

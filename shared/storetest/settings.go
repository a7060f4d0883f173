package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
)

// settingsVersions: settings are written version by version (a conflict is
// ErrVersionConflict), every change is kept in the history, newest first, and
// a change applied to running sessions judges the sessions created before it.
func settingsVersions(t *testing.T, st Store, _ *Clock) {
	ctx := context.Background()
	s, v, err := st.Settings(ctx, "prod")
	if err != nil || v != 0 || !reflect.DeepEqual(s, policy.Defaults()) {
		t.Fatalf("Settings of a new environment = %+v, %d, %v; want defaults at version 0", s, v, err)
	}
	old := NewSession(t, "prod", alice, T0, policy.Defaults())
	create(t, st, old, session.Limit{})
	versions := make([]policy.Settings, 5)
	versions[0] = policy.Defaults()
	for i := 1; i <= 4; i++ {
		n := policy.Defaults()
		n.InactivityTimeout.Enabled, n.InactivityTimeout.Minutes = true, 10*i
		versions[i] = n
		c := policy.SettingsChange{Environment: "prod", Version: i, At: T0.Add(time.Duration(i) * time.Minute),
			Actor: fmt.Sprintf("admin-%d", i), Old: versions[i-1], New: n, ApplyToRunning: i == 3}
		if err := st.PutSettings(ctx, c); err != nil {
			t.Fatalf("PutSettings v%d: %v", i, err)
		}
		if i == 1 {
			if err := st.PutSettings(ctx, c); !errors.Is(err, session.ErrVersionConflict) {
				t.Errorf("writing version 1 twice: error = %v; want ErrVersionConflict", err)
			}
			c.Version = 3
			if err := st.PutSettings(ctx, c); !errors.Is(err, session.ErrVersionConflict) {
				t.Errorf("skipping a version: error = %v; want ErrVersionConflict", err)
			}
		}
	}
	s, v, _ = st.Settings(ctx, "prod")
	if v != 4 || !reflect.DeepEqual(s, versions[4]) {
		t.Errorf("Settings = v%d; want v4 with its values", v)
	}
	if _, v, _ := st.Settings(ctx, "staging"); v != 0 {
		t.Errorf("another environment's version = %d; want 0", v)
	}
	var hist []policy.SettingsChange
	cursor := ""
	for range 5 {
		page, next, err := st.History(ctx, "prod", session.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		hist = append(hist, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(hist) != 4 {
		t.Fatalf("history has %d changes; want 4", len(hist))
	}
	for i, c := range hist {
		ver := 4 - i
		if c.Version != ver || c.Actor != fmt.Sprintf("admin-%d", ver) || !c.At.Equal(T0.Add(time.Duration(ver)*time.Minute)) ||
			!reflect.DeepEqual(c.Old, versions[ver-1]) || !reflect.DeepEqual(c.New, versions[ver]) || c.ApplyToRunning != (ver == 3) {
			t.Errorf("history[%d] = %+v; want version %d with who, when, old and new", i, c, ver)
		}
	}
	// The session from before version 3 is judged by version 3, which
	// was applied to running sessions; sessions from after keep theirs.
	got, _, err := st.Lookup(ctx, old.Hash, "prod", alice)
	if err != nil || got.SettingsVersion != 3 || !reflect.DeepEqual(got.Settings, versions[3]) {
		t.Errorf("old session's settings = v%d %v; want v3, applied to running sessions", got.SettingsVersion, err)
	}
	newer := NewSession(t, "prod", alice, T0.Add(time.Hour), versions[4])
	newer.SettingsVersion = 4
	create(t, st, newer, session.Limit{})
	if got, _, _ := st.Lookup(ctx, newer.Hash, "prod", alice); got.SettingsVersion != 4 {
		t.Errorf("new session's settings version = %d; want its own 4", got.SettingsVersion)
	}
}

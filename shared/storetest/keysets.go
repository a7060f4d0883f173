package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/shared/token"
)

// keySetSnapshots: one snapshot per issuer and URL; a write older than
// the stored one is ignored; a snapshot past token.SnapshotKeep reads as
// absent.
func keySetSnapshots(t *testing.T, st Store, clock *Clock) {
	ctx := context.Background()
	a := token.SnapshotKey{Issuer: "https://idp.example/#tenant", URL: "https://idp.example/keys"}
	b := token.SnapshotKey{Issuer: a.Issuer, URL: "https://idp.example/other-keys"}
	read := func(keys ...token.SnapshotKey) map[token.SnapshotKey]token.KeySetSnapshot {
		t.Helper()
		got, err := st.KeySetSnapshots(ctx, keys)
		if err != nil {
			t.Fatalf("KeySetSnapshots: %v", err)
		}
		m := map[token.SnapshotKey]token.KeySetSnapshot{}
		for _, s := range got {
			m[s.SnapshotKey] = s
		}
		return m
	}
	put := func(k token.SnapshotKey, at time.Time, keys string) {
		t.Helper()
		if err := st.PutKeySetSnapshot(ctx, token.KeySetSnapshot{SnapshotKey: k, FetchedAt: at, Keys: []byte(keys)}); err != nil {
			t.Fatalf("PutKeySetSnapshot: %v", err)
		}
	}
	if got := read(a, b); len(got) != 0 {
		t.Fatalf("KeySetSnapshots of an empty store = %v; want none", got)
	}
	put(a, T0, `{"keys":["first"]}`)
	put(b, T0, `{"keys":["b"]}`)
	got := read(a)
	if s, ok := got[a]; !ok || len(got) != 1 || string(s.Keys) != `{"keys":["first"]}` || !s.FetchedAt.Equal(T0) {
		t.Fatalf("KeySetSnapshots(a) = %v; want a's snapshot only, fetched at T0 to the nanosecond", got)
	}
	// A writer that fetched earlier, or at the same time, does not replace
	// the stored set; a later fetch does.
	put(a, T0.Add(-time.Second), `{"keys":["older"]}`)
	put(a, T0, `{"keys":["same time"]}`)
	if s := read(a)[a]; string(s.Keys) != `{"keys":["first"]}` {
		t.Fatalf("after older writes: keys %s; want the first kept", s.Keys)
	}
	put(a, T0.Add(time.Minute), `{"keys":["newer"]}`)
	if s := read(a, b); string(s[a].Keys) != `{"keys":["newer"]}` || string(s[b].Keys) != `{"keys":["b"]}` {
		t.Fatalf("after a newer write: %v; want a newer, b untouched", s)
	}
	// A stamp far in the future (a bad clock, a planted item) does not
	// block later writes: one more than SnapshotFutureSlack ahead of a
	// new fetch is replaced; one within it is kept.
	put(b, T0.Add(token.SnapshotFutureSlack+time.Hour), `{"keys":["future"]}`)
	put(b, T0.Add(time.Hour), `{"keys":["within slack"]}`)
	if s := read(b)[b]; string(s.Keys) != `{"keys":["future"]}` {
		t.Fatalf("a write within the slack of a future stamp: keys %s; want the stored kept", s.Keys)
	}
	put(b, T0.Add(time.Hour-time.Second), `{"keys":["b again"]}`)
	if s := read(b)[b]; string(s.Keys) != `{"keys":["b again"]}` || !s.FetchedAt.Equal(T0.Add(time.Hour-time.Second)) {
		t.Fatalf("a write more than the slack before a future stamp: %s at %s; want it stored", s.Keys, s.FetchedAt)
	}
	put(b, T0, `{"keys":["b"]}`) // again more than the slack before the stored stamp: replaced
	clock.Set(T0.Add(token.SnapshotKeep))
	if got := read(a, b); len(got) != 1 || got[a].Keys == nil {
		t.Fatalf("KeySetSnapshots at b's SnapshotKeep = %v; want only a's (fetched a minute later)", got)
	}
	clock.Set(T0.Add(time.Minute + token.SnapshotKeep))
	if got := read(a, b); len(got) != 0 {
		t.Fatalf("KeySetSnapshots at a's SnapshotKeep = %v; want none", got)
	}
}

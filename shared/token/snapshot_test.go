package token

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/reason"
)

// snapshotTable is the store side of Snapshots, as the stores keep it (the
// stores' own contract tests hold them to it): newer wins.
type snapshotTable struct {
	mu    sync.Mutex
	snaps map[SnapshotKey]KeySetSnapshot
	reads int
	puts  int
	fail  error
	// everyURL: a read returns every snapshot of the issuers asked for,
	// whatever their URL (a careless store), so that the verifier's own
	// rule is what the test holds.
	everyURL bool
	// The time each read and put had left (its context's deadline).
	readBudget, putBudget time.Duration
}

func (s *snapshotTable) KeySetSnapshots(ctx context.Context, keys []SnapshotKey) ([]KeySetSnapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if d, ok := ctx.Deadline(); ok {
		s.readBudget = time.Until(d)
	}
	if s.fail != nil {
		return nil, s.fail
	}
	var out []KeySetSnapshot
	for _, k := range keys {
		for sk, snap := range s.snaps {
			if sk == k || s.everyURL && sk.Issuer == k.Issuer {
				out = append(out, snap)
			}
		}
	}
	return out, nil
}

func (s *snapshotTable) PutKeySetSnapshot(ctx context.Context, snap KeySetSnapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if d, ok := ctx.Deadline(); ok {
		s.putBudget = time.Until(d)
	}
	if old, ok := s.snaps[snap.SnapshotKey]; ok && !old.FetchedAt.Before(snap.FetchedAt) {
		return nil
	}
	if s.snaps == nil {
		s.snaps = map[SnapshotKey]KeySetSnapshot{}
	}
	s.snaps[snap.SnapshotKey] = snap
	return nil
}

func (s *snapshotTable) only(t *testing.T) KeySetSnapshot {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.snaps) != 1 {
		t.Fatalf("snapshots = %d; want 1", len(s.snaps))
	}
	return slices.Collect(maps.Values(s.snaps))[0]
}

// coldStart is a new verifier of f's issuer over table, as a new Lambda
// instance builds it, and what its Prefetch said.
func coldStart(t *testing.T, f *fixture, table *snapshotTable, edit func(*Config)) (*Verifier, map[string]string, error) {
	t.Helper()
	cfg := Config{Issuers: []Issuer{{Issuer: f.idp.URL(), Audiences: []string{devidp.DefaultAudience}, Algorithms: []string{"RS256", "ES256"}}},
		Now: f.clock.Now, Snapshots: table}
	if edit != nil {
		edit(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sources, err := v.Prefetch(context.Background())
	return v, sources, err
}

func TestSnapshotColdStartAsksTheIdPNothing(t *testing.T) {
	f := newFixture(t, nil)
	table := &snapshotTable{}
	// The first instance finds no snapshot: it fetches (discovery, then
	// the key set) and stores what it fetched.
	_, sources, err := coldStart(t, f, table, nil)
	if err != nil || sources[f.idp.URL()] != KeysFromIdP {
		t.Fatalf("first cold start: sources %v, %v; want keys from the IdP", sources, err)
	}
	if n := f.idp.Fetches(); n != 1 {
		t.Fatalf("key-set fetches = %d; want 1", n)
	}
	snap := table.only(t)
	if snap.Issuer != f.idp.URL() || snap.URL != f.idp.URL()+"/.well-known/openid-configuration" || !snap.FetchedAt.Equal(f.clock.Now()) {
		t.Fatalf("snapshot = %s %s at %s; want the issuer, its configured discovery URL, fetched now", snap.Issuer, snap.URL, snap.FetchedAt)
	}
	// A later cold start verifies with the snapshot: no request at all.
	f.clock.Add(23 * time.Hour)
	v, sources, err := coldStart(t, f, table, nil)
	if err != nil || sources[f.idp.URL()] != KeysFromSnapshot {
		t.Fatalf("second cold start: sources %v, %v; want the snapshot", sources, err)
	}
	tok := f.mint(t, devidp.Token{})
	c, err := v.Verify(context.Background(), tok)
	if err != nil || c.KeySource != KeysFromSnapshot {
		t.Fatalf("Verify with the snapshot: KeySource %q, %v; want %q", c.KeySource, err, KeysFromSnapshot)
	}
	if c := verifyCached(t, v, tok, true); c.KeySource != KeysFromSnapshot {
		t.Fatalf("cache hit: KeySource %q; want %q (the current set's)", c.KeySource, KeysFromSnapshot)
	}
	if n := f.idp.Fetches(); n != 1 {
		t.Fatalf("key-set fetches after a cold start with a snapshot = %d; want still 1", n)
	}
	// The snapshot's set is refreshed as a fetched one is: KeySetMaxAge
	// after it was read, by the request that finds it stale.
	f.clock.Add(DefaultKeySetMaxAge - time.Second)
	v.Verify(context.Background(), f.mint(t, devidp.Token{}))
	if n := f.idp.Fetches(); n != 1 {
		t.Fatalf("fetches before the max age = %d; want 1", n)
	}
	f.clock.Add(time.Second)
	c, err = v.Verify(context.Background(), f.mint(t, devidp.Token{}))
	if err != nil || c.KeySource != KeysFromIdP || f.idp.Fetches() != 2 {
		t.Fatalf("at the max age: KeySource %q, %v, fetches %d; want a refresh from the IdP", c.KeySource, err, f.idp.Fetches())
	}
	if got := table.only(t).FetchedAt; !got.Equal(f.clock.Now()) {
		t.Fatalf("snapshot after the refresh fetched at %s; want %s (each fetch stores its set)", got, f.clock.Now())
	}
}

func TestSnapshotTooOldOrFromTheFutureIsFetchedAfresh(t *testing.T) {
	for _, tt := range []struct {
		name string
		age  time.Duration
		edit func(*Config)
		want string
	}{
		{"a second under the max age", DefaultSnapshotMaxAge - time.Second, nil, KeysFromSnapshot},
		{"at the max age", DefaultSnapshotMaxAge, nil, KeysFromIdP},
		{"at a configured max age", time.Hour, func(c *Config) { c.SnapshotMaxAge = time.Hour }, KeysFromIdP},
		{"within the clock skew ahead", -DefaultClockSkew, nil, KeysFromSnapshot},
		{"beyond the clock skew ahead", -DefaultClockSkew - time.Second, nil, KeysFromIdP},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			table := &snapshotTable{}
			coldStart(t, f, table, nil)
			snap := table.only(t)
			snap.FetchedAt = f.clock.Now().Add(-tt.age)
			table.snaps[snap.SnapshotKey] = snap
			_, sources, err := coldStart(t, f, table, tt.edit)
			if err != nil || sources[f.idp.URL()] != tt.want {
				t.Fatalf("snapshot fetched %v ago: sources %v, %v; want %s", tt.age, sources, err, tt.want)
			}
		})
	}
}

func TestSnapshotNeverWidensTrust(t *testing.T) {
	f := newFixture(t, nil)
	table := &snapshotTable{}
	coldStart(t, f, table, nil)
	good := table.only(t)

	// Keys planted under the issuer for another URL are not used by a
	// verifier configured with this one, even from a store that returns
	// them: another https URL, or plain http to a remote host.
	stray, _ := devidp.New(f.idp.URL(), f.clock.Now)
	strayKeys, err := stray.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"https://keys.attacker.example/jwks", "http://keys.attacker.example/jwks"} {
		k := SnapshotKey{Issuer: f.idp.URL(), URL: url}
		table := &snapshotTable{everyURL: true, snaps: map[SnapshotKey]KeySetSnapshot{k: {SnapshotKey: k, FetchedAt: f.clock.Now(), Keys: strayKeys}}}
		v, sources, _ := coldStart(t, f, table, nil)
		if sources[f.idp.URL()] != KeysFromIdP {
			t.Fatalf("sources = %v; want a fetch: the only snapshot is %s's", sources, url)
		}
		_, err = v.Verify(context.Background(), f.mint(t, devidp.Token{Key: stray.KeyFor(jwa.RS256)}))
		wantCode(t, err, reason.TokenSignature)
	}
	u := KeySetSnapshot{SnapshotKey: SnapshotKey{Issuer: "https://idp.example/", URL: "http://idp.example/jwks"}, FetchedAt: f.clock.Now(), Keys: good.Keys}
	if _, err := f.v.usableSnapshot(u, f.clock.Now()); err == nil {
		t.Fatal("usableSnapshot(http to a remote host) = nil error; want refused")
	}
	// A snapshot without usable keys is fetched afresh.
	bad := good
	bad.Keys = []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k"}]}`)
	table.snaps = map[SnapshotKey]KeySetSnapshot{good.SnapshotKey: bad}
	if _, sources, _ := coldStart(t, f, table, nil); sources[f.idp.URL()] != KeysFromIdP {
		t.Fatalf("sources with a snapshot of only a symmetric key = %v; want a fetch", sources)
	}
}

func TestSnapshotUnknownKidStillFetchesWithTheCooldown(t *testing.T) {
	f := newFixture(t, nil)
	table := &snapshotTable{}
	coldStart(t, f, table, nil)
	v, _, _ := coldStart(t, f, table, nil)
	// The IdP rotates after the snapshot was taken: the new kid is fetched
	// on use, once.
	key, err := f.idp.AddKey(jwa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), f.mint(t, devidp.Token{Key: key}))
	if err != nil || c.KeySource != KeysFromIdP {
		t.Fatalf("token of a key newer than the snapshot: %q, %v; want verified with a fetched set", c.KeySource, err)
	}
	stray, _ := devidp.New(f.idp.URL(), f.clock.Now)
	for range 5 {
		_, err := v.Verify(context.Background(), f.mint(t, devidp.Token{Key: stray.KeyFor(jwa.RS256)}))
		wantCode(t, err, reason.TokenSignature)
	}
	if n := f.idp.Fetches(); n != 2 {
		t.Fatalf("fetches = %d; want 2 (the first cold start, the new kid; none for unknown kids within the cooldown)", n)
	}
}

func TestSnapshotReadFailureFallsBackToTheIdP(t *testing.T) {
	f := newFixture(t, nil)
	table := &snapshotTable{fail: errors.New("table unavailable")}
	v, sources, err := coldStart(t, f, table, nil)
	if err == nil || sources[f.idp.URL()] != KeysFromIdP {
		t.Fatalf("Prefetch with the table down: sources %v, %v; want the error reported and keys from the IdP", sources, err)
	}
	if _, err := v.Verify(context.Background(), f.mint(t, devidp.Token{})); err != nil {
		t.Fatal(err)
	}
	// Without Snapshots nothing is read or stored.
	table = &snapshotTable{}
	if _, _, err := coldStart(t, f, table, func(c *Config) { c.Snapshots = nil }); err != nil {
		t.Fatal(err)
	}
	if table.reads+table.puts != 0 {
		t.Fatalf("reads %d, puts %d without Snapshots; want none", table.reads, table.puts)
	}
}

func TestSnapshotMaxAgeIsBounded(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, MaxSnapshotMaxAge + time.Second} {
		cfg := Config{Issuers: []Issuer{{Issuer: "https://idp.example/", Audiences: []string{"api"}}}, SnapshotMaxAge: d}
		if _, err := NewVerifier(cfg); err == nil {
			t.Errorf("NewVerifier(SnapshotMaxAge %v) = nil error; want refused", d)
		}
	}
}

// The trade a snapshot makes, as docs/authorizer.md states it: a key the
// IdP removed after the snapshot was taken still verifies at an instance
// that started from it, until that instance's first refresh,
// JWKS_MAX_AGE_SECONDS after it read the snapshot; then it is refused.
func TestSnapshotRemovedKeyWindow(t *testing.T) {
	f := newFixture(t, nil)
	key, err := f.idp.AddKey(jwa.RS256)
	if err != nil {
		t.Fatal(err)
	}
	table := &snapshotTable{}
	coldStart(t, f, table, nil) // the snapshot holds key
	f.idp.RemoveKey(key.Kid)
	f.clock.Add(DefaultSnapshotMaxAge - time.Minute)
	v, sources, _ := coldStart(t, f, table, nil)
	if sources[f.idp.URL()] != KeysFromSnapshot {
		t.Fatalf("sources = %v; want the snapshot", sources)
	}
	f.clock.Add(DefaultKeySetMaxAge - time.Second)
	if _, err := v.Verify(context.Background(), f.mint(t, devidp.Token{Key: key})); err != nil {
		t.Fatalf("a removed key's token before the first refresh: %v; want accepted (the documented window)", err)
	}
	f.clock.Add(time.Second)
	_, err = v.Verify(context.Background(), f.mint(t, devidp.Token{Key: key}))
	wantCode(t, err, reason.TokenSignature)
}

// A slow table costs a cold start, and the request that fetched, at most
// SnapshotTimeout per read or write; a verifier that already has a set
// fetches rather than read a snapshot over it.
func TestSnapshotReadsAndWritesAreBounded(t *testing.T) {
	f := newFixture(t, nil)
	table := &snapshotTable{}
	v, _, _ := coldStart(t, f, table, nil)
	if table.readBudget <= 0 || table.readBudget > SnapshotTimeout || table.putBudget <= 0 || table.putBudget > SnapshotTimeout {
		t.Fatalf("read had %v, put %v; want each bounded by %v", table.readBudget, table.putBudget, SnapshotTimeout)
	}
	sources, err := v.Prefetch(context.Background())
	if err != nil || sources[f.idp.URL()] != KeysFromIdP {
		t.Fatalf("a second Prefetch: %v, %v; want a fetch over the set it has", sources, err)
	}
}

// A key set too large for an item is used, and not stored.
func TestSnapshotOfALargeKeySetIsNotStored(t *testing.T) {
	f := newFixture(t, nil)
	doc, err := f.idp.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	// The issuer's keys and an encryption key of MaxSnapshotBytes.
	pad := `{"kty":"oct","use":"enc","kid":"pad","k":"` + strings.Repeat("A", MaxSnapshotBytes) + `"}`
	big := strings.Replace(string(doc), `"keys":[`, `"keys":[`+pad+`,`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) }))
	defer srv.Close()
	table := &snapshotTable{}
	v, sources, err := coldStart(t, f, table, func(c *Config) { c.Issuers[0].JWKSURL = srv.URL })
	if err != nil || sources[f.idp.URL()] != KeysFromIdP {
		t.Fatalf("Prefetch = %v, %v; want the keys fetched", sources, err)
	}
	if _, err := v.Verify(context.Background(), f.mint(t, devidp.Token{})); err != nil {
		t.Fatal(err)
	}
	if table.puts != 0 {
		t.Fatalf("puts = %d; want none for a %d-byte key set", table.puts, len(big))
	}
}

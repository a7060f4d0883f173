package token

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sessionguard/sessionguard/shared/endpoint"
)

// Where a key set came from (Claims.KeySource).
const (
	// KeysFromIdP: fetched from the issuer's key-set URL by this process.
	KeysFromIdP = "idp"
	// KeysFromSnapshot: read from the store's copy at cold start.
	KeysFromSnapshot = "snapshot"
	// KeysNone: neither (Prefetch only; the keys are fetched on use).
	KeysNone = "none"
)

// SnapshotTimeout bounds each read and write of snapshots (or
// Config.FetchTimeout, if shorter): a slow or unreachable table costs a
// cold start at most this before it fetches, and the request that
// fetched at most this after its fetch.
const SnapshotTimeout = 300 * time.Millisecond

// SnapshotFutureSlack: a stored snapshot stamped more than this after a
// new fetch's start is replaced by it (a store's conditional write), so
// that a bad clock or a planted item cannot block every later write.
const SnapshotFutureSlack = MaxClockSkew

// DefaultSnapshotMaxAge is the age past which a stored key set is not
// used at cold start.
const DefaultSnapshotMaxAge = 24 * time.Hour

// MaxSnapshotMaxAge is the longest SnapshotMaxAge a verifier takes.
const MaxSnapshotMaxAge = 7 * 24 * time.Hour

// SnapshotKeep is how long a store keeps a snapshot after its fetch (its
// TTL), so an issuer removed from the configuration leaves nothing
// behind; longer than any SnapshotMaxAge.
const SnapshotKeep = MaxSnapshotMaxAge + 24*time.Hour

// MaxSnapshotBytes caps the key-set document a snapshot keeps (a stored
// item must stay well under the table's item limit). A larger set is
// used, and fetched at every cold start, but not stored.
const MaxSnapshotBytes = 256 << 10

// SnapshotKey names one snapshot: the issuer entry and the configured
// URL its keys come from (Issuer.KeySetURL: the key set's, or the
// discovery document's). A snapshot is only ever read for the URL it was
// fetched for, so a changed configuration cannot pick up another URL's
// keys.
type SnapshotKey struct {
	Issuer string
	URL    string
}

// KeySetSnapshot is a key set as a verifier fetched it.
type KeySetSnapshot struct {
	SnapshotKey
	FetchedAt time.Time
	Keys      []byte // the key-set document, as fetched
}

// Snapshots keeps the key sets that verifiers fetch, so that a cold start
// can verify without a request to the IdP (Config.Snapshots).
type Snapshots interface {
	// KeySetSnapshots returns the snapshots stored under keys (those that
	// exist, in any order).
	KeySetSnapshots(ctx context.Context, keys []SnapshotKey) ([]KeySetSnapshot, error)
	// PutKeySetSnapshot stores s unless the stored snapshot of its key
	// was fetched at the same time or later (but not more than
	// SnapshotFutureSlack later: such a stamp is replaced).
	PutKeySetSnapshot(ctx context.Context, s KeySetSnapshot) error
}

// loadSnapshots installs, for each issuer that has no key set yet, its
// stored snapshot when the snapshot is usable (usableSnapshot). It
// returns the issuers it installed, and the error of the read.
func (v *Verifier) loadSnapshots(ctx context.Context, entries []*issuer) (map[*issuer]bool, error) {
	loaded := map[*issuer]bool{}
	byKey := map[SnapshotKey]*issuer{}
	keys := make([]SnapshotKey, 0, len(entries))
	for _, is := range entries {
		k := is.keys.snapshotKey()
		byKey[k] = is
		keys = append(keys, k)
	}
	rctx, cancel := context.WithTimeout(ctx, v.cfg.snapshotTimeout())
	defer cancel()
	snaps, err := v.cfg.Snapshots.KeySetSnapshots(rctx, keys)
	if err != nil {
		return loaded, fmt.Errorf("token: read key-set snapshots: %w", err)
	}
	now := v.cfg.Now()
	for _, s := range snaps {
		is := byKey[s.SnapshotKey]
		if is == nil {
			continue
		}
		ks, err := v.usableSnapshot(s, now)
		if err != nil {
			continue // fetched instead, as without a snapshot
		}
		if is.keys.installSnapshot(ks) {
			loaded[is] = true
		}
	}
	return loaded, nil
}

// usableSnapshot parses s when a verifier may trust it at now: fetched
// from an https URL (http only on loopback, endpoint.Check), no later
// than now (with the clock skew) and less than SnapshotMaxAge ago, with
// at least one usable signature key. The set is then treated as fetched
// at now: the next refresh is due KeySetMaxAge later, as after a fetch.
func (v *Verifier) usableSnapshot(s KeySetSnapshot, now time.Time) (*keySet, error) {
	if err := endpoint.Check(s.URL); err != nil {
		return nil, err
	}
	switch age := now.Sub(s.FetchedAt); {
	case age < -v.cfg.ClockSkew:
		return nil, fmt.Errorf("token: key-set snapshot of %q is from the future (%s)", s.Issuer, s.FetchedAt)
	case age >= v.cfg.SnapshotMaxAge:
		return nil, fmt.Errorf("token: key-set snapshot of %q is %s old", s.Issuer, age)
	}
	ks, err := parseKeySet(s.Keys)
	if err != nil {
		return nil, err
	}
	ks.fetchedAt, ks.source = now, KeysFromSnapshot
	return ks, nil
}

func (c *Config) snapshotTimeout() time.Duration { return min(SnapshotTimeout, c.FetchTimeout) }

func (kc *keyCache) snapshotKey() SnapshotKey {
	return SnapshotKey{Issuer: kc.issuer, URL: kc.url}
}

// installSnapshot makes ks the current set if there is none yet.
func (kc *keyCache) installSnapshot(ks *keySet) bool {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.cur.Load() != nil {
		return false
	}
	kc.install(ks)
	return true
}

// saveSnapshot stores the document just fetched, when snapshots are on
// and it fits. A failure is the store's to report (the wiring logs it):
// the fetched set serves either way.
func (kc *keyCache) saveSnapshot(ctx context.Context, doc []byte, fetchedAt time.Time) {
	if kc.cfg.Snapshots == nil || len(doc) > MaxSnapshotBytes {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kc.cfg.snapshotTimeout())
	defer cancel()
	_ = kc.cfg.Snapshots.PutKeySetSnapshot(wctx, KeySetSnapshot{SnapshotKey: kc.snapshotKey(), FetchedAt: fetchedAt, Keys: doc})
}

// Prefetch gets every issuer's key set, for use at cold start (an issuer
// that has one already is fetched afresh, not read from a snapshot): from its
// stored snapshot when Config.Snapshots has a usable one (no request to
// the IdP), else from the IdP (which then stores a snapshot). It returns
// where each issuer's keys came from, and the joined errors of the
// snapshot read and of the fetches that failed; verification still works
// for the others, and retries the failed ones on use.
func (v *Verifier) Prefetch(ctx context.Context) (map[string]string, error) {
	var entries []*issuer
	seen := map[*issuer]bool{}
	for _, ref := range v.issuers {
		if !seen[ref.issuer] {
			seen[ref.issuer] = true
			entries = append(entries, ref.issuer)
		}
	}
	var errs []error
	loaded := map[*issuer]bool{}
	if v.cfg.Snapshots != nil {
		var err error
		if loaded, err = v.loadSnapshots(ctx, entries); err != nil {
			errs = append(errs, err)
		}
	}
	// The fetches run side by side: a cold start waits for the slowest
	// IdP, not for the sum of them.
	sources := make(map[string]string, len(entries))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, is := range entries {
		if loaded[is] {
			sources[is.Issuer.Issuer] = KeysFromSnapshot
			continue
		}
		wg.Go(func() {
			_, err := is.keys.refresh(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				sources[is.Issuer.Issuer] = KeysNone
				return
			}
			sources[is.Issuer.Issuer] = KeysFromIdP
		})
	}
	wg.Wait()
	return sources, errors.Join(errs...)
}

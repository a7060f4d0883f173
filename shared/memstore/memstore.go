// Package memstore is the in-memory store: sessions, user state,
// per-environment settings with their history, and audit reports, for the
// local stack and the tests. It passes the same contract suite
// (shared/storetest) as the DynamoDB store, including the rule that an
// item past its TTL reads as absent. Its files mirror the DynamoDB store's,
// one per entity.
package memstore

import (
	"strconv"
	"sync"
	"time"

	"github.com/sessionguard/sessionguard/shared/audit"
	"github.com/sessionguard/sessionguard/shared/runcount"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/stream"
	"github.com/sessionguard/sessionguard/shared/token"
)

// Store is safe for concurrent use. The zero value is not usable; use New.
type Store struct {
	mu       sync.RWMutex
	now      func() time.Time
	sessions map[session.Hash]session.Session
	users    map[userRef]session.User
	settings map[string]envSettings
	reports  map[string][]audit.Record
	jtis     map[string]time.Time      // issuer NUL jti -> kept until
	idp      map[string][]session.Hash // issuer NUL sid -> the sessions of that IdP session
	streams  map[string]stream.Stream  // by transmitter
	names    map[string]string         // issuer NUL username -> subject
	subjects map[string]string         // issuer NUL subject -> username
	cursors  map[string]string         // directory -> change cursor
	runs     map[string]runcount.Count
	ended    map[string]time.Time // env NUL issuer NUL sid -> when that IdP session ended
	keySets  map[token.SnapshotKey]token.KeySetSnapshot
	proofs   map[[32]byte]time.Time // DPoP proof key -> kept until (proofs.go)
}

// New returns an empty store. now is the clock that judges TTL expiry
// (time.Now if nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:      now,
		sessions: map[session.Hash]session.Session{},
		users:    map[userRef]session.User{},
		settings: map[string]envSettings{},
		reports:  map[string][]audit.Record{},
		jtis:     map[string]time.Time{},
		names:    map[string]string{},
		idp:      map[string][]session.Hash{},
		streams:  map[string]stream.Stream{},
		subjects: map[string]string{},
		cursors:  map[string]string{},
		runs:     map[string]runcount.Count{},
		ended:    map[string]time.Time{},
		keySets:  map[token.SnapshotKey]token.KeySetSnapshot{},
		proofs:   map[[32]byte]time.Time{},
	}
}

type userRef struct {
	env string
	key session.UserKey
}

// DefaultPageSize is the page size when a Page asks for none.
const DefaultPageSize = 50

// page cuts one page out of all; the cursor is the offset of the next
// page.
func page[T any](all []T, p session.Page) ([]T, string, error) {
	off := 0
	if p.Cursor != "" {
		n, err := strconv.Atoi(p.Cursor)
		if err != nil || n < 0 || n > len(all) {
			return nil, "", session.ErrBadCursor
		}
		off = n
	}
	size := p.Limit
	if size <= 0 {
		size = DefaultPageSize
	}
	end := min(off+size, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[off:end], next, nil
}

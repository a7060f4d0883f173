// Key-set snapshots: a copy of each issuer's key set as a verifier last
// fetched it, read at cold start (token.Snapshots).

package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/token"
)

// keySetKey is one snapshot's item: partition "K#<issuer>", sort key the
// hash of the URL its keys come from.
func keySetKey(k token.SnapshotKey) item {
	sum := sha256.Sum256([]byte(k.URL))
	return key("K#"+esc(k.Issuer), "URL#"+hex.EncodeToString(sum[:]))
}

// KeySetSnapshots returns the live snapshots stored under keys: one
// BatchGetItem.
func (st *Store) KeySetSnapshots(ctx context.Context, keys []token.SnapshotKey) ([]token.KeySetSnapshot, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	items := make([]item, len(keys))
	for i, k := range keys {
		items[i] = keySetKey(k)
	}
	got, err := st.getMany(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: read %d key-set snapshots: %w", len(keys), err)
	}
	out := make([]token.KeySetSnapshot, 0, len(got))
	now := st.now()
	for _, it := range got {
		if expired(it, now) {
			continue
		}
		r := readItem(it)
		s := token.KeySetSnapshot{SnapshotKey: token.SnapshotKey{Issuer: r.s("iss"), URL: r.s("url")}, FetchedAt: r.t("fat"), Keys: []byte(r.s("keys"))}
		if r.err != nil {
			return nil, fmt.Errorf("dynamodb: key-set snapshot %s: %w", r.s("pk"), r.err)
		}
		out = append(out, s)
	}
	return out, nil
}

// PutKeySetSnapshot stores s unless the stored snapshot was fetched at
// the same time or later (a slow writer never replaces a newer set); a
// stored stamp more than token.SnapshotFutureSlack after s's is replaced
// (it could otherwise block every write).
func (st *Store) PutKeySetSnapshot(ctx context.Context, s token.KeySetSnapshot) error {
	u := newUpdate().Set("iss", str(s.Issuer)).Set("url", str(s.URL)).Set("fat", nanos(s.FetchedAt)).Set("keys", str(string(s.Keys))).
		When(absentOrBefore("fat", nanos(s.FetchedAt)).Or(name("fat").GreaterThan(val(nanos(s.FetchedAt.Add(token.SnapshotFutureSlack))))))
	exp := map[string]types.AttributeValue{}
	expiry(exp, s.FetchedAt.Add(token.SnapshotKeep))
	for k, v := range exp {
		u.Set(k, v)
	}
	err := st.updateItem(ctx, u, keySetKey(s.SnapshotKey))
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("dynamodb: put the key-set snapshot of %s from %s: %w", s.Issuer, s.URL, err)
	}
	return nil
}

// DPoP proofs: the replay store of shared/dpop.

package dynamostore

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sessionguard/sessionguard/shared/dpop"
)

var _ dpop.ReplayStore = (*Store)(nil)

// RecordProof records a DPoP proof by its key (dpop.ReplayKey: the hash
// of its key's thumbprint and its jti) until keepUntil (then TTL), and
// reports whether this is its first use; false is a replay within the
// window. One conditional PutItem of a small item (one write unit): the
// put succeeds only if no record exists or the one there has expired, so
// of two requests racing with one proof exactly one passes.
func (st *Store) RecordProof(ctx context.Context, key [32]byte, keepUntil time.Time) (bool, error) {
	it := proofItem(key)
	expiry(it, keepUntil)
	err := st.putItem(ctx, it, name("pk").AttributeNotExists().Or(name("exp").LessThanEqual(val(nanos(st.now())))))
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb: record a DPoP proof: %w", err)
	}
	return true, nil
}

// proofItem is the key of a proof's record.
func proofItem(k [32]byte) item {
	return key("P#"+hex.EncodeToString(k[:]), "P")
}

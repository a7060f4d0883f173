// Streams: this receiver's Shared Signals streams, one per transmitter.

package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sessionguard/sessionguard/shared/session"
)

func streamKey(transmitter string) item {
	sum := sha256.Sum256([]byte(transmitter))
	return key("X#"+hex.EncodeToString(sum[:]), "STREAM")
}

// PutStream stores the stream at s.Transmitter; the verification that
// arrived (RecordVerification) is kept.
func (st *Store) PutStream(ctx context.Context, s session.Stream) error {
	u := newUpdate().Set("tx", str(s.Transmitter)).Set("id", str(s.StreamID)).Set("dlv", str(s.Delivery)).
		Set("purl", str(s.PollURL)).Set("vst", str(s.VerifyState)).Set("upd", nanos(s.UpdatedAt))
	if err := st.updateItem(ctx, u, streamKey(s.Transmitter)); err != nil {
		return fmt.Errorf("dynamodb: put the stream at %s: %w", s.Transmitter, err)
	}
	return nil
}

// Stream returns the stream at transmitter; ok is false when there is none.
func (st *Store) Stream(ctx context.Context, transmitter string) (session.Stream, bool, error) {
	it, err := st.get(ctx, streamKey(transmitter))
	if err != nil {
		return session.Stream{}, false, fmt.Errorf("dynamodb: get the stream at %s: %w", transmitter, err)
	}
	if it == nil {
		return session.Stream{}, false, nil
	}
	r := reader{it: it}
	s := session.Stream{Transmitter: r.s("tx"), StreamID: r.s("id"), Delivery: r.s("dlv"), PollURL: r.s("purl"),
		VerifyState: r.s("vst"), VerifiedState: r.s("vok"), VerifiedAt: r.t("vat"), UpdatedAt: r.t("upd")}
	if r.err != nil {
		return session.Stream{}, false, fmt.Errorf("dynamodb: the stream at %s: %w", transmitter, r.err)
	}
	return s, true, nil
}

// RecordVerification notes a verification event from transmitter.
func (st *Store) RecordVerification(ctx context.Context, transmitter, state string, at time.Time) error {
	u := newUpdate().Set("tx", str(transmitter)).Set("vok", str(state)).Set("vat", nanos(at))
	if err := st.updateItem(ctx, u, streamKey(transmitter)); err != nil {
		return fmt.Errorf("dynamodb: record a verification from %s: %w", transmitter, err)
	}
	return nil
}

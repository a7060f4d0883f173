// Streams: this receiver's Shared Signals streams, one per transmitter.

package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/sessionguard/sessionguard/shared/runcount"
	"github.com/sessionguard/sessionguard/shared/stream"
)

func streamKey(transmitter string) item {
	sum := sha256.Sum256([]byte(transmitter))
	return key("X#"+hex.EncodeToString(sum[:]), "STREAM")
}

// PutStream stores the stream at s.Transmitter, only if the stream id
// stored there is still was ("": none, or an item without one), and
// reports whether it did; the verification that arrived
// (RecordVerification) is kept. One conditional update.
func (st *Store) PutStream(ctx context.Context, s stream.Stream, was string) (bool, error) {
	u := newUpdate().Set("tx", str(s.Transmitter)).Set("id", str(s.StreamID)).Set("dlv", str(s.Delivery)).
		Set("purl", str(s.PollURL)).Set("vst", str(s.VerifyState)).Set("upd", nanos(s.UpdatedAt))
	if was == "" {
		u.When(name("id").AttributeNotExists().Or(name("id").Equal(val(str("")))))
	} else {
		u.When(name("id").Equal(val(str(was))))
	}
	err := st.updateItem(ctx, u, streamKey(s.Transmitter))
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb: put the stream at %s: %w", s.Transmitter, err)
	}
	return true, nil
}

// Stream returns the stream at transmitter; ok is false when there is none.
func (st *Store) Stream(ctx context.Context, transmitter string) (stream.Stream, bool, error) {
	it, err := st.get(ctx, streamKey(transmitter))
	if err != nil {
		return stream.Stream{}, false, fmt.Errorf("dynamodb: get the stream at %s: %w", transmitter, err)
	}
	if it == nil {
		return stream.Stream{}, false, nil
	}
	r := readItem(it)
	s := stream.Stream{Transmitter: r.s("tx"), StreamID: r.s("id"), Delivery: r.s("dlv"), PollURL: r.s("purl"),
		VerifyState: r.s("vst"), VerifiedState: r.s("vok"), VerifiedAt: r.t("vat"), UpdatedAt: r.t("upd")}
	if r.err != nil {
		return stream.Stream{}, false, fmt.Errorf("dynamodb: the stream at %s: %w", transmitter, r.err)
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

// Directory change cursors: the refresher's place in a directory's change
// feed (Graph users/delta), one per directory.

func cursorKey(directory string) item {
	sum := sha256.Sum256([]byte(directory))
	return key("X#"+hex.EncodeToString(sum[:]), "CURSOR")
}

// DirectoryCursor returns the cursor kept for directory, "" if none.
func (st *Store) DirectoryCursor(ctx context.Context, directory string) (string, error) {
	it, err := st.get(ctx, cursorKey(directory))
	if err != nil {
		return "", fmt.Errorf("dynamodb: get the change cursor of %s: %w", directory, err)
	}
	if it == nil {
		return "", nil
	}
	r := readItem(it)
	c := r.s("cur")
	return c, r.err
}

// PutDirectoryCursor keeps cursor for directory.
func (st *Store) PutDirectoryCursor(ctx context.Context, directory, cursor string) error {
	u := newUpdate().Set("dir", str(directory)).Set("cur", str(cursor))
	if err := st.updateItem(ctx, u, cursorKey(directory)); err != nil {
		return fmt.Errorf("dynamodb: put the change cursor of %s: %w", directory, err)
	}
	return nil
}

// Runs: the running totals of a policy-check run split into shards.

func runKey(run string) item {
	sum := sha256.Sum256([]byte(run))
	return key("X#"+hex.EncodeToString(sum[:]), "RUN")
}

// CountRun adds a shard's counts to run's totals (one atomic update) and
// returns the totals; the item expires at keepUntil.
func (st *Store) CountRun(ctx context.Context, run string, checked, revoking int, keepUntil time.Time) (runcount.Count, error) {
	exp := map[string]types.AttributeValue{}
	expiry(exp, keepUntil)
	u := newUpdate().Add("chk", num(int64(checked))).Add("rev", num(int64(revoking)))
	for k, v := range exp {
		u.Set(k, v)
	}
	totals, err := st.updateItemNew(ctx, u, runKey(run))
	if err != nil {
		return runcount.Count{}, fmt.Errorf("dynamodb: count run %s: %w", run, err)
	}
	r := readItem(totals)
	c := runcount.Count{Checked: int(r.n("chk")), Revoking: int(r.n("rev")), Tripped: r.b("trip")}
	return c, r.err
}

// TripRun marks run's guard as tripped.
func (st *Store) TripRun(ctx context.Context, run string) error {
	if err := st.updateItem(ctx, newUpdate().Set("trip", boolean(true)), runKey(run)); err != nil {
		return fmt.Errorf("dynamodb: trip run %s: %w", run, err)
	}
	return nil
}

// Item formats: every item the store writes names its format, so that an
// upgrade reads what the previous release left in the table, and a
// release never misreads what a newer one wrote (docs/deploying.md,
// Upgrading).

package dynamostore

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Format is the item format this release writes, in the attribute fv (N)
// of every item: newUpdate stamps every update and putInput every put.
// An item without fv is format 1, what release 0.4.0 wrote. Format 2 only
// adds to format 1 (fv itself, a user's da and ls, a session's dev, the settings' ova, the
// ended-IdP-session, key-set and user-listing items): no attribute of
// format 1 changed its meaning, so a format-1 item is read as it is (a
// session without dev has an unknown device), and becomes format 2 when
// this release next writes to it. A user without ls is listed for the
// admin's search at their next sign-in or policy check.
//
// An item of a newer format is neither read nor written: every read and
// every write of one fails with ErrNewerFormat (a write's condition
// refuses it; a read's decoder does). Such an item was written by a newer
// release, which bumps the format only when an older release would
// misread its items; reading what is understood could let through a
// session the newer release has ended, so this release fails closed (the
// authorizer denies with dependency_unavailable).
const (
	Format       = 2
	formatAttr   = "fv"
	oldestFormat = 1 // an item without fv
)

// ErrNewerFormat is the error of reading or writing an item written in a
// format newer than Format.
var ErrNewerFormat = errors.New("item of a newer format")

// checkFormat returns nil if this release can read it (formats 1 to
// Format; a nil item too), else an error naming its format.
func checkFormat(it item) error {
	v, ok := it[formatAttr]
	if !ok {
		return nil
	}
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return fmt.Errorf("attribute %s has the wrong type", formatAttr)
	}
	f, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil || f < oldestFormat {
		return fmt.Errorf("attribute %s: %q is not an item format", formatAttr, n.Value)
	}
	if f > Format {
		return fmt.Errorf("%w: format %d, and this release reads formats %d to %d; a newer release wrote it (docs/deploying.md#upgrading)",
			ErrNewerFormat, f, oldestFormat, Format)
	}
	return nil
}

// formatKnown is the condition of every write: the item is absent, or of
// a format this release knows.
func formatKnown() expression.ConditionBuilder {
	return name(formatAttr).AttributeNotExists().Or(name(formatAttr).LessThanEqual(val(num(Format))))
}

// writeError is err, unless a write's condition failed on an item this
// release cannot read (formatKnown, seen in the item DynamoDB returns
// with a failed condition): then that item's format error, so that no
// caller takes it for an ordinary failed condition.
func writeError(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if ferr := checkFormat(ccf.Item); ferr != nil {
			return ferr
		}
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if ferr := checkFormat(r.Item); ferr != nil {
				return ferr
			}
		}
	}
	return err
}

// The user listing: every user who signed in to an environment, by
// issuer and subject, so that an admin can find users by the beginning of
// their subject with one Query (no Scan).

package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sessionguard/sessionguard/shared/session"
)

// listedAttr marks a user item whose user is in the listing (BOOL true):
// a sign-in or a policy check of a user without it writes the listing
// item, once.
const listedAttr = "ls"

// userListingPK is the partition of the users of issuer in env. The
// environment id holds no "#" and esc leaves none in the issuer, so no
// pair can name another's partition.
func userListingPK(env, issuer string) string { return "D#" + env + "#" + esc(issuer) }

// userListingSK is the sort key of a subject: the subject as it is, so
// that begins_with on it is exactly a prefix of the subject, and the
// order is the subject's (bytes of UTF-8, as Go compares strings).
func userListingSK(subject string) string { return "U#" + subject }

// userListingItem is user's entry in the listing of env.
func userListingItem(env string, user session.UserKey, at time.Time) item {
	it := key(userListingPK(env, user.Issuer), userListingSK(user.Subject))
	it["iss"] = str(user.Issuer)
	it["sub"] = str(user.Subject)
	it["at"] = nanos(at)
	return it
}

// listingWrite is the put of user's listing entry in a sign-in's
// transaction (unconditional: listing again is harmless).
func (st *Store) listingWrite(env string, user session.UserKey, at time.Time) (types.TransactWriteItem, error) {
	return putWrite(st.table, userListingItem(env, user, at), expression.ConditionBuilder{})
}

// listedIn reports whether a user item (as read, or as an update returned
// it) says its user is in the listing.
func listedIn(it item) bool {
	r := readItem(it)
	return r.b(listedAttr)
}

// listOnce puts user in the listing of env unless the user item (attrs,
// as the caller's update returned it) says it is there, then marks the
// user item. The entry goes first: a failure between the two writes
// leaves the mark unset, and the next call writes the entry again. Both
// are UpdateItems (the entry's creates it): the policy-check functions
// may update the table's items, not put them.
func (st *Store) listOnce(ctx context.Context, env string, user session.UserKey, attrs item, at time.Time) error {
	if listedIn(attrs) {
		return nil
	}
	entry := userListingItem(env, user, at)
	u := newUpdate()
	for _, a := range []string{"iss", "sub", "at"} {
		u.Set(a, entry[a])
	}
	if err := st.updateItem(ctx, u, key(userListingPK(env, user.Issuer), userListingSK(user.Subject))); err != nil {
		return fmt.Errorf("dynamodb: list user %s in %s: %w", user.Subject, env, err)
	}
	if err := st.updateItem(ctx, newUpdate().Set(listedAttr, boolean(true)), userKey(env, user)); err != nil {
		return fmt.Errorf("dynamodb: mark user %s in %s listed: %w", user.Subject, env, err)
	}
	return nil
}

// SearchUsers lists the users of issuer in env whose subject starts with
// prefix (case-sensitive; "" lists them all), by subject, in pages: one
// Query on the listing's partition with begins_with on its sort key. A
// user is listed from their first sign-in, or, for a user the table knew
// before the listing existed, from their next sign-in or policy check.
// A cursor of another listing or prefix is refused (session.ErrBadCursor).
func (st *Store) SearchUsers(ctx context.Context, env, issuer, prefix string, p session.Page) ([]session.UserKey, string, error) {
	pk, sk := userListingPK(env, issuer), userListingSK(prefix)
	if p.Cursor != "" {
		start, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		r := readItem(start)
		if len(start) != 2 || r.s("pk") != pk || !strings.HasPrefix(r.s("sk"), sk) {
			return nil, "", session.ErrBadCursor
		}
	}
	items, next, err := st.query(ctx, "", expression.Key("pk").Equal(expression.Value(pk)).And(expression.Key("sk").BeginsWith(sk)), p)
	if err != nil {
		if errors.Is(err, session.ErrBadCursor) {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("dynamodb: search users of %s in %s: %w", issuer, env, err)
	}
	out := make([]session.UserKey, 0, len(items))
	for _, it := range items {
		r := readItem(it)
		u := session.UserKey{Issuer: r.s("iss"), Subject: r.s("sub")}
		if r.err != nil {
			return nil, "", fmt.Errorf("dynamodb: listing entry of %s in %s: %w", u.Subject, env, r.err)
		}
		out = append(out, u)
	}
	return out, next, nil
}

package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/sessionguard/sessionguard/shared/session"
)

// SearchUsers lists the users of issuer in env whose subject starts with
// prefix (case-sensitive; "" lists them all), by subject, in pages: the
// users on the policy-check schedule, which is every user who signed in
// (as the DynamoDB store's user listing holds them).
func (m *Store) SearchUsers(_ context.Context, env, issuer, prefix string, p session.Page) ([]session.UserKey, string, error) {
	m.mu.RLock()
	var out []session.UserKey
	for ref, u := range m.users {
		if ref.env == env && ref.key.Issuer == issuer && !u.NextCheckAt.IsZero() && strings.HasPrefix(ref.key.Subject, prefix) {
			out = append(out, ref.key)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b session.UserKey) int { return strings.Compare(a.Subject, b.Subject) })
	return page(out, p)
}

package memstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/sessionguard/sessionguard/shared/session"
)

// searchCursor is where a page of a user search ends: the search it
// belongs to (environment, issuer, prefix) and the last subject given. A
// cursor of another search is refused, as the DynamoDB store refuses a
// cursor outside the listing's partition and prefix.
type searchCursor struct {
	Env    string `json:"e"`
	Issuer string `json:"i"`
	Prefix string `json:"p"`
	After  string `json:"a"`
}

func (c searchCursor) encode() string {
	b, _ := json.Marshal(c) // strings only: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(s string) (searchCursor, error) {
	var c searchCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return searchCursor{}, session.ErrBadCursor
	}
	return c, nil
}

// SearchUsers lists the users of issuer in env whose subject starts with
// prefix (case-sensitive; "" lists them all), by subject, in pages: the
// users on the policy-check schedule, which is every user who signed in
// (as the DynamoDB store's user listing holds them). A cursor of another
// search is refused (session.ErrBadCursor).
func (m *Store) SearchUsers(_ context.Context, env, issuer, prefix string, p session.Page) ([]session.UserKey, string, error) {
	after, from := "", false
	if p.Cursor != "" {
		c, err := decodeSearchCursor(p.Cursor)
		if err != nil || c.Env != env || c.Issuer != issuer || c.Prefix != prefix || !strings.HasPrefix(c.After, prefix) {
			return nil, "", session.ErrBadCursor
		}
		after, from = c.After, true
	}
	m.mu.RLock()
	var out []session.UserKey
	for ref, u := range m.users {
		if ref.env == env && ref.key.Issuer == issuer && !u.NextCheckAt.IsZero() && strings.HasPrefix(ref.key.Subject, prefix) &&
			(!from || ref.key.Subject > after) {
			out = append(out, ref.key)
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b session.UserKey) int { return strings.Compare(a.Subject, b.Subject) })
	size := p.Limit
	if size <= 0 {
		size = DefaultPageSize
	}
	if len(out) <= size {
		return out, "", nil
	}
	out = out[:size]
	return out, searchCursor{Env: env, Issuer: issuer, Prefix: prefix, After: out[size-1].Subject}.encode(), nil
}

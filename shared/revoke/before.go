package revoke

import "time"

// Before is the latest time a store can keep that is strictly before t.
// The stores keep times to the nanosecond (the store contract holds it),
// so a revocation of the user's sessions from Before(s.CreatedAt) ends
// every session created before s and none created with it or after: the
// user's "sign out everywhere else" (shared/sessionapi).
func Before(t time.Time) time.Time { return t.Add(-time.Nanosecond) }

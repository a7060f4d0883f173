// Package runcount holds the running totals of a policy-check run split
// into shards, as the store keeps them: each shard's worker adds to them
// (shared/refresher), and the mass-revocation guard judges them across
// the shards of the run.
package runcount

// Count is the running total of one policy-check run split into shards.
type Count struct {
	Checked  int  // users the directory answered for, all shards so far
	Revoking int  // of them, users whose sessions would be revoked
	Tripped  bool // the guard tripped: no shard revokes any more
}

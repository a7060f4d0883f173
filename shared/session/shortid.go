package session

import (
	"crypto/sha256"
	"encoding/hex"
)

// ShortIDLen is the length of a short session id, in hex digits.
const ShortIDLen = 12

// ShortID is the short, non-secret name of the session whose raw id is
// id: the first 12 lowercase hex digits of the SHA-256 of the id, the
// same as Hash.Short of its hash. People read it to tell sessions apart
// (in lists, in the console); it finds nothing and authorizes nothing,
// and the id cannot be recovered from it.
func ShortID(id string) string { return Hash(sha256.Sum256([]byte(id))).Short() }

// Short is ShortID of the session with hash h, for the places that hold
// only the hash (stores, listings).
func (h Hash) Short() string { return hex.EncodeToString(h[:ShortIDLen/2]) }

package devidp

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
)

// SignPSSSalt signs input for PS256 with priv and the given salt, of any
// length, none included (crypto/rsa's SignPSS reads a salt length of 0 as
// "as long as possible", and so cannot make one without a salt): for
// tests that a verifier takes only the salt length PS256 names, the
// hash's. It encodes the SHA-256 digest of input with the PSS encoding
// (the MGF1 mask on SHA-256) and applies the private key.
func SignPSSSalt(priv *rsa.PrivateKey, input, salt []byte) ([]byte, error) {
	const hLen = sha256.Size
	digest := sha256.Sum256(input)
	emBits := priv.N.BitLen() - 1
	emLen := (emBits + 7) / 8
	if emLen < hLen+len(salt)+2 {
		return nil, errors.New("devidp: the salt is too long for the key")
	}
	m := sha256.New()
	m.Write(make([]byte, 8))
	m.Write(digest[:])
	m.Write(salt)
	h := m.Sum(nil)
	db := make([]byte, emLen-hLen-1)
	db[len(db)-len(salt)-1] = 0x01
	copy(db[len(db)-len(salt):], salt)
	// MGF1 with SHA-256: the mask is SHA-256(h || counter) for counter
	// 0, 1, ..., cut to the length of db.
	for counter, done := uint32(0), 0; done < len(db); counter++ {
		c := sha256.New()
		c.Write(h)
		c.Write([]byte{byte(counter >> 24), byte(counter >> 16), byte(counter >> 8), byte(counter)})
		for _, b := range c.Sum(nil) {
			if done == len(db) {
				break
			}
			db[done] ^= b
			done++
		}
	}
	db[0] &= 0xff >> (8*emLen - emBits)
	em := append(append(db, h...), 0xbc)
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), priv.D, priv.N)
	return s.FillBytes(make([]byte, priv.Size())), nil
}

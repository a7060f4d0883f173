package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"
)

// The default bounds on a proof's iat (DPOP_PROOF_MAX_AGE_SECONDS,
// DPOP_PROOF_MAX_FUTURE_SECONDS).
const (
	DefaultMaxAge    = 60 * time.Second
	DefaultMaxFuture = 10 * time.Second
)

// ReplayStore remembers the proofs already used. One conditional write
// per proof checked.
type ReplayStore interface {
	// RecordProof records a proof by its key (ReplayKey) until keepUntil
	// and reports whether this is its first use; false is a replay. A
	// record past keepUntil counts as absent.
	RecordProof(ctx context.Context, key [32]byte, keepUntil time.Time) (bool, error)
}

// ReplayKey is what the replay store keeps of a proof: the SHA-256 of its
// key's thumbprint and its jti, so that one client's jti never collides
// with another's and nothing stored names the key or the proof.
func ReplayKey(thumbprint, jti string) [32]byte {
	return sha256.Sum256([]byte(thumbprint + "\x00" + jti))
}

// Config configures a Checker.
type Config struct {
	// MaxAge is how old a proof's iat may be; MaxFuture how far ahead of
	// the clock. Zero: the defaults.
	MaxAge, MaxFuture time.Duration
	// Replay records each proof's jti; required.
	Replay ReplayStore
	// Keys caches parsed proof keys; nil: a cache of
	// DefaultKeyCacheEntries.
	Keys *KeyCache
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Checker checks proofs. It is safe for concurrent use.
type Checker struct{ cfg Config }

// NewChecker returns a Checker.
func NewChecker(c Config) *Checker {
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.MaxFuture <= 0 {
		c.MaxFuture = DefaultMaxFuture
	}
	if c.Keys == nil {
		c.Keys = NewKeyCache(DefaultKeyCacheEntries)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Checker{cfg: c}
}

// Window is the time a proof is accepted in around its iat: MaxFuture
// before it to MaxAge after it.
func (c *Checker) Window() (maxAge, maxFuture time.Duration) { return c.cfg.MaxAge, c.cfg.MaxFuture }

// Binding is what a proof must be bound to besides its request.
type Binding struct {
	// AccessToken is the token presented with the proof: its hash must be
	// the proof's ath. "" when no token is judged (sign-out).
	AccessToken string
	// TokenBound: the token must be bound to the proof's key (the DPoP
	// scheme, or a token that names a key); TokenKey is its cnf.jkt.
	TokenBound bool
	TokenKey   string
	// SessionKey is the key the session is bound to; "" for none.
	SessionKey string
}

// Check checks raw, a DPoP header's proof, for req and b, in this order,
// and returns the proof, or an *Error naming the first check that failed
// (any other error: the replay store failed, and nothing may pass):
//
//   - the header (Parse): typ, alg, jwk, signature;
//   - htm is req's method; htu is https:// + req's host + req's path
//     (query and fragment ignored; scheme and host in any letter case,
//     the default port optional, percent-encoding compared in one
//     canonical form; plain http only to a loopback host);
//   - iat is at most MaxAge old and MaxFuture ahead (the skew found is
//     Error.Skew);
//   - jti is present and has not been used by this key within the
//     window (ReplayStore);
//   - ath is base64url(SHA-256(b.AccessToken)), when a token is judged;
//   - the token's cnf.jkt is the proof key's thumbprint, when the token
//     must be bound; the session's key is, when it has one.
func (c *Checker) Check(ctx context.Context, raw string, req Request, b Binding) (*Proof, error) {
	p, err := Parse(raw, c.cfg.Keys)
	if err != nil {
		return nil, err
	}
	switch {
	case p.bad["htm"] || p.HTM == "":
		return nil, invalid(CheckHTM, "no htm string in the proof")
	case p.HTM != req.Method:
		return nil, invalid(CheckHTM, "htm %.20q is not the request's method %q", p.HTM, req.Method)
	}
	switch {
	case p.bad["htu"] || p.HTU == "":
		return nil, invalid(CheckHTU, "no htu string in the proof")
	case req.Host == "":
		return nil, invalid(CheckHTU, "the event names no domain name (requestContext.domainName): the URL called is unknown")
	case !SameURL(p.HTU, req):
		return nil, invalid(CheckHTU, "htu %.200q is not the request's URL %q", p.HTU, URLOf(req))
	}
	now := c.cfg.Now()
	if p.bad["iat"] || p.IAT.IsZero() {
		return nil, invalid(CheckIAT, "no iat number in the proof")
	}
	switch skew := now.Sub(p.IAT); {
	case skew > c.cfg.MaxAge:
		e := invalid(CheckIAT, "the proof was made %s ago; at most %s is accepted", skew.Round(time.Millisecond), c.cfg.MaxAge)
		e.Skew = skew
		return nil, e
	case -skew > c.cfg.MaxFuture:
		e := invalid(CheckIAT, "the proof was made %s in the future; at most %s is accepted", (-skew).Round(time.Millisecond), c.cfg.MaxFuture)
		e.Skew = skew
		return nil, e
	}
	switch {
	case p.bad["jti"] || p.JTI == "":
		return nil, invalid(CheckJTI, "no jti string in the proof")
	case len(p.JTI) > maxJTIBytes:
		return nil, invalid(CheckJTI, "a jti of %d bytes exceeds %d", len(p.JTI), maxJTIBytes)
	}
	// Accepted until iat+MaxAge: remembered until just after.
	first, err := c.cfg.Replay.RecordProof(ctx, ReplayKey(p.Thumbprint, p.JTI), p.IAT.Add(c.cfg.MaxAge+time.Second))
	if err != nil {
		return nil, fmt.Errorf("dpop: record the proof's jti: %w", err)
	}
	if !first {
		return nil, invalid(CheckJTI, "the proof's jti was already used within its window: a replay")
	}
	if b.AccessToken != "" {
		sum := sha256.Sum256([]byte(b.AccessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		switch {
		case p.bad["ath"] || p.ATH == "":
			return nil, invalid(CheckATH, "no ath in a proof sent with an access token")
		case subtle.ConstantTimeCompare([]byte(p.ATH), []byte(want)) != 1:
			return nil, invalid(CheckATH, "ath is not the hash of the access token sent")
		}
	}
	if b.TokenBound {
		switch {
		case b.TokenKey == "":
			return nil, invalid(CheckJKT, "the access token is not bound to a key (no cnf.jkt)")
		case subtle.ConstantTimeCompare([]byte(b.TokenKey), []byte(p.Thumbprint)) != 1:
			return nil, invalid(CheckJKT, "the access token is bound to another key than the proof's")
		}
	}
	if b.SessionKey != "" && subtle.ConstantTimeCompare([]byte(b.SessionKey), []byte(p.Thumbprint)) != 1 {
		return nil, invalid(CheckSession, "the session is bound to another key than the proof's")
	}
	return p, nil
}

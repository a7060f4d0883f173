// Package devidp is a development OIDC issuer: discovery, a JWKS with RSA,
// EC P-256 and Ed25519 keys, and an endpoint that mints an access token for
// any named user. It backs `make run` and the tests. It authenticates no
// one: never expose it beyond loopback.
package devidp

import (
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// Defaults for minted tokens.
const (
	DefaultAudience = "api://sessionguard-demo"
	DefaultClientID = "demo-web"
)

// Issuer is a development token issuer. It is safe for concurrent use.
type Issuer struct {
	mu     sync.RWMutex
	url    string
	keys   []*Key
	down   bool
	now    func() time.Time
	serial int

	fetches atomic.Int64
	codes   codes

	txOnce  sync.Once
	txState *transmitter // Shared Signals streams (transmitter.go)
}

// New returns an issuer for url with one key each for RS256, ES256 and EdDSA.
// now may be nil for time.Now.
func New(url string, now func() time.Time) (*Issuer, error) {
	if now == nil {
		now = time.Now
	}
	i := &Issuer{url: url, now: now}
	for _, alg := range []jwa.SignatureAlgorithm{jwa.RS256, jwa.ES256, jwa.EdDSA} {
		if _, err := i.AddKey(alg); err != nil {
			return nil, err
		}
	}
	return i, nil
}

// NewServer starts an issuer on a loopback httptest server, with its URL as
// the issuer identifier, for tests. stop shuts the server down.
func NewServer(now func() time.Time) (i *Issuer, stop func(), err error) {
	if i, err = New("", now); err != nil {
		return nil, nil, err
	}
	srv := httptest.NewServer(i)
	i.SetURL(srv.URL)
	return i, srv.Close, nil
}

// URL is the issuer identifier ("iss").
func (i *Issuer) URL() string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.url
}

// SetURL changes the issuer identifier, for servers whose address is known
// only once they listen.
func (i *Issuer) SetURL(url string) {
	i.mu.Lock()
	i.url = url
	i.mu.Unlock()
}

// SetDown makes the discovery and JWKS endpoints answer 503 (an outage).
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	i.down = down
	i.mu.Unlock()
}

// Fetches counts the JWKS requests served.
func (i *Issuer) Fetches() int64 { return i.fetches.Load() }

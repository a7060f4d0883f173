package local

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/infra/devidp"
)

// demoKeys are the local stack's stand-ins for the DPoP keys of client
// devices, by name, so that the quick-start's curl commands can sign
// proofs (a browser signs them with its own key: clients/browser/dpop.js).
// Like the development issuer, they sign for anyone: loopback only.
type demoKeys struct {
	mu   sync.Mutex
	keys map[string]*devidp.DPoPKey
}

var keyName = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func (k *demoKeys) get(name string) (*devidp.DPoPKey, error) {
	if !keyName.MatchString(name) {
		return nil, fmt.Errorf("key: give a name of 1 to 64 lowercase letters, digits or -")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = map[string]*devidp.DPoPKey{}
	}
	if key := k.keys[name]; key != nil {
		return key, nil
	}
	key, err := devidp.NewDPoPKey(jwa.ES256, nil)
	if err != nil {
		return nil, err
	}
	k.keys[name] = key
	return key, nil
}

// ServeHTTP serves
//
//	GET /local/dpop/jkt?key=NAME        the key's thumbprint (for /idp/token?jkt=)
//	GET /local/dpop/proof?key=NAME&htm=METHOD&htu=URL[&token=ACCESS_TOKEN]
//	                                    a fresh proof by the key, for the DPoP header
//
// The key named is made on first use.
func (k *demoKeys) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, err := k.get(q.Get("key"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/local/dpop/jkt":
		fmt.Fprint(w, key.Thumbprint)
	case "/local/dpop/proof":
		if q.Get("htm") == "" || q.Get("htu") == "" {
			http.Error(w, "give htm (the request's method) and htu (its URL)", http.StatusBadRequest)
			return
		}
		proof, err := key.Sign(devidp.Proof{Method: q.Get("htm"), URL: q.Get("htu"), AccessToken: q.Get("token")})
		if err != nil {
			http.Error(w, "could not sign a proof", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, proof)
	default:
		http.NotFound(w, r)
	}
}

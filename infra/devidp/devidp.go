// Package devidp is a development OIDC issuer: discovery, a JWKS with RSA,
// EC P-256 and Ed25519 keys, and an endpoint that mints an access token for
// any named user. It backs `make run` and the tests. It authenticates no
// one: never expose it beyond loopback.
package devidp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
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

// Key is one signing key of the issuer.
type Key struct {
	Kid     string
	Alg     jwa.SignatureAlgorithm
	Private crypto.Signer
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

// AddKey generates a key for alg (RS256, PS256, ES256, ES384, EdDSA), adds
// it to the published set, and returns it.
func (i *Issuer) AddKey(alg jwa.SignatureAlgorithm) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jwa.RS256, jwa.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jwa.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("devidp: unsupported algorithm %s", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("devidp: generate %s key: %w", alg, err)
	}
	var nonce [4]byte
	rand.Read(nonce[:])
	i.mu.Lock()
	defer i.mu.Unlock()
	i.serial++
	k := &Key{Kid: fmt.Sprintf("dev-%s-%d-%x", alg, i.serial, nonce), Alg: alg, Private: priv}
	i.keys = append(i.keys, k)
	return k, nil
}

// RemoveKey stops publishing the key with kid (a rotation's second half).
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, k := range i.keys {
		if k.Kid == kid {
			i.keys = append(i.keys[:n:n], i.keys[n+1:]...)
			return
		}
	}
}

// KeyFor returns the newest published key for alg, or nil.
func (i *Issuer) KeyFor(alg jwa.SignatureAlgorithm) *Key {
	i.mu.RLock()
	defer i.mu.RUnlock()
	for n := len(i.keys) - 1; n >= 0; n-- {
		if i.keys[n].Alg == alg {
			return i.keys[n]
		}
	}
	return nil
}

// SetDown makes the discovery and JWKS endpoints answer 503 (an outage).
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	i.down = down
	i.mu.Unlock()
}

// Fetches counts the JWKS requests served.
func (i *Issuer) Fetches() int64 { return i.fetches.Load() }

// JWKS returns the published key set as JSON.
func (i *Issuer) JWKS() ([]byte, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	set := jwk.NewSet()
	for _, k := range i.keys {
		pub, err := jwk.PublicKeyOf(k.Private)
		if err != nil {
			return nil, fmt.Errorf("devidp: public key of %s: %w", k.Kid, err)
		}
		_ = pub.Set(jwk.KeyIDKey, k.Kid)
		_ = pub.Set(jwk.AlgorithmKey, k.Alg)
		_ = pub.Set(jwk.KeyUsageKey, "sig")
		_ = set.AddKey(pub)
	}
	return json.Marshal(set)
}

// Token describes a token to mint. Zero fields take defaults.
type Token struct {
	User      string // "sub"
	ClientID  string // "azp"; default DefaultClientID
	Audience  string // default DefaultAudience
	Issuer    string // default the issuer's URL
	Alg       jwa.SignatureAlgorithm
	TTL       time.Duration // default 1h
	AuthTime  time.Time     // default now
	IssuedAt  time.Time     // default now
	NotBefore time.Time     // default absent
	// Claims are added to (or override) the payload.
	Claims map[string]any
	// Headers are added to the protected header (e.g. jku, for attacks).
	Headers map[string]any
	// Key signs instead of the issuer's newest key for Alg.
	Key *Key
}

// Mint signs a token with the issuer's key for t.Alg (default RS256).
func (i *Issuer) Mint(t Token) (string, error) {
	if t.Alg == "" {
		t.Alg = jwa.RS256
	}
	key := t.Key
	if key == nil {
		if key = i.KeyFor(t.Alg); key == nil {
			return "", fmt.Errorf("devidp: no key for %s", t.Alg)
		}
	}
	now := i.now()
	def := func(v, d time.Time) time.Time {
		if v.IsZero() {
			return d
		}
		return v
	}
	if t.TTL == 0 {
		t.TTL = time.Hour
	}
	claims := map[string]any{
		"iss":       or(t.Issuer, i.URL()),
		"sub":       t.User,
		"aud":       or(t.Audience, DefaultAudience),
		"azp":       or(t.ClientID, DefaultClientID),
		"iat":       def(t.IssuedAt, now).Unix(),
		"auth_time": def(t.AuthTime, now).Unix(),
		"exp":       now.Add(t.TTL).Unix(),
		"scope":     "openid profile",
		// Realistic padding: access tokens from real IdPs run to 1-1.5 KB.
		"name": "Development User " + t.User, "preferred_username": t.User + "@example.test",
		"roles": []string{"reader"}, "ver": "2.0", "tid": "00000000-0000-0000-0000-000000000000",
	}
	if !t.NotBefore.IsZero() {
		claims["nbf"] = t.NotBefore.Unix()
	}
	for k, v := range t.Claims {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: encode claims: %w", err)
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, key.Kid)
	_ = hdr.Set(jws.TypeKey, "at+jwt")
	for k, v := range t.Headers {
		if err := hdr.Set(k, v); err != nil {
			return "", fmt.Errorf("devidp: header %s: %w", k, err)
		}
	}
	signed, err := jws.Sign(payload, jws.WithKey(t.Alg, key.Private, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("devidp: sign: %w", err)
	}
	return string(signed), nil
}

// SETAudience is the audience of the SETs MintSET makes by default: the
// local stack's signals receiver.
const SETAudience = "sessionguard-local-signals"

// MintSET signs a Security Event Token (RFC 8417) about user: one event of
// type event (a full URI, or a CAEP/RISC short name such as
// session-revoked or account-disabled), subject iss_sub.
func (i *Issuer) MintSET(user, event, audience string) (string, error) {
	if !strings.Contains(event, "://") {
		family := "caep"
		if strings.HasPrefix(event, "account-") {
			family = "risc"
		}
		event = "https://schemas.openid.net/secevent/" + family + "/event-type/" + event
	}
	var jti [12]byte
	rand.Read(jti[:])
	drop := map[string]any{}
	for _, k := range []string{"sub", "azp", "exp", "auth_time", "scope", "name", "preferred_username", "roles", "ver", "tid"} {
		drop[k] = nil
	}
	drop["jti"] = hex.EncodeToString(jti[:])
	drop["sub_id"] = map[string]any{"format": "iss_sub", "iss": i.URL(), "sub": user}
	drop["events"] = map[string]any{event: map[string]any{"event_timestamp": i.now().Unix()}}
	return i.Mint(Token{Audience: or(audience, SETAudience), Claims: drop, Headers: map[string]any{"typ": "secevent+jwt"}})
}

// MintLogout signs an OpenID Connect Back-Channel Logout token for the
// client: about user's IdP session sid (either may be empty, not both).
func (i *Issuer) MintLogout(user, sid, client string) (string, error) {
	var jti [12]byte
	rand.Read(jti[:])
	c := map[string]any{}
	for _, k := range []string{"sub", "azp", "auth_time", "scope", "name", "preferred_username", "roles", "ver", "tid"} {
		c[k] = nil
	}
	if user != "" {
		c["sub"] = user
	}
	if sid != "" {
		c["sid"] = sid
	}
	c["jti"] = hex.EncodeToString(jti[:])
	c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}
	return i.Mint(Token{Audience: or(client, DefaultClientID), TTL: 2 * time.Minute, Claims: c, Headers: map[string]any{"typ": "logout+jwt"}})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ServeHTTP serves discovery, the JWKS and the token endpoint, relative to
// the handler's mount point:
//
//	GET /.well-known/openid-configuration
//	GET /jwks.json
//	GET|POST /token?user=NAME[&client_id=ID][&alg=RS256|ES256|EdDSA][&ttl=SECONDS]
//
// The token endpoint answers the bare token as text/plain.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i.mu.RLock()
	down := i.down
	i.mu.RUnlock()
	if i.serveTransmitter(w, r) {
		return
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, map[string]any{
			"issuer":                                i.URL(),
			"jwks_uri":                              i.URL() + "/jwks.json",
			"token_endpoint":                        i.URL() + "/token",
			"authorization_endpoint":                i.URL() + "/authorize",
			"code_challenge_methods_supported":      []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"},
		})
	case "/jwks.json":
		i.fetches.Add(1)
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		body, err := i.JWKS()
		if err != nil {
			http.Error(w, "key set unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	case "/authorize":
		i.serveAuthorize(w, r)
	case "/token":
		i.serveToken(w, r)
	case "/set":
		user, event := r.URL.Query().Get("user"), r.URL.Query().Get("event")
		if user == "" || event == "" {
			http.Error(w, "give ?user=NAME&event=session-revoked|credential-change|account-disabled|account-purged", http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("deliver") != "" { // through the Shared Signals streams
			n, err := i.Emit(user, event)
			if err != nil {
				http.Error(w, "delivery failed: "+err.Error(), http.StatusBadGateway)
				return
			}
			fmt.Fprintf(w, "delivered to %d stream(s)\n", n)
			return
		}
		set, err := i.MintSET(user, event, r.URL.Query().Get("aud"))
		if err != nil {
			http.Error(w, "could not mint a SET", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/secevent+jwt")
		fmt.Fprint(w, set)
	default:
		http.NotFound(w, r)
	}
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost && r.Form.Get("grant_type") == "authorization_code" {
		w.Header().Set("Access-Control-Allow-Origin", "*") // a browser app redeems its code here
		i.redeem(w, r)
		return
	}
	user := r.Form.Get("user")
	if user == "" || len(user) > 128 {
		http.Error(w, "user: give a user name of 1 to 128 characters, e.g. ?user=alice", http.StatusBadRequest)
		return
	}
	t := Token{User: user, ClientID: r.Form.Get("client_id"), Alg: jwa.SignatureAlgorithm(r.Form.Get("alg"))}
	if roles := r.Form["role"]; len(roles) > 0 { // ?role=sessionguard-admin, repeatable
		t.Claims = map[string]any{"roles": roles}
	}
	if s := r.Form.Get("ttl"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 86400 {
			http.Error(w, "ttl: give seconds from 1 to 86400", http.StatusBadRequest)
			return
		}
		t.TTL = time.Duration(n) * time.Second
	}
	switch t.Alg {
	case "", jwa.RS256, jwa.ES256, jwa.EdDSA:
	default:
		http.Error(w, "alg: one of RS256, ES256, EdDSA", http.StatusBadRequest)
		return
	}
	mint := i.Mint
	if p := r.Form.Get("profile"); p != "" && p != "oidc" {
		if !slices.Contains(Profiles, p) {
			http.Error(w, "profile: one of oidc, "+strings.Join(Profiles, ", "), http.StatusBadRequest)
			return
		}
		mint = func(t Token) (string, error) { return i.MintProfile(p, t) }
	}
	tok, err := mint(t)
	if err != nil {
		http.Error(w, "could not mint a token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintln(w, tok)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

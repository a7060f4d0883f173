package devidp

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
)

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

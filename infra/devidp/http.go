package devidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// ServeHTTP serves discovery, the JWKS and the token endpoint, relative to
// the handler's mount point:
//
//	GET /.well-known/openid-configuration
//	GET /jwks.json
//	GET|POST /token?user=NAME[&client_id=ID][&alg=RS256|ES256|EdDSA][&ttl=SECONDS][&jkt=THUMBPRINT]
//
// The token endpoint answers the bare token as text/plain. With jkt (a
// key's SHA-256 thumbprint, 43 base64url characters) the token is
// DPoP-bound to that key: cnf.jkt.
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
	if jkt := r.Form.Get("jkt"); jkt != "" {
		if !isThumbprint(jkt) {
			http.Error(w, "jkt: give the SHA-256 thumbprint of the client's DPoP key (43 base64url characters)", http.StatusBadRequest)
			return
		}
		if t.Claims == nil {
			t.Claims = map[string]any{}
		}
		t.Claims["cnf"] = map[string]any{"jkt": jkt}
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

// isThumbprint reports whether s has the shape of a SHA-256 thumbprint:
// 43 base64url characters.
func isThumbprint(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

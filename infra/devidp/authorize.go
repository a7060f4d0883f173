package devidp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The authorization code flow with PKCE (RFC 7636), for browser apps such
// as the admin console: /authorize shows a form asking who to be (this is
// a development issuer: no password), then redirects back with a code the
// app redeems at /token with its code verifier.

type grant struct {
	user, redirect, challenge string
	roles                     []string
	expires                   time.Time
}

type codes struct {
	mu sync.Mutex
	m  map[string]grant
}

var authorizeForm = template.Must(template.New("authorize").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title><link rel="icon" href="data:,">
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto}label{display:block;margin:.8rem 0}
input[type=text]{font:inherit;padding:.3rem;width:100%}button{font:inherit;padding:.4rem 1rem}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}</style></head>
<body><main><h1>Development sign-in</h1>
<p>The local stack's development issuer: anyone may sign in as anyone.</p>
<form method="post">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label for="username">User name</label><input id="username" name="user" type="text" required autofocus value="root">
<label><input id="admin" name="role" type="checkbox" value="sessionguard-admin" checked> with the sessionguard-admin role</label>
<button id="signin" type="submit">Sign in</button>
</form></main></body></html>`))

// loopback reports whether a redirect URI goes back to this machine: the
// development issuer sends codes nowhere else.
func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

func (i *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	q := r.Form
	redirect := q.Get("redirect_uri")
	if q.Get("response_type") != "code" || !loopback(redirect) || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		http.Error(w, "want response_type=code, a loopback redirect_uri, and a S256 code_challenge", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		params := map[string]string{}
		for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"} {
			params[k] = q.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		authorizeForm.Execute(w, map[string]any{"Params": params})
		return
	}
	user := q.Get("user")
	if user == "" || len(user) > 128 {
		http.Error(w, "user: 1 to 128 characters", http.StatusBadRequest)
		return
	}
	var b [24]byte
	rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	i.codes.mu.Lock()
	if i.codes.m == nil {
		i.codes.m = map[string]grant{}
	}
	i.codes.m[code] = grant{user: user, redirect: redirect, challenge: q.Get("code_challenge"), roles: q["role"], expires: i.now().Add(time.Minute)}
	i.codes.mu.Unlock()
	back, _ := url.Parse(redirect)
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// redeem exchanges a code for a token: once, within a minute, with the
// verifier whose S256 hash was the challenge, for the same redirect URI.
func (i *Issuer) redeem(w http.ResponseWriter, r *http.Request) {
	code, verifier := r.Form.Get("code"), r.Form.Get("code_verifier")
	i.codes.mu.Lock()
	g, ok := i.codes.m[code]
	delete(i.codes.m, code)
	i.codes.mu.Unlock()
	sum := sha256.Sum256([]byte(verifier))
	if !ok || i.now().After(g.expires) || g.redirect != r.Form.Get("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	t := Token{User: g.user, ClientID: r.Form.Get("client_id")}
	if len(g.roles) > 0 {
		t.Claims = map[string]any{"roles": g.roles}
	}
	tok, err := i.Mint(t)
	if err != nil {
		http.Error(w, "could not mint a token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

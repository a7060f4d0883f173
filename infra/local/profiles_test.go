package local

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/devidp"
)

// Every profile's token shape, minted by the development issuer at
// /idp/token?profile=…, signs in and passes the authorizer on the demo
// route; the context names the profile's user and client.
func TestEveryProfileSignsIn(t *testing.T) {
	s, err := Start(Options{Addr: "127.0.0.1:0", CheckEvery: -1, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(req *http.Request) (int, []byte) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	for _, p := range devidp.Profiles {
		t.Run(p, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.URL+"/idp/token?user=mary&profile="+p, nil)
			code, tok := get(req)
			if code != 200 {
				t.Fatalf("mint: %d %s", code, tok)
			}
			bearer := "Bearer " + strings.TrimSpace(string(tok))
			req, _ = http.NewRequest("POST", s.URL+"/sessions", strings.NewReader("{}"))
			req.Header.Set("Authorization", bearer)
			req.Header.Set("Content-Type", "application/json")
			code, body := get(req)
			if code != 201 {
				t.Fatalf("sign-in: %d %s", code, body)
			}
			var sess struct{ SessionID string }
			json.Unmarshal(body, &sess)
			req, _ = http.NewRequest("GET", s.URL+"/demo", nil)
			req.Header.Set("Authorization", bearer)
			req.Header.Set("X-Session-Id", sess.SessionID)
			code, body = get(req)
			if code != 200 {
				t.Fatalf("demo: %d %s", code, body)
			}
			var d struct{ Authorizer map[string]any }
			json.Unmarshal(body, &d)
			if d.Authorizer["issuer"] != s.IdP.ProfileIssuer(p) || d.Authorizer["clientId"] != devidp.DefaultClientID || d.Authorizer["userId"] == "" {
				t.Fatalf("context = %v; want the %s issuer, client %s and a user", d.Authorizer, p, devidp.DefaultClientID)
			}
		})
	}
}

// The example app's routes (examples/app), served under /example/ behind
// the authorizer: a valid session is allowed and the route sees its user
// from the authorizer context; no session is 401; after sign-out, 401.
func TestExampleAppBehindTheAuthorizer(t *testing.T) {
	s, err := Start(Options{Addr: "127.0.0.1:0", CheckEvery: -1, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, sid := signIn(t, s, "erin")
	get := func(tok, sid string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", s.URL+"/example/hello", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if sid != "" {
			req.Header.Set("X-Session-Id", sid)
		}
		req.Header.Set("X-User-Id", "mallory") // a header naming a user is never believed
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	code, body := get(tok, sid)
	caller, _ := body["caller"].(map[string]any)
	if code != 200 || caller["userId"] != "erin" || caller["environment"] != Environment {
		t.Fatalf("with a session: %d %v; want 200 for erin in %s", code, body, Environment)
	}
	if code, _ := get(tok, ""); code != 401 {
		t.Errorf("without a session: %d; want 401", code)
	}
	req, _ := http.NewRequest("DELETE", s.URL+"/sessions/current", nil)
	req.Header.Set("X-Session-Id", sid)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("sign-out: %v %v", resp, err)
	}
	if code, _ := get(tok, sid); code != 401 {
		t.Errorf("after sign-out: %d; want 401", code)
	}
}

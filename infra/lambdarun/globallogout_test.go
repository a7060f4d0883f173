package lambdarun_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
)

// apiAnswer is an API Gateway proxy answer of the sessions function.
type apiAnswer struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func (a apiAnswer) reason() string {
	var p struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal([]byte(a.Body), &p)
	return p.Reason
}

// Global token revocation through the real sessions binary under the
// emulator, against requests signed the way Okta's Universal Logout signs
// them: RS256 with the key's kid, by the issuer whose access tokens the
// entry trusts (here the development issuer's okta-shaped issuer, standing
// for an Okta org authorization server), typ global-token-revocation+jwt,
// aud the endpoint's URL, a jti, five minutes of validity. Every refusal
// (no Authorization, a wrong aud, an expired JWT, a replayed jti, another
// issuer's subject) changes nothing; the accepted request ends the user's
// sessions in every environment, a sign-in with a token authenticated
// before it is refused (401 session_revoked) and one authenticated after
// it starts a session.
func TestGlobalTokenRevocationUnderTheEmulator(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	exe := buildFunction(t, "sessions")
	sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, "global-logout")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	idp := sb.IdP
	okta := idp.ProfileIssuer("okta")
	trusted, _ := json.Marshal([]map[string]any{
		{"issuer": idp.URL(), "audiences": []string{devidp.DefaultAudience}, "clientIds": []string{devidp.DefaultClientID},
			"universalLogout": map[string]any{"audience": lambdarun.RevocationEndpoint}},
		{"issuer": okta, "profile": "okta", "jwksUrl": idp.URL() + "/jwks.json", "audiences": []string{devidp.DefaultAudience},
			"universalLogout": map[string]any{"audience": lambdarun.RevocationEndpoint}},
	})
	f, err := lambdarun.Start(exe, append(slices.Clone(sb.Env), "TRUSTED_ISSUERS="+string(trusted), "ENVIRONMENTS=demo,staging"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	invoke := func(ev []byte) apiAnswer {
		t.Helper()
		res, err := f.Invoke(ctx, ev)
		var a apiAnswer
		if err != nil || res.Error || json.Unmarshal(res.Payload, &a) != nil {
			t.Fatalf("invoke = %s, %v (error %v)\nlogs:\n%s", res.Payload, err, res.Error, f.Logs())
		}
		return a
	}
	// An event of the sample file, with its placeholders and environment.
	event := func(name, env string, values map[string]string) []byte {
		t.Helper()
		ev, err := events.Load(name, values)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(strings.Replace(string(ev), `"environment": "demo"`, `"environment": "`+env+`"`, 1))
	}
	oktaToken := func(user string, at time.Time) string {
		t.Helper()
		raw, err := idp.MintProfile("okta", devidp.Token{User: user, IssuedAt: at, AuthTime: at})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	signIn := func(tok, env string) apiAnswer {
		t.Helper()
		return invoke(event("sessions/sign-in.json", env, map[string]string{events.AccessToken: tok}))
	}
	sessionOf := func(a apiAnswer) string {
		t.Helper()
		var b struct {
			SessionID string `json:"sessionId"`
		}
		if a.StatusCode != 201 || json.Unmarshal([]byte(a.Body), &b) != nil || b.SessionID == "" {
			t.Fatalf("sign-in = %d %s; want 201 with a session", a.StatusCode, a.Body)
		}
		return b.SessionID
	}
	current := func(tok, sid, env string) apiAnswer {
		t.Helper()
		return invoke(event("sessions/current.json", env, map[string]string{events.AccessToken: tok, events.SessionID: sid}))
	}
	// A revocation request: Authorization auth ("" for none), the body.
	revocation := func(auth string, body map[string]any) []byte {
		t.Helper()
		ev, err := events.Load("sessions/global-token-revocation.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil {
			t.Fatal(err)
		}
		h := m["headers"].(map[string]any)
		delete(h, "authorization")
		if auth != "" {
			h["authorization"] = auth
		}
		b, _ := json.Marshal(body)
		m["body"] = string(b)
		out, _ := json.Marshal(m)
		return out
	}
	jwt := func(claims map[string]any) string {
		t.Helper()
		raw, err := lambdarun.RevocationJWT(idp, okta, lambdarun.RevocationEndpoint, claims)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}

	// Alice (okta-shaped tokens: her user is her uid) signs in to both
	// environments; bob to one; and a user of the other trusted issuer.
	before := time.Now().Add(-time.Minute)
	aliceTok := oktaToken("alice", before)
	uid := claim(t, aliceTok, "uid")
	aliceDemo, aliceStaging := sessionOf(signIn(aliceTok, "demo")), sessionOf(signIn(aliceTok, "staging"))
	bobTok := oktaToken("bob", before)
	bobDemo := sessionOf(signIn(bobTok, "demo"))
	otherTok, err := idp.Mint(devidp.Token{User: uid}) // the other issuer's user, with the same id
	if err != nil {
		t.Fatal(err)
	}
	otherDemo := sessionOf(signIn(otherTok, "demo"))
	alice := map[string]any{"sub_id": map[string]any{"format": "iss_sub", "iss": okta, "sub": uid}}

	// Every refusal: its status and reason code, and alice's sessions live.
	for _, c := range []struct {
		name   string
		ev     []byte
		status int
		reason string
	}{
		{"no Authorization", revocation("", alice), 401, "token_missing"},
		{"wrong aud", revocation("Bearer "+jwt(map[string]any{"aud": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/backchannel-logout"}), alice), 401, "token_audience"},
		{"expired", revocation("Bearer "+jwt(map[string]any{"iat": time.Now().Add(-10 * time.Minute).Unix(), "nbf": time.Now().Add(-15 * time.Minute).Unix(),
			"exp": time.Now().Add(-5 * time.Minute).Unix()}), alice), 401, "token_expired"},
		{"another issuer's subject", revocation("Bearer "+jwt(nil), map[string]any{"sub_id": map[string]any{"format": "iss_sub", "iss": idp.URL(), "sub": uid}}), 403, "forbidden"},
		{"email, which sessionguard does not record", revocation("Bearer "+jwt(nil), map[string]any{"sub_id": map[string]any{"format": "email", "email": "alice@example.test"}}), 400, "token_malformed"},
	} {
		if a := invoke(c.ev); a.StatusCode != c.status || a.reason() != c.reason {
			t.Errorf("%s = %d %s; want %d %s", c.name, a.StatusCode, a.Body, c.status, c.reason)
		}
	}
	if a := current(aliceTok, aliceDemo, "demo"); a.StatusCode != 200 {
		t.Fatalf("alice's session after the refused requests = %d %s; want 200", a.StatusCode, a.Body)
	}

	// The accepted request, then its replay.
	acceptedJWT := jwt(nil)
	accepted := revocation("Bearer "+acceptedJWT, alice)
	if a := invoke(accepted); a.StatusCode != 204 || a.Body != "" {
		t.Fatalf("revocation = %d %s; want 204\nlogs:\n%s", a.StatusCode, a.Body, f.FunctionLogs())
	}
	if a := invoke(accepted); a.StatusCode != 401 || a.reason() != "token_malformed" || !strings.Contains(a.Body, "already used") {
		t.Errorf("the same request again (replayed jti) = %d %s; want 401 already used", a.StatusCode, a.Body)
	}

	// Its effects.
	for env, sid := range map[string]string{"demo": aliceDemo, "staging": aliceStaging} {
		if a := current(aliceTok, sid, env); a.StatusCode != 401 || a.reason() != "session_revoked" {
			t.Errorf("alice's %s session = %d %s; want 401 session_revoked", env, a.StatusCode, a.Body)
		}
	}
	if a := current(bobTok, bobDemo, "demo"); a.StatusCode != 200 {
		t.Errorf("bob's session = %d %s; want 200 (untouched)", a.StatusCode, a.Body)
	}
	if a := current(otherTok, otherDemo, "demo"); a.StatusCode != 200 {
		t.Errorf("the other issuer's user's session = %d %s; want 200 (untouched)", a.StatusCode, a.Body)
	}
	for _, env := range []string{"demo", "staging"} {
		if a := signIn(oktaToken("alice", before), env); a.StatusCode != 401 || a.reason() != "session_revoked" {
			t.Errorf("%s: sign-in with a token authenticated before the revocation = %d %s; want 401 session_revoked", env, a.StatusCode, a.Body)
		}
	}
	// A token of a new sign-in at the IdP (authenticated after the
	// revocation, here two seconds ahead, inside the clock skew, so that
	// the test does not wait) starts a session.
	if a := signIn(oktaToken("alice", time.Now().Add(2*time.Second)), "demo"); a.StatusCode != 201 {
		t.Errorf("sign-in with a token authenticated after the revocation = %d %s; want 201", a.StatusCode, a.Body)
	}
	logs := f.FunctionLogs()
	if !slices.ContainsFunc(strings.Split(logs, "\n"), func(l string) bool {
		return strings.Contains(l, `"msg":"global token revocation"`) && strings.Contains(l, `"issuer":"`+okta+`"`) && strings.Contains(l, `"decision":"accept"`) &&
			strings.Contains(l, `"userId":"`+uid+`"`)
	}) {
		t.Errorf("no accept line for the revocation, naming the user, in the logs:\n%s", logs)
	}
	if parts := strings.Split(acceptedJWT, "."); strings.Contains(logs, parts[1]) || strings.Contains(logs, parts[2]) {
		t.Error("the request's JWT is in the logs")
	}
}

// claim reads a string claim of a token, without verifying it.
func claim(t *testing.T, raw, name string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	var c map[string]any
	if err != nil || json.Unmarshal(payload, &c) != nil {
		t.Fatalf("read the token's claims: %v", err)
	}
	v, _ := c[name].(string)
	return v
}

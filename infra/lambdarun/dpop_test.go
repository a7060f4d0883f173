package lambdarun_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/oidcprovider"
	"github.com/sessionguard/sessionguard/shared/policy"
)

// The sample events' API, as a proof names it.
const sampleAPI = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"

// DPoP end to end, through the real sessions and authorizer binaries
// under the emulator, against moto, with access tokens that a real
// OpenID Provider (oidc-provider, features.dPoP) bound to the client's
// key at its token endpoint: in an environment under dpop required, the
// sign-in with the token and a proof binds the session to the key; the
// authorizer allows a request with a fresh proof; it refuses the same
// proof again (a replay), a proof by another key with the token, and the
// session id used with another key's token of the same client and that
// key's proof (a copied session id); GET /sessions/current with a proof
// answers the session.
func TestDPoPUnderTheEmulator(t *testing.T) {
	needs.Parts(t, needs.Moto, needs.OIDCProvider)
	ctx := context.Background()
	op, err := oidcprovider.Start(oidcprovider.Options{RedirectURIs: []string{"http://127.0.0.1:9/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	sessionsBin, authorizerBin := buildFunction(t, "sessions"), buildFunction(t, "authorizer")
	sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, "dpop-e2e")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	set := policy.Defaults()
	set.DPoP = policy.DPoPRequired
	if err := sb.Store.PutSettings(ctx, policy.SettingsChange{Environment: lambdarun.Environment, Version: 1, At: time.Now(), Actor: "test", Old: policy.Defaults(), New: set}); err != nil {
		t.Fatal(err)
	}
	trusted, _ := json.Marshal([]map[string]any{{"issuer": op.Issuer, "profile": "rfc9068", "audiences": []string{oidcprovider.Resource}}})
	env := append(slices.Clone(sb.Env), "TRUSTED_ISSUERS="+string(trusted), "SIGNALS_TRANSMITTERS=") // the sandbox's transmitter trusts its own issuer only
	sessions, err := lambdarun.Start(sessionsBin, env)
	if err != nil {
		t.Fatal(err)
	}
	defer sessions.Stop()
	authz, err := lambdarun.Start(authorizerBin, env)
	if err != nil {
		t.Fatal(err)
	}
	defer authz.Stop()

	key, _ := devidp.NewDPoPKey(jwa.ES256, nil)
	other, _ := devidp.NewDPoPKey(jwa.ES256, nil)
	tokenFor := func(k *devidp.DPoPKey) string {
		t.Helper()
		toks, err := op.ClientCredentialsDPoP(ctx, func(method, url string) string { return k.MustSign(devidp.Proof{Method: method, URL: url}) })
		if err != nil || toks.TokenType != "DPoP" {
			t.Fatalf("a DPoP-bound token from the OP: %+v, %v\n%s", toks, err, op.Logs())
		}
		return toks.AccessToken
	}
	tok, otherTok := tokenFor(key), tokenFor(other)

	// event is a sample event with "DPoP <tok>", the session id and the
	// proof in its headers.
	event := func(name, tok, sid, proof string) []byte {
		t.Helper()
		raw, err := events.Load(name, map[string]string{events.AccessToken: tok, events.SessionID: sid})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(raw, &m)
		h := m["headers"].(map[string]any)
		h["authorization"] = "DPoP " + tok
		h["dpop"] = proof
		out, _ := json.Marshal(m)
		return out
	}
	// Sign-in: POST /sessions, the proof for it.
	res, err := sessions.Invoke(ctx, event("sessions/sign-in.json", tok, "", key.MustSign(devidp.Proof{Method: "POST", URL: sampleAPI + "/sessions", AccessToken: tok})))
	var a apiAnswer
	if err != nil || json.Unmarshal(res.Payload, &a) != nil || a.StatusCode != 201 {
		t.Fatalf("sign-in = %s, %v\nlogs:\n%s", res.Payload, err, sessions.Logs())
	}
	var b struct{ SessionID string }
	json.Unmarshal([]byte(a.Body), &b)
	sid := b.SessionID

	// decide runs the authorizer on the sample payload 2.0 event.
	decide := func(what, tok, proof string) (allowed bool, reason, check string) {
		t.Helper()
		before := len(authz.WaitFunctionLogCount(`"msg":"decision"`, -1, 0))
		res, err := authz.Invoke(ctx, event("authorizer/http-api-v2.json", tok, sid, proof))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		// the emulator may pass the decision line on after the answer
		lines := authz.WaitFunctionLogCount(`"msg":"decision"`, before, 5*time.Second)
		if len(lines) <= before {
			t.Fatalf("%s: no decision line\n%s", what, authz.Logs())
		}
		var line map[string]any
		json.Unmarshal([]byte(lines[len(lines)-1]), &line)
		reason, _ = line["reason"].(string)
		check, _ = line["dpopCheck"].(string)
		return !res.Error && strings.Contains(string(res.Payload), `"isAuthorized":true`), reason, check
	}
	proofFor := func(k *devidp.DPoPKey, tok string) string {
		return k.MustSign(devidp.Proof{Method: "GET", URL: sampleAPI + "/demo", AccessToken: tok})
	}
	first := proofFor(key, tok)
	if ok, why, check := decide("a request with a fresh proof", tok, first); !ok {
		t.Fatalf("a request with a fresh proof: denied %s (%s)\n%s", why, check, authz.Logs())
	}
	for _, c := range []struct {
		what, tok, proof, reason, check string
	}{
		{"the same proof again (a replay)", tok, first, "dpop_invalid", "jti"},
		{"the token with another key's proof", tok, proofFor(other, tok), "dpop_invalid", "cnf.jkt"},
		{"the session id with another key's token and proof", otherTok, proofFor(other, otherTok), "dpop_invalid", "session"},
		{"no proof", tok, "", "dpop_required", "missing"},
	} {
		if ok, why, check := decide(c.what, c.tok, c.proof); ok || why != c.reason || check != c.check {
			t.Errorf("%s: allowed %v, %s (%s); want a deny %s (%s)", c.what, ok, why, check, c.reason, c.check)
		}
	}
	if ok, why, _ := decide("a request with another fresh proof", tok, proofFor(key, tok)); !ok {
		t.Errorf("a request with another fresh proof: denied %s", why)
	}
	res, err = sessions.Invoke(ctx, event("sessions/current.json", tok, sid, key.MustSign(devidp.Proof{Method: "GET", URL: sampleAPI + "/sessions/current", AccessToken: tok})))
	if err != nil || json.Unmarshal(res.Payload, &a) != nil || a.StatusCode != 200 {
		t.Errorf("GET /sessions/current with a proof = %s, %v", res.Payload, err)
	}
	if logs := authz.FunctionLogs() + sessions.FunctionLogs(); strings.Contains(logs, sid) || strings.Contains(logs, strings.Split(tok, ".")[2]) {
		t.Error("a log holds the session id or the token")
	}
}

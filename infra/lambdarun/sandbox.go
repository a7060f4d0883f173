package lambdarun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devdir"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/policy"
	"github.com/sessionguard/sessionguard/shared/session"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// Sandbox is what a function binary needs around it to answer its sample
// events for real: a development issuer (JWKS, tokens, SETs), a
// development directory, and a DynamoDB table (when a DynamoDB endpoint
// is given), plus the environment variables that point the function at
// them, as the template's would at AWS resources.
type Sandbox struct {
	IdP      *devidp.Issuer
	Dir      *devdir.Directory
	Store    *dynamostore.Store // nil without DynamoDB
	Env      []string
	stopIdP  func()
	dirSrv   *httptest.Server
	endpoint string
	table    string
}

// Environment is the sandbox's one environment (the stage variable of the
// sample events).
const Environment = "demo"

// SandboxIdPSession is the IdP session of the sandbox's live session: the
// sample back-channel logout ends it.
const SandboxIdPSession = "sandbox-op-session"

// The user pool, and its user, of the sample Cognito events.
const (
	CognitoPool     = "eu-west-1_Example"
	CognitoIssuer   = "https://cognito-idp.eu-west-1.amazonaws.com/" + CognitoPool
	CognitoUsername = "mary"
	CognitoSub      = "3c5e2f0a-9d1b-4e6f-8a7c-1b2d3e4f5a6b"
)

// RevocationEndpoint is the global token revocation endpoint's URL at the
// sample events' API, as an IdP calls it: the sandbox's issuer signs
// revocation requests for it (its universalLogout audience).
const RevocationEndpoint = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/global-token-revocation"

// RevocationJWT signs the JWT of a global token revocation request the way
// Okta's Universal Logout does: with idp's RS256 key and its kid, typ
// global-token-revocation+jwt, iss signer, sub the calling app (the
// development client), aud audience, a fresh jti, iat now, nbf five
// minutes back, exp five minutes ahead, and none of an access token's
// claims. claims change it (a nil value removes a claim).
func RevocationJWT(idp *devidp.Issuer, signer, audience string, claims map[string]any) (string, error) {
	var jti [12]byte
	rand.Read(jti[:])
	c := map[string]any{"jti": hex.EncodeToString(jti[:]), "nbf": time.Now().Add(-5 * time.Minute).Unix()}
	for _, k := range []string{"azp", "auth_time", "scope", "name", "preferred_username", "roles", "ver", "tid"} {
		c[k] = nil
	}
	for k, v := range claims {
		c[k] = v
	}
	return idp.Mint(devidp.Token{Issuer: signer, User: devidp.DefaultClientID, Audience: audience, TTL: 5 * time.Minute, Claims: c,
		Headers: map[string]any{"typ": "global-token-revocation+jwt"}})
}

// TrustedIssuers is the sandbox's TRUSTED_ISSUERS variable: its issuer
// (which may also end its users' sessions through the global token
// revocation endpoint) and a Cognito pool whose tokens the issuer also
// signs. With keySetURL
// set, both read their keys from there (a proxy in front of the
// issuer's /jwks.json) instead of the issuer's discovery document and
// /jwks.json; an environment that appends the result overrides the
// sandbox's own (the last value of a variable wins).
func (sb *Sandbox) TrustedIssuers(keySetURL string) string {
	own := map[string]any{"issuer": sb.IdP.URL(), "audiences": []string{devidp.DefaultAudience}, "clientIds": []string{devidp.DefaultClientID}, "algorithms": []string{"RS256", "ES256", "EdDSA"}, "grantsAdmin": true,
		"universalLogout": map[string]any{"audience": RevocationEndpoint}}
	cognito := map[string]any{"issuer": CognitoIssuer, "jwksUrl": sb.IdP.URL() + "/jwks.json", "profile": "cognito", "clientIds": []string{"1example23456789"}}
	if keySetURL != "" {
		own["jwksUrl"], cognito["jwksUrl"] = keySetURL, keySetURL
	}
	issuers, _ := json.Marshal([]map[string]any{own, cognito})
	return "TRUSTED_ISSUERS=" + string(issuers)
}

// NewSandbox starts the issuer and directory and, with a DynamoDB
// endpoint, creates table there.
func NewSandbox(ctx context.Context, dynamoEndpoint, table string) (*Sandbox, error) {
	idp, stop, err := devidp.NewServer(time.Now)
	if err != nil {
		return nil, err
	}
	dir := devdir.New()
	dir.DefaultActive = true
	sb := &Sandbox{IdP: idp, Dir: dir, stopIdP: stop, dirSrv: httptest.NewServer(dir), endpoint: dynamoEndpoint, table: table}
	transmitters, _ := json.Marshal([]map[string]any{{"issuer": idp.URL(), "audiences": []string{devidp.SETAudience}, "subjectIssuers": []string{idp.URL()}}})
	sb.Env = []string{
		sb.TrustedIssuers(""),
		"SIGNALS_TRANSMITTERS=" + string(transmitters),
		"ENVIRONMENTS=" + Environment,
		"ENVIRONMENT_SOURCE=stage", "ENVIRONMENT_NAME=environment",
		"TABLE_NAME=" + table,
		"DIRECTORY=http", "DIRECTORY_URL=" + sb.dirSrv.URL,
		"DIRECTORY_USER_POOL_ID=" + CognitoPool,
		// Local servers take any credentials; the functions must not go
		// looking for real ones.
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_SESSION_TOKEN=local",
	}
	if dynamoEndpoint != "" {
		sb.Env = append(sb.Env, "AWS_ENDPOINT_URL_DYNAMODB="+dynamoEndpoint)
		db, err := dynamostore.NewClient(ctx, dynamostore.ClientOptions{Endpoint: dynamoEndpoint, Region: envOr("AWS_REGION", "us-east-1"), LocalCredentials: true})
		if err != nil {
			sb.Close()
			return nil, err
		}
		if err := dynamostore.CreateTable(ctx, db, table); err != nil {
			sb.Close()
			return nil, err
		}
		sb.Store = dynamostore.New(db, table, nil)
	}
	return sb, nil
}

// Close stops the issuer and the directory.
func (sb *Sandbox) Close() {
	sb.stopIdP()
	sb.dirSrv.Close()
}

// Event loads a sample event with its placeholders filled: a token for
// alice (with the admin role), a live session of hers (when there is a
// table), a SET revoking her sessions, a logout token of her IdP session
// and the JWT of a global token revocation request.
func (sb *Sandbox) Event(ctx context.Context, name string) ([]byte, error) {
	tok, err := sb.IdP.Mint(devidp.Token{User: "alice", Claims: map[string]any{"roles": []string{"sessionguard-admin"}}})
	if err != nil {
		return nil, err
	}
	set, err := sb.IdP.MintSET("alice", "session-revoked", "")
	if err != nil {
		return nil, err
	}
	sid := "no-session-without-a-table"
	if sb.Store != nil {
		id, err := session.NewID()
		if err != nil {
			return nil, err
		}
		now := time.Now()
		user := session.UserKey{Issuer: sb.IdP.URL(), Subject: "alice"}
		if strings.HasPrefix(name, "cognitoevents/") { // the events are about the pool's user mary
			user = session.UserKey{Issuer: CognitoIssuer, Subject: CognitoSub}
			if err := sb.Store.RecordUsername(ctx, CognitoIssuer, CognitoSub, CognitoUsername); err != nil {
				return nil, err
			}
		}
		s := session.Session{Hash: id.Hash(), Environment: Environment, User: user, IdPSession: SandboxIdPSession,
			ClientID: devidp.DefaultClientID, CreatedAt: now.Add(-time.Minute), AuthTime: now.Add(-2 * time.Minute), Settings: policy.Defaults()}
		if _, err := sb.Store.Create(ctx, s, session.Limit{}, func(session.Session) bool { return true }); err != nil {
			return nil, fmt.Errorf("sandbox: create a session: %w", err)
		}
		sid = id.Reveal()
	}
	logout, err := sb.IdP.MintLogout("alice", SandboxIdPSession, devidp.DefaultClientID)
	if err != nil {
		return nil, err
	}
	revocation, err := RevocationJWT(sb.IdP, sb.IdP.URL(), RevocationEndpoint, nil)
	if err != nil {
		return nil, err
	}
	return events.Load(name, map[string]string{events.AccessToken: tok, events.SessionID: sid, "__SET__": set, "__LOGOUT_TOKEN__": logout,
		"__REVOCATION_JWT__": revocation, "__ISSUER__": sb.IdP.URL()})
}

// Functions maps each function (its folder under functions/ and events/)
// to its template logical id, as the function table (wiring.Functions)
// names them.
var Functions = wiring.LogicalIDs()

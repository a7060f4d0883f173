package local

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/sessionguard/sessionguard/infra/cognitotest"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/token"
)

// cognitoStack is a user pool on moto with two app clients and two users
// (mary an admin through the group sessionguard-admin), and a local stack
// trusting the pool with the cognito profile and the listed clients.
func cognitoStack(t *testing.T, clients func(first, second string) []string) (*Stack, *cognitotest.Pool, string, string, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	pool, err := cognitotest.NewPool(ctx, dynamo.Endpoint, "sessionguard-test")
	if err != nil {
		t.Fatal(err)
	}
	first, err := pool.AppClient(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	second, err := pool.AppClient(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name   string
		groups []string
	}{{"mary", []string{AdminRole}}, {"john", nil}} {
		if _, err := pool.AddUser(ctx, u.name, u.groups...); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: logs, CheckEvery: -1,
		Issuers: []token.Issuer{{Issuer: pool.Issuer(), JWKSURL: pool.JWKSURL(), Profile: "cognito", ClientIDs: clients(first, second), GrantsAdmin: true}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, pool, first, second, logs
}

// Cognito through its own protocol: an access token from AdminInitiateAuth
// signs in and is allowed; the ID token is refused; another app client's
// token is refused unless its id is listed; cognito:groups carries the
// admin role to the admin API.
func TestCognitoTokens(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	s, pool, web, other, logs := cognitoStack(t, func(first, _ string) []string { return []string{first} })
	mary, err := pool.SignIn(ctx, web, "mary")
	if err != nil {
		t.Fatal(err)
	}
	code, sid := startSession(t, s, mary.Access)
	if code != 201 {
		t.Fatalf("sign-in with a Cognito access token: %d (%s)", code, lastReason(logs))
	}
	if got := status(t, s, mary.Access, sid); got != 200 {
		t.Fatalf("authorizer with a Cognito access token: %d (%s)", got, lastReason(logs))
	}
	if code, _ := startSession(t, s, mary.ID); code != 401 || lastReason(logs) != "token_malformed" {
		t.Errorf("sign-in with a Cognito ID token: %d %s; want 401 token_malformed", code, lastReason(logs))
	}
	if got := status(t, s, mary.ID, sid); got != 401 {
		t.Errorf("authorizer with a Cognito ID token: %d; want 401", got)
	}
	john, err := pool.SignIn(ctx, other, "john")
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := startSession(t, s, john.Access); code != 401 || lastReason(logs) != "token_audience" {
		t.Errorf("sign-in through an unlisted app client: %d %s; want 401 token_audience", code, lastReason(logs))
	}
}

// With the second app client listed, its tokens are accepted too; and
// cognito:groups carries the admin role to the admin API: mary is in the
// group sessionguard-admin, john is not.
func TestCognitoSecondClientAndGroups(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	s, pool, web, other, logs := cognitoStack(t, func(first, second string) []string { return []string{first, second} })
	john, err := pool.SignIn(ctx, other, "john")
	if err != nil {
		t.Fatal(err)
	}
	code, johnSID := startSession(t, s, john.Access)
	if code != 201 {
		t.Fatalf("sign-in through a listed second app client: %d (%s)", code, lastReason(logs))
	}
	mary, err := pool.SignIn(ctx, web, "mary")
	if err != nil {
		t.Fatal(err)
	}
	_, marySID := startSession(t, s, mary.Access)
	for _, c := range []struct {
		who, tok, sid string
		want          int
	}{{"mary", mary.Access, marySID, 200}, {"john", john.Access, johnSID, 403}} {
		req, _ := http.NewRequest("GET", s.URL+"/environments/"+Environment+"/settings", nil)
		req.Header.Set("Authorization", "Bearer "+c.tok)
		req.Header.Set("X-Session-Id", c.sid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("admin API with %s's token: %d; want %d", c.who, resp.StatusCode, c.want)
		}
	}
}

// The time from a user pool admin's disable to the user's next request
// being refused, through the local stack: AdminDisableUser at the pool,
// its CloudTrail event delivered as EventBridge would, then requests until
// one is refused. Printed, not asserted (CloudTrail's own delivery to
// EventBridge, outside sessionguard, comes on top in AWS).
func TestCognitoDisableToRefusal(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &syncBuffer{}, CheckEvery: -1, Cognito: dynamo.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.Cognito
	toks, err := p.Pool.SignIn(ctx, p.ClientID, "mary")
	if err != nil {
		t.Fatal(err)
	}
	code, sid := startSession(t, s, toks.Access)
	if code != 201 || status(t, s, toks.Access, sid) != 200 {
		t.Fatalf("mary before the disable: sign-in %d", code)
	}
	event := fmt.Sprintf(`{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp","detail":{"eventSource":"cognito-idp.amazonaws.com",`+
		`"eventName":"AdminDisableUser","requestParameters":{"userPoolId":%q,"username":"mary"}}}`, p.Pool.ID)
	start := time.Now()
	if _, err := p.Pool.Client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &p.Pool.ID, Username: aws.String("mary")}); err != nil {
		t.Fatal(err)
	}
	disabled := time.Now()
	resp, err := http.Post(s.URL+"/local/cloudtrail", "application/json", strings.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	requests := 0
	for status(t, s, toks.Access, sid) == 200 {
		requests++
		if requests > 100 {
			t.Fatal("mary was never refused")
		}
	}
	refused := time.Now()
	t.Logf("disable to refusal: %v (AdminDisableUser %v, then the event and the next request %v; %d requests allowed in between)",
		refused.Sub(start).Round(time.Microsecond), disabled.Sub(start).Round(time.Microsecond), refused.Sub(disabled).Round(time.Microsecond), requests)
	if requests != 0 {
		t.Errorf("%d requests were allowed after the event was delivered; want 0", requests)
	}
}

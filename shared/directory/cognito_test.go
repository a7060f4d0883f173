package directory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/sessionguard/sessionguard/infra/cognitotest"
	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/directory"
	"github.com/sessionguard/sessionguard/shared/memstore"
)

var moto *dynamotest.Server

func TestMain(m *testing.M) { dynamotest.Main(m, func(s *dynamotest.Server) { moto = s }) }

// The Cognito adapter against moto's user pools: enabled, disabled
// (AdminDisableUser), deleted (AdminDeleteUser), a name re-used by a new
// user (the old one reads as deleted), and a subject with no recorded
// username, found by ListUsers on sub.
func TestCognito(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	pool, err := cognitotest.NewPool(ctx, moto.Endpoint, "directory-test")
	if err != nil {
		t.Fatal(err)
	}
	names := memstore.New(nil)
	subs := map[string]string{}
	for _, u := range []string{"mary", "john", "carl", "eve", "dora"} {
		sub, err := pool.AddUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		subs[u] = sub
		if u != "dora" { // dora signed in before usernames were recorded
			names.RecordUsername(ctx, pool.Issuer(), sub, u)
		}
	}
	if _, err := pool.Client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &pool.ID, Username: aws.String("john")}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &pool.ID, Username: aws.String("carl")}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &pool.ID, Username: aws.String("eve")}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.AddUser(ctx, "eve"); err != nil { // a new eve
		t.Fatal(err)
	}
	d := &directory.Cognito{Client: pool.Client, UserPoolID: pool.ID, Issuer: pool.Issuer(), Usernames: names}
	want := map[string]directory.State{"mary": directory.Active, "john": directory.Disabled, "carl": directory.Deleted,
		"eve": directory.Deleted, "dora": directory.Active}
	var subjects []string
	var order []string
	for u := range want {
		subjects, order = append(subjects, subs[u]), append(order, u)
	}
	for i, r := range d.Check(ctx, subjects) {
		if r.Err != nil || r.State != want[order[i]] {
			t.Errorf("%s = %v, %v; want %v", order[i], r.State, r.Err, want[order[i]])
		}
	}
	// dora, disabled, is found disabled through ListUsers too.
	if _, err := pool.Client.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: &pool.ID, Username: aws.String("dora")}); err != nil {
		t.Fatal(err)
	}
	if r := d.Check(ctx, []string{subs["dora"]})[0]; r.State != directory.Disabled {
		t.Errorf("dora after AdminDisableUser = %v, %v; want disabled", r.State, r.Err)
	}
}

// TooManyRequestsException is retried; throttling that outlasts the
// retries is ErrThrottled for that user, who is then left as they were.
func TestCognitoThrottling(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	pool, err := cognitotest.NewPool(ctx, moto.Endpoint, "throttle-test")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pool.AddUser(ctx, "mary")
	if err != nil {
		t.Fatal(err)
	}
	names := memstore.New(nil)
	names.RecordUsername(ctx, pool.Issuer(), sub, "mary")
	proxy := dynamotest.NewProxy(moto.Endpoint)
	defer proxy.Close()
	client := cip.New(cip.Options{Region: cognitotest.Region, BaseEndpoint: aws.String(proxy.URL), Credentials: cognitotest.NewClient(moto.Endpoint).Options().Credentials,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 3; o.MaxBackoff = 50 * time.Millisecond })})
	d := &directory.Cognito{Client: client, UserPoolID: pool.ID, Issuer: pool.Issuer(), Usernames: names}

	proxy.Set(dynamotest.TooManyRequests, 2)
	if r := d.Check(ctx, []string{sub})[0]; r.Err != nil || r.State != directory.Active {
		t.Fatalf("after 2 throttled attempts = %v, %v; want active on the third", r.State, r.Err)
	}
	if n := proxy.Requests(); n != 3 {
		t.Errorf("requests = %d; want 3", n)
	}
	proxy.Set(dynamotest.TooManyRequests, 0)
	if r := d.Check(ctx, []string{sub})[0]; !errors.Is(r.Err, directory.ErrThrottled) {
		t.Fatalf("always throttled = %v, %v; want ErrThrottled", r.State, r.Err)
	}
}

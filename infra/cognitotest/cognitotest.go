// Package cognitotest drives a Cognito user pool on moto's server (the
// tests' DynamoDB server also speaks cognito-idp) through the AWS SDK, as
// an operator and as users would: pools, app clients, users, groups, and
// sign-in with AdminInitiateAuth, which returns Cognito-shaped access and
// ID tokens (RS256, kid "dummy") whose key set moto serves at
// /{userPoolId}/.well-known/jwks.json.
package cognitotest

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Region is the region of the test pools.
const Region = "eu-west-1"

// Pool is a user pool on the server.
type Pool struct {
	Client   *cip.Client
	ID       string
	Endpoint string
}

// NewClient returns a Cognito client for the server at endpoint.
func NewClient(endpoint string) *cip.Client {
	return cip.New(cip.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// NewPool creates a user pool.
func NewPool(ctx context.Context, endpoint, name string) (*Pool, error) {
	c := NewClient(endpoint)
	out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("cognitotest: create pool: %w", err)
	}
	return &Pool{Client: c, ID: aws.ToString(out.UserPool.Id), Endpoint: endpoint}, nil
}

// Issuer is the pool's token issuer.
func (p *Pool) Issuer() string {
	return "https://cognito-idp." + Region + ".amazonaws.com/" + p.ID
}

// JWKSURL is where the server serves the pool's keys.
func (p *Pool) JWKSURL() string { return p.Endpoint + "/" + p.ID + "/.well-known/jwks.json" }

// AppClient creates an app client that allows admin password sign-in.
func (p *Pool) AppClient(ctx context.Context, name string) (string, error) {
	out, err := p.Client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &p.ID, ClientName: aws.String(name),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth}})
	if err != nil {
		return "", fmt.Errorf("cognitotest: create app client: %w", err)
	}
	return aws.ToString(out.UserPoolClient.ClientId), nil
}

// Password is every test user's password.
const Password = "Sessionguard-Test-1"

// AddUser creates a confirmed user with Password, in groups, and returns
// its sub.
func (p *Pool) AddUser(ctx context.Context, username string, groups ...string) (string, error) {
	if _, err := p.Client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &p.ID, Username: &username,
		TemporaryPassword: aws.String(Password + "t"), MessageAction: types.MessageActionTypeSuppress}); err != nil {
		return "", fmt.Errorf("cognitotest: create user %s: %w", username, err)
	}
	if _, err := p.Client.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &p.ID, Username: &username,
		Password: aws.String(Password), Permanent: true}); err != nil {
		return "", fmt.Errorf("cognitotest: set the password of %s: %w", username, err)
	}
	for _, g := range groups {
		if _, err := p.Client.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: &p.ID, GroupName: &g}); err != nil {
			var exists *types.GroupExistsException
			if !errors.As(err, &exists) {
				return "", fmt.Errorf("cognitotest: create group %s: %w", g, err)
			}
		}
		if _, err := p.Client.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: &p.ID, Username: &username, GroupName: &g}); err != nil {
			return "", fmt.Errorf("cognitotest: add %s to %s: %w", username, g, err)
		}
	}
	u, err := p.Client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &p.ID, Username: &username})
	if err != nil {
		return "", fmt.Errorf("cognitotest: get user %s: %w", username, err)
	}
	for _, a := range u.UserAttributes {
		if aws.ToString(a.Name) == "sub" {
			return aws.ToString(a.Value), nil
		}
	}
	return "", fmt.Errorf("cognitotest: user %s has no sub", username)
}

// Tokens are a sign-in's tokens.
type Tokens struct{ Access, ID string }

// SignIn signs username in through app client with AdminInitiateAuth.
func (p *Pool) SignIn(ctx context.Context, client, username string) (Tokens, error) {
	out, err := p.Client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &p.ID, ClientId: &client,
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": Password}})
	if err != nil {
		return Tokens{}, fmt.Errorf("cognitotest: sign in %s: %w", username, err)
	}
	if out.AuthenticationResult == nil {
		return Tokens{}, fmt.Errorf("cognitotest: sign in %s: a challenge instead of tokens (%s)", username, out.ChallengeName)
	}
	return Tokens{Access: aws.ToString(out.AuthenticationResult.AccessToken), ID: aws.ToString(out.AuthenticationResult.IdToken)}, nil
}

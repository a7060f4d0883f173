package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/sessionguard/sessionguard/shared/obs"
)

// CognitoAPI is the part of the Cognito user pools client the adapter
// uses.
type CognitoAPI interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, opts ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	ListUsers(ctx context.Context, in *cip.ListUsersInput, opts ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

// Usernames finds the username a subject signed in with (recorded at
// sign-in from the access token's "username" claim).
type Usernames interface {
	UsernameOf(ctx context.Context, issuer, subject string) (string, error)
}

// Cognito checks users in an Amazon Cognito user pool.
//
// A user is looked up with AdminGetUser by the username recorded at
// sign-in, and the answer's sub must be the session's subject: a user
// deleted and created again under the same name is another user, and the
// old one reads as deleted. A subject with no recorded username (a
// session from before this adapter) is found with ListUsers filtered on
// sub, which Cognito documents as a searchable attribute. (AdminGetUser
// also takes a local user's sub as the username, but not every Cognito
// implementation does; the recorded username works everywhere.)
//
// Enabled false is Disabled; UserNotFoundException is Deleted; throttling
// (TooManyRequestsException) is retried by the SDK's retryer, never past
// the run's deadline; any other error changes nothing for that user.
type Cognito struct {
	Client     CognitoAPI
	UserPoolID string
	// Issuer is the pool's token issuer, the key of the username records.
	Issuer    string
	Usernames Usernames
}

// BatchSize is 1: one request per user.
func (d *Cognito) BatchSize() int { return 1 }

// Check asks about each subject.
func (d *Cognito) Check(ctx context.Context, subjects []string) []Result {
	out := make([]Result, len(subjects))
	for i, s := range subjects {
		out[i] = d.one(ctx, s)
	}
	return out
}

func (d *Cognito) one(ctx context.Context, subject string) Result {
	name, err := d.Usernames.UsernameOf(ctx, d.Issuer, subject)
	if err != nil {
		return Result{Err: err}
	}
	if name == "" {
		return d.bySub(ctx, subject)
	}
	u, err := d.Client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &d.UserPoolID, Username: &name})
	var notFound *ciptypes.UserNotFoundException
	switch {
	case errors.As(err, &notFound):
		return Result{State: Deleted}
	case err != nil:
		return Result{Err: cognitoError("AdminGetUser", err)}
	}
	if sub := attribute(u.UserAttributes, "sub"); sub != subject {
		return Result{State: Deleted} // the name now belongs to another user
	}
	return Result{State: enabled(u.Enabled)}
}

func (d *Cognito) bySub(ctx context.Context, subject string) Result {
	if strings.ContainsAny(subject, `"\`) {
		return Result{Err: fmt.Errorf("directory: subject %q cannot be searched for", subject)}
	}
	out, err := d.Client.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: &d.UserPoolID,
		Filter: aws.String(`sub = "` + subject + `"`), Limit: aws.Int32(1)})
	if err != nil {
		return Result{Err: cognitoError("ListUsers", err)}
	}
	if len(out.Users) == 0 {
		return Result{State: Deleted}
	}
	return Result{State: enabled(out.Users[0].Enabled)}
}

func enabled(on bool) State {
	if on {
		return Active
	}
	return Disabled
}

func attribute(as []ciptypes.AttributeType, name string) string {
	for _, a := range as {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// cognitoError marks throttling that outlived the retries as ErrThrottled.
func cognitoError(op string, err error) error {
	var tm *ciptypes.TooManyRequestsException
	if errors.As(err, &tm) {
		return fmt.Errorf("%w: cognito %s: %v", ErrThrottled, op, err)
	}
	return fmt.Errorf("directory: cognito %s: %w", op, err)
}

// NewCognitoClient returns a Cognito user pools client for the function's
// region: 3 attempts, at most 1 s of backoff between them (throttling
// included), each attempt bounded by 2 s. AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER
// points it at a local server.
func NewCognitoClient(ctx context.Context) (*cip.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithLogger(obs.SDKLogger{}), // the SDK's own lines as JSON
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(2*time.Second)),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = 3
				so.MaxBackoff = time.Second
			})
		}))
	if err != nil {
		return nil, fmt.Errorf("directory: load AWS configuration: %w", err)
	}
	return cip.NewFromConfig(cfg), nil
}

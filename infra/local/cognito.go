package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sessionguard/sessionguard/infra/cognitotest"
)

// LocalPool is the local stack's Cognito user pool (make run -cognito).
type LocalPool struct {
	Pool     *cognitotest.Pool
	ClientID string
}

// The local pool's users: mary holds the admin role (the group
// sessionguard-admin), john does not; both have cognitotest.Password.
var cognitoUsers = []struct {
	name   string
	groups []string
}{{"mary", []string{AdminRole}}, {"john", nil}}

func newLocalPool(ctx context.Context, endpoint string) (*LocalPool, error) {
	pool, err := cognitotest.NewPool(ctx, endpoint, "sessionguard-local")
	if err != nil {
		return nil, fmt.Errorf("local: the Cognito user pool at %s: %w", endpoint, err)
	}
	client, err := pool.AppClient(ctx, "sessionguard-local-web")
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	for _, u := range cognitoUsers {
		if _, err := pool.AddUser(ctx, u.name, u.groups...); err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
	}
	return &LocalPool{Pool: pool, ClientID: client}, nil
}

// cognitoQuickStart is the quick-start's Cognito part: mint a token with
// the AWS CLI against the pool's server, sign in, disable the user at the
// pool and deliver the CloudTrail event AWS would, and see the session end.
func (s *Stack) cognitoQuickStart() string {
	if s.Cognito == nil {
		return ""
	}
	p := s.Cognito.Pool
	event := fmt.Sprintf(`{"version":"0","id":"local","detail-type":"AWS API Call via CloudTrail","source":"aws.cognito-idp",`+
		`"account":"000000000000","region":"%s","detail":{"eventSource":"cognito-idp.amazonaws.com","eventName":"AdminDisableUser",`+
		`"awsRegion":"%s","requestParameters":{"userPoolId":"%s","username":"mary"},"eventType":"AwsApiCall"}}`, cognitotest.Region, cognitotest.Region, p.ID)
	return fmt.Sprintf(`
# C1. Amazon Cognito (a user pool on %[1]s): mint mary's access token with the project's AWS CLI (make venv installs it)
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=%[2]s
AWS='%[8]s'
CTOKEN=$("$AWS" cognito-idp admin-initiate-auth --endpoint-url %[1]s --user-pool-id %[3]s --client-id %[4]s \
  --auth-flow ADMIN_USER_PASSWORD_AUTH --auth-parameters 'USERNAME=mary,PASSWORD=%[5]s' --query AuthenticationResult.AccessToken --output text)

# C2. Sign in with it, and call the protected route: allowed (profile cognito; mary's cognito:groups make her an admin)
CSID2=$(curl -s -X POST -H "Authorization: Bearer $CTOKEN" %[6]s/sessions | sed -n 's/.*"sessionId":"\([^"]*\)".*/\1/p')
curl -s -i -H "Authorization: Bearer $CTOKEN" -H "X-Session-Id: $CSID2" %[6]s/demo

# C3. A pool admin disables mary; the pool's CloudTrail event reaches the cognitoevents function (EventBridge, simulated here)
"$AWS" cognito-idp admin-disable-user --endpoint-url %[1]s --user-pool-id %[3]s --username mary
curl -s -X POST -d '%[7]s' %[6]s/local/cloudtrail

# C4. mary's next request is refused: 401 (session_revoked); her token cannot start a new session either (401), and the pool refuses her a new one
curl -s -i -H "Authorization: Bearer $CTOKEN" -H "X-Session-Id: $CSID2" %[6]s/demo
curl -s -i -X POST -H "Authorization: Bearer $CTOKEN" %[6]s/sessions
"$AWS" cognito-idp admin-initiate-auth --endpoint-url %[1]s --user-pool-id %[3]s --client-id %[4]s \
  --auth-flow ADMIN_USER_PASSWORD_AUTH --auth-parameters 'USERNAME=mary,PASSWORD=%[5]s' 2>&1 | head -3 || true
`, p.Endpoint, cognitotest.Region, p.ID, s.Cognito.ClientID, cognitotest.Password, s.URL, event, AWSCLI())
}

// AWSCLI is the project's own AWS CLI (.venv/bin/aws at the module's
// root, where make venv installs it), so that the printed commands work
// in a shell where the virtual environment is not on PATH; "aws" when it
// is not installed.
func AWSCLI() string {
	dir, err := os.Getwd()
	for err == nil {
		if _, e := os.Stat(filepath.Join(dir, "go.mod")); e == nil {
			if cli := filepath.Join(dir, ".venv", "bin", "aws"); fileExists(cli) {
				return cli
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "aws"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sessionguard/sessionguard/shared/obs"
)

// ClientOptions configure NewClient. The zero value is right on Lambda.
type ClientOptions struct {
	// Endpoint overrides the DynamoDB endpoint (a local server). Empty:
	// AWS_ENDPOINT_URL_DYNAMODB if set, else the region's endpoint.
	Endpoint string
	// Region overrides AWS_REGION.
	Region string
	// LocalCredentials is for local servers: fixed dummy credentials
	// (they accept any) and no response CRC32 check.
	LocalCredentials bool
	// HTTPClient replaces the SDK's client (tests count requests with it).
	// Its own timeout then applies instead of AttemptTimeout.
	HTTPClient *http.Client
	// AttemptTimeout bounds one HTTP attempt (default 1 s).
	AttemptTimeout time.Duration
	// MaxAttempts bounds the attempts of one call, throttling and transient
	// errors included (default 3).
	MaxAttempts int
	// APIOptions add SDK middleware (tests count calls with it).
	APIOptions []func(*middleware.Stack) error
	// Log receives the SDK's own lines as JSON (obs.SDKLogger); nil:
	// slog.Default() when the line is written.
	Log *slog.Logger
}

// Retry budget: 3 attempts of at most 1 s each with at most 100 ms of
// backoff between them keep a failing call near 3.2 s, well inside API
// Gateway's 10 s authorizer limit; then the call fails and the decision
// is dependency_unavailable.
const (
	defaultAttemptTimeout = time.Second
	defaultMaxAttempts    = 3
	maxBackoff            = 100 * time.Millisecond
)

// NewClient returns a DynamoDB client with a bounded retry budget.
func NewClient(ctx context.Context, o ClientOptions) (*dynamodb.Client, error) {
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = defaultAttemptTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	opts := []func(*config.LoadOptions) error{
		// Every line JSON: the SDK's own warnings through log/slog.
		config.WithLogger(obs.SDKLogger{Log: o.Log}),
		// Buildable, so that AWS_CA_BUNDLE still applies.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(o.AttemptTimeout)),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = maxBackoff
			})
		}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.LocalCredentials {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: load AWS configuration: %w", err)
	}
	if o.HTTPClient != nil {
		cfg.HTTPClient = o.HTTPClient
	}
	return dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		if o.Endpoint != "" {
			do.BaseEndpoint = aws.String(o.Endpoint)
		}
		do.APIOptions = append(do.APIOptions, o.APIOptions...)
		// Local servers do not always send the CRC32 DynamoDB sends.
		do.DisableValidateResponseChecksum = o.LocalCredentials
	}), nil
}

// CreateTable creates the table with its indexes (on-demand billing) and
// waits until it is active; an existing table is left as it is. The SAM
// template creates the same table in AWS; this is for local servers and
// tests.
func CreateTable(ctx context.Context, db *dynamodb.Client, table string) error {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sk), KeyType: types.KeyTypeRange}}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s("pk"), s("sk"), s("gsi1pk"), s("gsi1sk"), s("gsi2pk"), s("gsi2sk")},
		KeySchema:            keys("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(gsiUserSessions), KeySchema: keys("gsi1pk", "gsi1sk"), Projection: all},
			{IndexName: aws.String(gsiDueChecks), KeySchema: keys("gsi2pk", "gsi2sk"), Projection: all},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamodb: create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 30*time.Second); err != nil {
		return fmt.Errorf("dynamodb: wait for table %s: %w", table, err)
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)}}); err != nil && !errors.As(err, new(*types.ResourceInUseException)) {
		var ve interface{ ErrorCode() string }
		// ValidationException: already enabled. UnknownOperationException: a
		// local server without the TTL API (dynalite); reads drop expired
		// items themselves anyway.
		if !errors.As(err, &ve) || (ve.ErrorCode() != "ValidationException" && ve.ErrorCode() != "UnknownOperationException") {
			return fmt.Errorf("dynamodb: enable TTL on %s: %w", table, err)
		}
	}
	return nil
}

// Open returns a store on table with the default client: the Lambda
// functions' way in (AWS_ENDPOINT_URL_DYNAMODB redirects it to a local
// server).
func Open(ctx context.Context, table string) (*Store, error) {
	db, err := NewClient(ctx, ClientOptions{})
	if err != nil {
		return nil, err
	}
	return New(db, table, nil), nil
}

// Package sender sends the refresher's shards to its Amazon SQS queue
// (SendMessageBatch), one shard per message, for the worker function that
// the queue feeds (package shardqueue reads them there). It is the one
// importer of the SQS SDK, and only the refresher's binary links it.
package sender

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sessionguard/sessionguard/shared/obs"
	"github.com/sessionguard/sessionguard/shared/refresher"
)

// API is what the queue needs of the SQS client.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Queue sends shards to one queue.
type Queue struct {
	Client API
	URL    string
}

// maxBatchBytes keeps a SendMessageBatch under SQS's payload limit
// (256 KiB for the whole batch) with room for the request's envelope.
const maxBatchBytes = 200 << 10

// Send queues the shards, up to 10 messages and maxBatchBytes per call.
func (q *Queue) Send(ctx context.Context, shards []refresher.Shard) error {
	var batch []types.SendMessageBatchRequestEntry
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := q.Client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.URL, Entries: batch})
		if err != nil {
			return fmt.Errorf("sender: send %d shards to %s: %w", len(batch), q.URL, err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("sender: %d of %d shards refused by %s (first: %s %s)", len(out.Failed), len(batch), q.URL,
				aws.ToString(f.Code), aws.ToString(f.Message))
		}
		batch, size = batch[:0], 0
		return nil
	}
	for i, s := range shards {
		body, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("sender: encode shard %d of run %s: %w", i, s.Run, err)
		}
		if len(body) > maxBatchBytes {
			return fmt.Errorf("sender: shard %d of run %s is %d bytes; make shards smaller", i, s.Run, len(body))
		}
		if len(batch) == 10 || size+len(body) > maxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		size += len(body)
	}
	return flush()
}

// Options configure NewClient. The zero value is right on Lambda.
type Options struct {
	Endpoint         string // a local server (tests); empty: AWS_ENDPOINT_URL_SQS or the region's
	Region           string
	LocalCredentials bool // fixed dummy credentials, for a local server
}

// NewClient returns an SQS client.
func NewClient(ctx context.Context, o Options) (*sqs.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(obs.SDKLogger{})} // the SDK's own lines as JSON
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.LocalCredentials {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("sender: load AWS configuration: %w", err)
	}
	return sqs.NewFromConfig(cfg, func(so *sqs.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	}), nil
}

// Open returns the queue at url, through an SQS client configured as on
// Lambda (NewClient's zero Options): the refresher's fan-out queue.
func Open(ctx context.Context, url string) (refresher.Queue, error) {
	client, err := NewClient(ctx, Options{})
	if err != nil {
		return nil, err
	}
	return &Queue{Client: client, URL: url}, nil
}

// Package shardqueue carries the refresher's shards through an Amazon SQS
// queue: the scheduled run sends them (SendMessageBatch), and the worker
// function, the queue's event source, checks one shard per message and
// reports the messages it could not handle, which SQS delivers again and,
// after the queue's maxReceiveCount, moves to the dead-letter queue.
package shardqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
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
			return fmt.Errorf("shardqueue: send %d shards to %s: %w", len(batch), q.URL, err)
		}
		if len(out.Failed) > 0 {
			f := out.Failed[0]
			return fmt.Errorf("shardqueue: %d of %d shards refused by %s (first: %s %s)", len(out.Failed), len(batch), q.URL,
				aws.ToString(f.Code), aws.ToString(f.Message))
		}
		batch, size = batch[:0], 0
		return nil
	}
	for i, s := range shards {
		body, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("shardqueue: encode shard %d of run %s: %w", i, s.Run, err)
		}
		if len(body) > maxBatchBytes {
			return fmt.Errorf("shardqueue: shard %d of run %s is %d bytes; make shards smaller", i, s.Run, len(body))
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
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.LocalCredentials {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("shardqueue: load AWS configuration: %w", err)
	}
	return sqs.NewFromConfig(cfg, func(so *sqs.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
	}), nil
}

// Runner checks one shard.
type Runner interface {
	RunShard(ctx context.Context, s refresher.Shard) (refresher.Report, error)
}

// Decode reads a shard message strictly: unknown or repeated members, a
// missing run or environment, or no users are errors.
func Decode(body string) (refresher.Shard, error) {
	var s refresher.Shard
	if err := jsonv2.Unmarshal([]byte(body), &s, jsonv2.RejectUnknownMembers(true)); err != nil {
		return s, fmt.Errorf("shardqueue: a shard message that is not a shard: %w", err)
	}
	switch {
	case s.Run == "":
		return s, errors.New("shardqueue: shard without run")
	case s.Env == "":
		return s, errors.New("shardqueue: shard without env")
	case len(s.Users) == 0 || slices.ContainsFunc(s.Users, func(k session.UserKey) bool { return k.Issuer == "" || k.Subject == "" }):
		return s, errors.New("shardqueue: shard without users, or with a user lacking issuer or subject")
	}
	return s, nil
}

// Handle is the worker's SQS handler: each message is one shard; those
// that fail are reported back for SQS to deliver again (partial batch
// responses), the rest are done.
func Handle(ctx context.Context, run Runner, log *slog.Logger, ev events.SQSEvent) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range ev.Records {
		s, err := Decode(m.Body)
		if err == nil {
			_, err = run.RunShard(ctx, s)
		}
		if err != nil {
			log.LogAttrs(ctx, slog.LevelError, "shard failed; SQS delivers it again, then to the dead-letter queue",
				slog.String("messageId", m.MessageId), slog.String("run", s.Run), slog.String("error", err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp
}

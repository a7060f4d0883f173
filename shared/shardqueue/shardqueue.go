// Package shardqueue is the worker's side of the refresher's shards: the
// worker function is the SQS queue's event source, checks one shard per
// message and reports the messages it could not handle, which SQS
// delivers again and, after the queue's maxReceiveCount, moves to the
// dead-letter queue. The scheduled run sends them with package
// shardqueue/sender; this package does not import the SQS SDK.
package shardqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/sessionguard/sessionguard/shared/refresher"
	"github.com/sessionguard/sessionguard/shared/session"
)

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

package dynamostore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/smithy-go/logging"

	"github.com/sessionguard/sessionguard/shared/dynamostore"
	"github.com/sessionguard/sessionguard/shared/obs"
)

// The DynamoDB client's logger is the slog one (obs.SDKLogger): the SDK's
// own lines, such as its warning that a response body could not be
// drained after a cancelled context, are JSON lines of the function's
// log; with no logger given, slog's default (lambdamain sets it).
func TestClientLogsThroughSlog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	db, err := dynamostore.NewClient(context.Background(), dynamostore.ClientOptions{Endpoint: "http://127.0.0.1:1", Region: "eu-west-1", LocalCredentials: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	l, ok := db.Options().Logger.(obs.SDKLogger)
	if !ok || l.Log != log {
		t.Fatalf("client logger = %T; want obs.SDKLogger with the logger given", db.Options().Logger)
	}
	logging.WithContext(context.Background(), l).Logf(logging.Warn, "failed to discard remaining HTTP response body, this may affect connection reuse: %v", "canceled")
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil || line["level"] != "WARN" {
		t.Errorf("the SDK's warning = %q (%v); want one JSON warning line", buf.String(), err)
	}
	db, err = dynamostore.NewClient(context.Background(), dynamostore.ClientOptions{Endpoint: "http://127.0.0.1:1", Region: "eu-west-1", LocalCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := db.Options().Logger.(obs.SDKLogger); !ok || l.Log != nil {
		t.Errorf("client logger with none given = %T; want obs.SDKLogger on slog's default", db.Options().Logger)
	}
}

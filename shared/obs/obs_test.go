package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/smithy-go/logging"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// The standard library's conformance suite for slog handlers.
func TestHandlerConformance(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return requestIDHandler{slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})}
	}, func(t *testing.T) map[string]any {
		ls := lines(t, &buf)
		if len(ls) != 1 {
			t.Fatalf("got %d lines; want 1: %s", len(ls), buf.String())
		}
		return ls[0]
	})
}

func TestLambdaRequestIDAndLevel(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	log.DebugContext(ctx, "hidden")
	log.InfoContext(ctx, "decision", "reason", "ok")
	log.Info("no context")
	ls := lines(t, &buf)
	if len(ls) != 2 {
		t.Fatalf("got %d lines; want 2 (debug is off): %s", len(ls), buf.String())
	}
	if ls[0]["lambdaRequestId"] != "req-1" || ls[0]["reason"] != "ok" || ls[0]["level"] != "INFO" {
		t.Errorf("line = %v; want lambdaRequestId req-1, reason ok, level INFO", ls[0])
	}
	if _, ok := ls[1]["lambdaRequestId"]; ok {
		t.Errorf("line without a Lambda context has a request id: %v", ls[1])
	}
}

// The EMF member has the shape CloudWatch reads.
func TestEMFShape(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF([][]string{{"reason"}, {"environment", "decision"}}, Metric{Name: "decisions", Unit: "Count"})
	NewLogger(&buf).Info("decision", "reason", "ok", "decisions", 1, e.Attr(time.UnixMilli(1700000000123)))
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []Metric
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	cw := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp != 1700000000123 || len(cw) != 1 || cw[0].Namespace != Namespace ||
		len(cw[0].Dimensions) != 2 || cw[0].Metrics[0].Name != "decisions" {
		t.Errorf("_aws = %+v; want timestamp, namespace, 2 dimension sets, decisions", line.AWS)
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("EMF line spans lines: %q", buf.String())
	}
}

// Lines written from many goroutines never interleave.
func TestHandlerConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf)
	done := make(chan struct{})
	for range 8 {
		go func() {
			for range 200 {
				log.Info("decision", "pad", strings.Repeat("x", 300))
			}
			done <- struct{}{}
		}()
	}
	for range 8 {
		<-done
	}
	if n := len(lines(t, &buf)); n != 1600 {
		t.Errorf("got %d lines; want 1600", n)
	}
}

func BenchmarkDecisionLine(b *testing.B) {
	e := NewEMF([][]string{{"reason"}, {"environment", "decision"}}, Metric{Name: "decisions", Unit: "Count"}, Metric{Name: "latencyMs", Unit: "Milliseconds"})
	for _, c := range []struct {
		name string
		h    slog.Handler
	}{{"obs", NewLogger(io.Discard).Handler()}, {"slog.JSONHandler", slog.NewJSONHandler(io.Discard, nil)}} {
		log := slog.New(c.h)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				now := time.Now()
				log.LogAttrs(context.Background(), slog.LevelInfo, "decision",
					slog.String("requestId", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
					slog.String("environment", "contoso-prod"), slog.String("decision", "allow"),
					slog.String("reason", "ok"), slog.Float64("latencyMs", 0.035), slog.Int("decisions", 1),
					slog.String("userId", "user-1"), slog.String("sessionId", "0123456789abcdef"),
					e.Attr(now))
			}
		})
	}
}

// The CloudWatchMetrics array is written as it was when it was the JSON
// of a map (keys sorted), for dimension and metric names without <, >
// or & (which encoding/json escaped and the struct does not; every name
// is a constant without them).
func TestEMFMetadataIsTheMapEncoding(t *testing.T) {
	for _, c := range []struct {
		dims    [][]string
		metrics []Metric
	}{
		{[][]string{{"reason"}, {"environment", "decision"}}, []Metric{{Name: "decisions", Unit: "Count"}, {Name: "latencyMs", Unit: "Milliseconds"}}},
		{[][]string{{}, {"environment"}}, []Metric{{Name: "users", Unit: "Count"}}},
		{nil, nil},
		{[][]string{nil}, []Metric{}},
	} {
		want, err := json.Marshal([]map[string]any{{"Namespace": Namespace, "Dimensions": c.dims, "Metrics": c.metrics}})
		if err != nil {
			t.Fatal(err)
		}
		e := NewEMF(c.dims, c.metrics...)
		if len(c.dims) > 0 && len(c.dims[0]) > 0 {
			c.dims[0][0], c.metrics[0].Name = "changed", "changed" // NewEMF keeps its own copy
		}
		var buf bytes.Buffer
		NewLogger(&buf).Info("decision", e.Attr(time.UnixMilli(1700000000123)))
		if want := `"_aws":{"Timestamp":1700000000123,"CloudWatchMetrics":` + string(want) + `}}`; !strings.HasSuffix(strings.TrimSpace(buf.String()), want) {
			t.Errorf("line = %s; want it to end with %s", buf.String(), want)
		}
	}
}

// LogAttrs writes the line Logger.LogAttrs writes, at the time given.
func TestLogAttrs(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 15, 42, 123456789, time.UTC)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	attrs := []slog.Attr{slog.String("reason", "ok"), slog.Int("decisions", 1), slog.Float64("latencyMs", 0.035),
		slog.Group("g", slog.String("a", "b")), NewEMF([][]string{{"reason"}}, Metric{Name: "decisions", Unit: "Count"}).Attr(at)}
	var got, want bytes.Buffer
	LogAttrs(ctx, NewLogger(&got), slog.LevelWarn, at, "decision", attrs...)
	LogAttrs(ctx, NewLogger(&got), slog.LevelDebug, at, "hidden", attrs...)
	NewLogger(&want).LogAttrs(ctx, slog.LevelWarn, "decision", attrs...)
	g, w := lines(t, &got), lines(t, &want)
	if len(g) != 1 || len(w) != 1 {
		t.Fatalf("got %d lines; want 1 (debug is off): %s", len(g), got.String())
	}
	if g[0]["time"] != "2026-12-06T09:15:42.123456789Z" {
		t.Errorf("time = %v; want the time given", g[0]["time"])
	}
	delete(g[0], "time")
	delete(w[0], "time")
	if gj, wj := fmt.Sprint(g[0]), fmt.Sprint(w[0]); gj != wj {
		t.Errorf("line = %s; want %s", gj, wj)
	}
}

// The AWS SDK's own lines (its WARN class a warning, the rest debug) are
// JSON lines of the log, never the SDK's plain text.
func TestSDKLogger(t *testing.T) {
	var buf bytes.Buffer
	var sdk logging.Logger = SDKLogger{Log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	sdk = logging.WithContext(context.Background(), sdk)
	sdk.Logf(logging.Warn, "failed to discard remaining HTTP response body, this may affect connection reuse: %v", "use of closed network connection")
	sdk.Logf(logging.Debug, "retrying %d", 2)
	got := lines(t, &buf)
	if len(got) != 2 || got[0]["level"] != "WARN" || got[0]["msg"] != "aws sdk" ||
		got[0]["sdk"] != "failed to discard remaining HTTP response body, this may affect connection reuse: use of closed network connection" || got[1]["level"] != "DEBUG" {
		t.Errorf("SDK lines = %v; want two JSON lines, a warning and a debug one, the SDK's text under sdk", got)
	}
}

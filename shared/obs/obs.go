// Package obs sets up JSON logs (log/slog) and CloudWatch Embedded Metric
// Format (EMF) fields, so that one log line can carry both a decision and
// its metrics.
package obs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "sessionguard"

// NewLogger returns a JSON logger writing to w (os.Stdout if nil) that adds
// the Lambda request id, when there is one, to every line logged with a
// context.
func NewLogger(w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	return slog.New(requestIDHandler{slog.NewJSONHandler(w, nil)})
}

// LogAttrs logs as l.LogAttrs does, but at t rather than now and without
// the caller's source position: a line can carry the time its metrics
// were taken, and looking up the caller (runtime.Callers, about 0.3 us a
// line) is wasted on NewLogger's lines, which do not show it.
func LogAttrs(ctx context.Context, l *slog.Logger, level slog.Level, t time.Time, msg string, attrs ...slog.Attr) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !l.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(t, level, msg, 0)
	r.AddAttrs(attrs...)
	_ = l.Handler().Handle(ctx, r)
}

// Metric is one EMF metric definition.
type Metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// EMF describes the metrics a kind of log line carries. Its Attr, added to
// a line whose top-level keys hold the metric values and dimensions, turns
// the line into CloudWatch metrics.
type EMF struct {
	// meta is the CloudWatchMetrics array, a []directive held as an any
	// so that Attr does not box it again. A struct encodes in about half
	// the time of the same JSON held as a json.RawMessage, which
	// encoding/json validates and compacts on every line.
	meta any
}

// directive is one element of CloudWatchMetrics; its fields are in the
// order encoding/json writes a map's keys (sorted).
type directive struct {
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []Metric   `json:"Metrics"`
	Namespace  string     `json:"Namespace"`
}

// NewEMF declares metrics with dimension sets (names of top-level keys).
func NewEMF(dimensions [][]string, metrics ...Metric) EMF {
	var dims [][]string // a copy: nil stays nil (null), as it was
	if dimensions != nil {
		dims = make([][]string, len(dimensions))
		for i, d := range dimensions {
			dims[i] = slices.Clone(d)
		}
	}
	return EMF{[]directive{{Dimensions: dims, Metrics: slices.Clone(metrics), Namespace: Namespace}}}
}

// Attr is the "_aws" member of a line logged at t.
func (e EMF) Attr(t time.Time) slog.Attr {
	return slog.Attr{Key: "_aws", Value: slog.GroupValue(slog.Int64("Timestamp", t.UnixMilli()), slog.Any("CloudWatchMetrics", e.meta))}
}

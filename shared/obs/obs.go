// Package obs sets up JSON logs (log/slog) and CloudWatch Embedded Metric
// Format (EMF) fields, so that one log line can carry both a decision and
// its metrics.
package obs

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
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

// Metric is one EMF metric definition.
type Metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// EMF describes the metrics a kind of log line carries. Its Attr, added to
// a line whose top-level keys hold the metric values and dimensions, turns
// the line into CloudWatch metrics.
type EMF struct{ meta json.RawMessage }

// NewEMF declares metrics with dimension sets (names of top-level keys).
func NewEMF(dimensions [][]string, metrics ...Metric) EMF {
	meta, err := json.Marshal([]map[string]any{{
		"Namespace": Namespace, "Dimensions": dimensions, "Metrics": metrics,
	}})
	if err != nil {
		panic("obs: EMF metadata: " + err.Error()) // static input: a programming error
	}
	return EMF{meta}
}

// Attr is the "_aws" member of a line logged at t.
func (e EMF) Attr(t time.Time) slog.Attr {
	return slog.Attr{Key: "_aws", Value: slog.GroupValue(slog.Int64("Timestamp", t.UnixMilli()), slog.Any("CloudWatchMetrics", e.meta))}
}

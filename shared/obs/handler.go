package obs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sessionguard/sessionguard/shared/jsonlite"
)

// jsonHandler is a slog.Handler writing one JSON object per line, in the
// shape of slog.JSONHandler (time, level, msg, then the attributes). It
// exists for the authorizer's hot path: it writes strings and numbers
// without reflection, writes the EMF metadata verbatim instead of
// re-validating it through encoding/json, and adds the Lambda request id.
// Values of other kinds fall back to encoding/json, as slog does.
type jsonHandler struct {
	w     *lockedWriter
	level slog.Leveler
	// pre holds the attributes of WithAttrs, rendered, each followed by a
	// comma; open counts the groups of WithGroup opened in pre.
	pre    []byte
	open   int
	groups []string // groups opened after the last WithAttrs, not yet written
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func newJSONHandler(w io.Writer, level slog.Leveler) *jsonHandler {
	return &jsonHandler{w: &lockedWriter{w: w}, level: level}
}

func (h *jsonHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *jsonHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	c := *h
	c.pre = append([]byte(nil), h.pre...)
	c.pre, c.open = openGroups(c.pre, c.open, h.groups)
	inner := len(c.pre)
	for _, a := range as {
		c.pre = appendAttr(c.pre, a)
	}
	if len(c.pre) == inner { // only empty attributes: nothing to keep
		return h
	}
	c.groups = nil
	return &c
}

func (h *jsonHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = append(append([]string(nil), h.groups...), name)
	return &c
}

// openGroups writes the opening of each group; a group's closing brace is
// written at the end of the line.
func openGroups(b []byte, open int, groups []string) ([]byte, int) {
	for _, g := range groups {
		b = jsonlite.AppendString(b, g)
		b = append(b, ":{"...)
		open++
	}
	return b, open
}

func (h *jsonHandler) Handle(ctx context.Context, r slog.Record) error {
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], '{')
	if !r.Time.IsZero() {
		b = append(b, `"time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = jsonlite.AppendString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = jsonlite.AppendString(b, r.Message)
	b = append(b, ',')
	b = append(b, h.pre...)
	mark, open := len(b), h.open
	if r.NumAttrs() > 0 || lambdaID(ctx) != "" {
		b, open = openGroups(b, open, h.groups)
	}
	inner := len(b)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, a)
		return true
	})
	if id := lambdaID(ctx); id != "" {
		b = appendAttr(b, slog.String("lambdaRequestId", id))
	}
	if len(b) == inner { // nothing written inside the groups just opened
		b, open = b[:mark], h.open
	}
	b = b[:len(b)-1] // the last comma
	for range open {
		b = append(b, '}')
	}
	b = append(b, "}\n"...)
	h.w.mu.Lock()
	_, err := h.w.w.Write(b)
	h.w.mu.Unlock()
	*bp = b
	if cap(b) <= 64<<10 {
		bufPool.Put(bp)
	}
	return err
}

func lambdaID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// appendAttr writes `"key":value,`, or nothing for an empty attribute or
// an empty group, as slog's handlers do.
func appendAttr(b []byte, a slog.Attr) []byte {
	v := a.Value.Resolve()
	if a.Key == "" && v.Kind() != slog.KindGroup {
		if v.Kind() == slog.KindAny && v.Any() == nil {
			return b
		}
	}
	if v.Kind() == slog.KindGroup {
		as := v.Group()
		if len(as) == 0 {
			return b
		}
		if a.Key == "" { // an unnamed group is inlined
			for _, g := range as {
				b = appendAttr(b, g)
			}
			return b
		}
		start := len(b)
		b = jsonlite.AppendString(b, a.Key)
		b = append(b, ":{"...)
		inner := len(b)
		for _, g := range as {
			b = appendAttr(b, g)
		}
		if len(b) == inner {
			return b[:start]
		}
		b[len(b)-1] = '}'
		return append(b, ',')
	}
	b = jsonlite.AppendString(b, a.Key)
	b = append(b, ':')
	b = appendValue(b, v)
	return append(b, ',')
}

func appendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return jsonlite.AppendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return appendFloat(b, v.Float64())
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	switch x := v.Any().(type) {
	case rawJSON:
		return append(b, x...)
	case json.Marshaler:
	case error:
		return jsonlite.AppendString(b, x.Error())
	}
	data, err := json.Marshal(v.Any())
	if err != nil {
		return jsonlite.AppendString(b, "!ERROR:"+err.Error())
	}
	return append(b, data...)
}

// appendFloat writes f as encoding/json does; NaN and infinities, which
// JSON cannot hold, as strings.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return jsonlite.AppendString(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// rawJSON is JSON produced by this package from static input, written to
// a line as it is.
type rawJSON []byte

// MarshalJSON lets other handlers write it too.
func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

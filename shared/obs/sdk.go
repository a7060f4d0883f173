package obs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// SDKLogger is the AWS SDK's logger for the functions' clients: the few
// lines the SDK writes itself (a warning that a response body could not
// be drained after its context was cancelled, a retry note) go through
// log/slog as JSON, as every other line of the functions' logs, rather
// than as the SDK's own plain text on stderr. A nil Log writes to
// slog.Default() as it is when the line is written (lambdamain sets it).
type SDKLogger struct {
	Log *slog.Logger
	ctx context.Context
}

// Logf writes the SDK's line: a warning for its WARN class, else debug.
func (s SDKLogger) Logf(c logging.Classification, format string, v ...any) {
	l := s.Log
	if l == nil {
		l = slog.Default()
	}
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	l.LogAttrs(ctx, level, "aws sdk", slog.String("sdk", fmt.Sprintf(format, v...)))
}

// WithContext gives the SDK a logger for one call's context, so that the
// line carries the Lambda request id.
func (s SDKLogger) WithContext(ctx context.Context) logging.Logger {
	s.ctx = ctx
	return s
}

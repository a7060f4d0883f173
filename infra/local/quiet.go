package local

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// quietHandler keeps `make run`'s terminal readable: the background policy
// checks and audit run every 30 s, and log a line only when something was
// checked or changed. A "policy checks" line that checked nobody, revoked
// nothing and met no error is dropped; an "audit" line equal to the last
// one of its environment (times aside) is dropped. Every other line passes.
type quietHandler struct {
	slog.Handler
	mu   *sync.Mutex
	last map[string]string // environment -> the last audit line's counts
}

func newQuietHandler(h slog.Handler) quietHandler {
	return quietHandler{Handler: h, mu: &sync.Mutex{}, last: map[string]string{}}
}

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "policy checks":
		busy := false
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "usersChecked", "revokedSessions", "directoryErrors":
				busy = busy || a.Value.Int64() != 0
			}
			return true
		})
		if !busy {
			return nil
		}
	case "audit":
		var env string
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "environment":
				env = a.Value.String()
			case "report", "_aws": // carry the time
			default:
				fmt.Fprintf(&b, "%s=%v;", a.Key, a.Value)
			}
			return true
		})
		q.mu.Lock()
		same := q.last[env] == b.String()
		q.last[env] = b.String()
		q.mu.Unlock()
		if same {
			return nil
		}
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return quietHandler{Handler: q.Handler.WithAttrs(as), mu: q.mu, last: q.last}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{Handler: q.Handler.WithGroup(name), mu: q.mu, last: q.last}
}

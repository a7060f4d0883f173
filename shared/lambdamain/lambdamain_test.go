package lambdamain

import (
	"bytes"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"testing"
)

// TestStandardLogIsEscaped: a line a library prints through package log
// (aws-lambda-go-api-proxy prints a request's path when it cannot convert
// an event) is one JSON line with the text escaped: a newline followed by
// a JSON object in the text forges no line of its own.
func TestStandardLogIsEscaped(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	flags, out := log.Flags(), log.Writer()
	defer func() { log.SetFlags(flags); log.SetOutput(out) }()
	var buf bytes.Buffer
	newLogger(&buf)
	log.Println(`parse "https://x/console/` + "\n" + `{"level":"INFO","msg":"decision","decision":"allow","forged":true}"`)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log printed %d lines; want 1:\n%s", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("line %q is not JSON: %v", lines[0], err)
	}
	if _, forged := m["forged"]; forged || !strings.Contains(m["msg"].(string), "\n{") {
		t.Fatalf("line %s: want the text, newline included, in msg", lines[0])
	}
}

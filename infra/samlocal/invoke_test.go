//go:build linux

package samlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
)

// `sam local invoke` on every function of the template, with each of its
// sample events, the project's env.json, a live session in a fresh table
// (moto) and a token from a development issuer the test runs: each answer
// is the one the Runtime Interface Emulator tests expect
// (lambdarun.Answers).
func TestInvokeEveryFunction(t *testing.T) {
	needEngine(t)
	ctx := context.Background()
	view := samView(t)
	var fns []string
	for fn, logical := range lambdarun.Functions {
		if _, ok := view[logical]; !ok {
			t.Errorf("lambdarun.Functions names %s, which the template does not have", logical)
		}
		fns = append(fns, fn)
	}
	for logical := range view {
		if !slices.Contains(fns, functionOf(logical)) {
			t.Errorf("the template's %s has no sample events in lambdarun.Functions", logical)
		}
	}
	slices.Sort(fns)
	n := 0
	for _, fn := range fns {
		names, err := events.Names(fn)
		if err != nil || len(names) == 0 {
			t.Fatalf("events of %s: %v %v", fn, names, err)
		}
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				n++
				want, ok := lambdarun.Answers[name]
				if !ok {
					t.Fatalf("events/%s has no expected answer in lambdarun.Answers", name)
				}
				sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, fmt.Sprintf("samlocal-invoke-%d", n))
				if err != nil {
					t.Fatal(err)
				}
				defer sb.Close()
				ev, err := sb.Event(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				evFile := filepath.Join(t.TempDir(), "event.json")
				if err := os.WriteFile(evFile, ev, 0o600); err != nil {
					t.Fatal(err)
				}
				env := envFile(t, sb)
				ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				defer cancel()
				cmd := sam(ictx, append([]string{"local", "invoke", lambdarun.Functions[fn], "--event", evFile, "--env-vars", env}, localFlags()...)...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				start := time.Now()
				err = kids.run(cmd)
				took := time.Since(start)
				// The SAM CLI prints the answer re-encoded with spaces after
				// ':' and ','; the expectations are written for the compact
				// form the function sends.
				var answer bytes.Buffer
				if cerr := json.Compact(&answer, bytes.TrimSpace(stdout.Bytes())); cerr != nil {
					answer.Reset()
					answer.Write(stdout.Bytes())
				}
				if err != nil || !regexp.MustCompile(want).Match(answer.Bytes()) {
					t.Fatalf("sam local invoke %s --event events/%s: %v\nanswer: %s\nwant: %s\nlog:\n%s", lambdarun.Functions[fn], name, err, stdout.Bytes(), want, stderr.Bytes())
				}
				t.Logf("sam local invoke %s --event events/%s: %v", lambdarun.Functions[fn], name, took.Round(time.Millisecond))
			})
		}
	}
}

func functionOf(logical string) string {
	for fn, l := range lambdarun.Functions {
		if l == logical {
			return fn
		}
	}
	return ""
}

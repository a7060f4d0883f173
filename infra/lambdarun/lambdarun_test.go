package lambdarun_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
)

var dynamo *dynamotest.Server

func TestMain(m *testing.M) { dynamotest.Main(m, func(s *dynamotest.Server) { dynamo = s }) }

// What each sample event must get from the real binary.
var want = lambdarun.Answers

// Each function's real binary, built as for Lambda (but for this
// machine), answers each of its sample events through AWS's Runtime
// Interface Emulator.
func TestBinariesOnTheirEvents(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	bin := t.TempDir()
	table := 0
	for fn := range lambdarun.Functions {
		t.Run(fn, func(t *testing.T) {
			exe := filepath.Join(bin, fn, "bootstrap")
			build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", exe, "../../functions/"+fn)
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build %s: %v\n%s", fn, err, out)
			}
			names, err := events.Names(fn)
			if err != nil || len(names) == 0 {
				t.Fatalf("events of %s: %v %v", fn, names, err)
			}
			for _, name := range names {
				table++
				sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, fmt.Sprintf("invoke-%d", table)) // a fresh table per event
				if err != nil {
					t.Fatal(err)
				}
				ev, err := sb.Event(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				f, err := lambdarun.Start(exe, sb.Env)
				if err != nil {
					t.Fatal(err)
				}
				ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
				res, err := f.Invoke(ictx, ev)
				cancel()
				f.Stop()
				sb.Close()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if w, ok := want[name]; !ok {
					t.Errorf("%s: no expectation in this test", name)
				} else if res.Error || !regexp.MustCompile(w).Match(res.Payload) {
					t.Errorf("%s = %s (error: %v); want %s\nlogs:\n%s", name, res.Payload, res.Error, w, f.Logs())
				}
				t.Logf("%s: %v", name, res.Took.Round(time.Millisecond))
			}
		})
	}
}

// A handler error comes back from the emulator as 200 with Lambda's error
// document: Invoke reports it as an error, with the function's log line.
func TestHandlerErrorIsReported(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	exe := filepath.Join(t.TempDir(), "authorizer", "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", exe, "../../functions/authorizer")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, "invoke-error")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	f, err := lambdarun.Start(exe, sb.Env)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	// No token: the authorizer answers Unauthorized, which Lambda carries as
	// a handler error.
	res, err := f.Invoke(ctx, []byte(`{"version":"2.0","type":"REQUEST","routeArn":"arn:aws:execute-api:eu-west-1:1:a/b/GET/c","headers":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Error || !strings.Contains(string(res.Payload), `"errorMessage":"Unauthorized"`) {
		t.Fatalf("answer = %s (error %v); want the Unauthorized error document", res.Payload, res.Error)
	}
	if logs := f.FunctionLogs(); !strings.Contains(logs, `"reason":"token_missing"`) {
		t.Fatalf("function logs = %s; want the token_missing decision", logs)
	}
}

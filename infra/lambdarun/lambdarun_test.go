package lambdarun_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/version"
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
	table := 0
	for fn := range lambdarun.Functions {
		t.Run(fn, func(t *testing.T) {
			exe := buildFunction(t, fn)
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
				// The function's start line names it and the release.
				if start := fmt.Sprintf(`"msg":"start","function":%q,"version":%q`, fn, version.Version); func() bool { _, ok := f.WaitFunctionLog(start, 5*time.Second); return !ok }() {
					t.Errorf("%s: no start line with %s in the logs:\n%s", name, start, f.FunctionLogs())
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
	exe := buildFunction(t, "authorizer")
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
	if logs, ok := f.WaitFunctionLog(`"reason":"token_missing"`, 5*time.Second); !ok {
		t.Fatalf("function logs = %s; want the token_missing decision", logs)
	}
}

// buildFunction builds fn's binary as for Lambda (for this machine).
func buildFunction(t *testing.T, fn string) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), fn, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", exe, "../../functions/"+fn)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", fn, err, out)
	}
	return exe
}

// A cold start verifies with the key sets the table keeps: the real
// authorizer binary, started afresh under the emulator after an instance
// fetched (and stored) its issuers' keys, decides without one request to
// the key-set URL, and says so in its log; with JWKS_SNAPSHOT=off it
// fetches again.
func TestColdStartFromKeySetSnapshot(t *testing.T) {
	needs.Parts(t, needs.Moto)
	ctx := context.Background()
	exe := buildFunction(t, "authorizer")
	sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, "cold-snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	keys := dynamotest.NewProxy(sb.IdP.URL())
	defer keys.Close()
	env := append(slices.Clone(sb.Env), sb.TrustedIssuers(keys.URL+"/jwks.json"))
	ev, err := sb.Event(ctx, "authorizer/http-api-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	coldStart := func(extra ...string) (requests int, logs string) {
		t.Helper()
		keys.Set(dynamotest.Pass, 0) // counts from zero
		f, err := lambdarun.Start(exe, append(slices.Clone(env), extra...))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Stop()
		res, err := f.Invoke(ctx, ev)
		if err != nil || !strings.Contains(string(res.Payload), `"isAuthorized":true`) {
			t.Fatalf("cold-start decision = %s, %v; want an allow\nlogs:\n%s", res.Payload, err, f.Logs())
		}
		logs, _ = f.WaitFunctionLog(`"msg":"decision"`, 5*time.Second) // passed on after the answer, maybe
		return keys.Requests(), logs
	}
	// The first instance finds no snapshot: it fetches each issuer's set.
	if n, logs := coldStart(); n != 2 || !strings.Contains(logs, `"keySource":"idp"`) {
		t.Fatalf("first cold start: %d key-set requests; want 2 (two issuers), and the decision's keySource idp\nlogs:\n%s", n, logs)
	}
	// The next asks the IdP nothing.
	n, logs := coldStart()
	if n != 0 || !strings.Contains(logs, `"keySource":"snapshot"`) || !regexp.MustCompile(`"keySources":\{[^}]*"snapshot"`).MatchString(logs) {
		t.Fatalf("cold start with snapshots: %d key-set requests; want 0, and snapshot as the key source at start and in the decision\nlogs:\n%s", n, logs)
	}
	if n, _ := coldStart("JWKS_SNAPSHOT=off"); n != 2 {
		t.Fatalf("cold start with JWKS_SNAPSHOT=off: %d key-set requests; want 2", n)
	}
}

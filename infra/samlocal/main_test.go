//go:build linux

package samlocal_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/samlocal"
)

// The tests that run the SAM CLI's containers run only with enable set
// to 1 (make sam-local sets it, as root, after make sam-local-deps; the
// needs package's doc says the rule), and take qemu and busybox from the
// folder tools names.
const (
	enable = needs.SAMLocal
	tools  = "SESSIONGUARD_SAM_LOCAL_TOOLS"
)

var (
	scratch  string             // this run's files
	engine   *samlocal.Engine   // nil unless enabled
	dynamo   *dynamotest.Server // the functions' DynamoDB (moto)
	built    string             // sam build's template
	kids     children           // the sam commands running
	teardown cleanups           // what the run set up, to undo
)

func TestMain(m *testing.M) {
	if samlocal.IsHook() { // podman runs this binary as its hook
		os.Exit(samlocal.RunHook(os.Stdin, os.Args))
	}
	if os.Getenv(orphanHelper) != "" { // TestSamEndsWithTheRun
		os.Exit(runOrphanHelper())
	}
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	flag.Parse()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	if os.Getenv(enable) != "1" {
		return m.Run() // the container tests skip, naming make sam-local
	}
	if testing.Short() { // they would skip, and make sam-local pass without them
		return fail(errors.New("samlocal: " + enable + "=1 runs the container tests, which -short skips: drop one or the other"))
	}
	start := time.Now()
	// From here on, a run interrupted (^C, SIGTERM) or about to run out of
	// time still tears down: abort ends the sam commands, then undoes what
	// teardown holds (the engine's Close stops a Start under way), then
	// exits. A run killed outright, or ended by a panic, leaves the
	// engine's record of what it set up, and the next run's Start removes
	// it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() { abort(fmt.Sprint(<-sig)) }()
	if d := flag.Lookup("test.timeout").Value.(flag.Getter).Get().(time.Duration); d > 2*time.Minute {
		t := time.AfterFunc(d-time.Minute, func() { abort("a minute before -timeout " + d.String()) })
		defer t.Stop()
	}
	defer func() {
		step := time.Now()
		if err := teardown.run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		fmt.Fprintf(os.Stderr, "samlocal: torn down in %v; whole run %v\n", time.Since(step).Round(time.Millisecond), time.Since(start).Round(time.Second))
	}()
	var err error
	if scratch, err = os.MkdirTemp("", "samlocal-"); err != nil {
		return fail(err)
	}
	teardown.add(func() error { return os.RemoveAll(scratch) })
	if dynamo, err = dynamotest.Start(); err != nil {
		return fail(err)
	}
	teardown.add(func() error { dynamo.Stop(); return nil })
	ctx := context.Background()
	// Every container gets the DynamoDB endpoint: the SAM CLI passes a
	// function only the variables its template declares (and its own
	// AWS_ ones), so --env-vars cannot.
	engine = samlocal.New(samlocal.Options{Dir: scratch, Tools: os.Getenv(tools),
		Env: []string{"AWS_ENDPOINT_URL_DYNAMODB=" + dynamo.Endpoint}, Log: os.Stderr})
	teardown.add(engine.Close)
	if err := engine.Start(ctx); err != nil {
		return fail(err)
	}
	if err := samSetup(); err != nil {
		return fail(err)
	}
	step := time.Now()
	dir := filepath.Join(scratch, "build")
	cmd := sam(ctx, "build", "--build-in-source", "--build-dir", dir, "--cache-dir", filepath.Join(scratch, "cache"),
		"--template-file", filepath.Join(root, "template.yaml"))
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := kids.run(cmd); err != nil {
		return fail(fmt.Errorf("sam build: %v\n%s", err, out.String()))
	}
	built = filepath.Join(dir, "template.yaml")
	fmt.Fprintf(os.Stderr, "samlocal: sam build in %v\n", time.Since(step).Round(time.Millisecond))
	return m.Run()
}

// abort ends the run early: the sam commands (their context's cancel
// would not run before os.Exit), then everything teardown holds, then the
// process.
func abort(why string) {
	fmt.Fprintf(os.Stderr, "samlocal: %s: tearing down\n", why)
	start := time.Now()
	kids.stop(10 * time.Second)
	if err := teardown.run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Fprintf(os.Stderr, "samlocal: torn down in %v\n", time.Since(start).Round(time.Millisecond))
	os.Exit(2)
}

// needEngine skips t unless make sam-local runs it (needs.Parts), where
// TestMain has started the engine or failed.
func needEngine(t *testing.T) {
	needs.Parts(t, needs.SAMCLI, needs.Moto, needs.Engine)
	if engine == nil {
		t.Fatal("the engine did not start")
	}
}

// cleanups are the run's undo steps, run last first and each once, by
// the run's end or by abort, whichever comes first; the other waits for
// it. A step added after they ran runs at once.
type cleanups struct {
	mu    sync.Mutex
	steps []func() error
	ran   bool
}

func (c *cleanups) add(step func() error) {
	c.mu.Lock()
	if !c.ran {
		c.steps = append(c.steps, step)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	step()
}

func (c *cleanups) run() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ran = true
	var errs []error
	for len(c.steps) > 0 {
		step := c.steps[len(c.steps)-1]
		c.steps = c.steps[:len(c.steps)-1]
		if err := step(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

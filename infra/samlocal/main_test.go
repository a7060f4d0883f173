package samlocal_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/samlocal"
)

// enable turns on the tests that run the SAM CLI's containers; make
// sam-local sets it after installing the engine's packages.
const enable = "SESSIONGUARD_SAM_LOCAL"

var (
	root    string             // the repository
	scratch string             // this run's files
	engine  *samlocal.Engine   // nil unless enabled
	dynamo  *dynamotest.Server // the functions' DynamoDB (moto)
	built   string             // sam build's template
)

func TestMain(m *testing.M) {
	if samlocal.IsHook() { // podman runs this binary as its hook
		os.Exit(samlocal.RunHook(os.Stdin, os.Args))
	}
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	var err error
	if root, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if scratch, err = os.MkdirTemp("", "samlocal-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(scratch)
	flag.Parse()
	if os.Getenv(enable) == "" || testing.Short() {
		return m.Run()
	}
	start := time.Now()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	if dynamo, err = dynamotest.Start(); err != nil {
		return fail(err)
	}
	defer dynamo.Stop()
	ctx := context.Background()
	// Every container gets the DynamoDB endpoint: the SAM CLI passes a
	// function only the variables its template declares (and its own
	// AWS_ ones), so --env-vars cannot.
	engine, err = samlocal.Start(ctx, samlocal.Options{Dir: scratch, Env: []string{"AWS_ENDPOINT_URL_DYNAMODB=" + dynamo.Endpoint}, Log: os.Stderr})
	if err != nil {
		return fail(err)
	}
	// Interrupted (^C, SIGTERM), the run still tears down.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "samlocal: %v: tearing down\n", s)
		if err := engine.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		dynamo.Stop()
		os.RemoveAll(scratch)
		os.Exit(2)
	}()
	defer func() {
		step := time.Now()
		if err := engine.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		fmt.Fprintf(os.Stderr, "samlocal: torn down in %v; whole run %v\n", time.Since(step).Round(time.Millisecond), time.Since(start).Round(time.Second))
	}()
	if err := samSetup(); err != nil {
		return fail(err)
	}
	step := time.Now()
	dir := filepath.Join(scratch, "build")
	out, err := sam(ctx, "build", "--build-in-source", "--build-dir", dir, "--cache-dir", filepath.Join(scratch, "cache"),
		"--template-file", filepath.Join(root, "template.yaml")).CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("sam build: %v\n%s", err, out))
	}
	built = filepath.Join(dir, "template.yaml")
	fmt.Fprintf(os.Stderr, "samlocal: sam build in %v\n", time.Since(step).Round(time.Millisecond))
	return m.Run()
}

func needEngine(t *testing.T) {
	needs.Parts(t, needs.SAMCLI, needs.Moto, needs.Engine)
	if engine == nil {
		t.Skip("runs the SAM CLI's containers: make sam-local (" + enable + "=1, as root)")
	}
}

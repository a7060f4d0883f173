// Command invoke runs a built function binary on one sample event under
// AWS's Lambda Runtime Interface Emulator, with a development issuer,
// directory and DynamoDB table around it: `make invoke FN=… EVENT=…`.
//
// Without -dynamodb (or AWS_ENDPOINT_URL_DYNAMODB) it starts its own
// DynamoDB server (moto, as the tests do) and stops it afterwards, so the
// function never reaches a real AWS endpoint. Any configuration variable
// the functions read (TRUSTED_ISSUERS, …) set in the environment is
// passed to the function over the sandbox's own value.
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func main() {
	fn := flag.String("fn", "", "function: authorizer, sessions, settings, refresher, signals or auditor")
	event := flag.String("event", "", "event file, e.g. events/authorizer/http-api-v2.json")
	bin := flag.String("bin", "", "the bootstrap (default bin/local/<fn>/bootstrap)")
	dynamo := flag.String("dynamodb", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), "DynamoDB endpoint for the function's table (empty: start a local one)")
	table := flag.String("table", "sessionguard-invoke", "table created at the endpoint")
	flag.Parse()
	code, err := run(*fn, *event, *bin, *dynamo, *table)
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
	}
	os.Exit(code)
}

func run(fn, event, bin, dynamo, table string) (int, error) {
	i := slices.IndexFunc(wiring.Functions(), func(f wiring.Function) bool { return f.Name == fn })
	if i < 0 {
		return 2, fmt.Errorf("-fn %q: want one of %s", fn, strings.Join(slices.Sorted(maps.Keys(lambdarun.Functions)), ", "))
	}
	row := wiring.Functions()[i]
	name := strings.TrimPrefix(filepath.ToSlash(event), "events/")
	if !strings.HasPrefix(name, fn+"/") {
		return 2, fmt.Errorf("-event %q: want a file under events/%s/", event, fn)
	}
	if bin == "" {
		bin = filepath.Join("bin", "local", fn, "bootstrap")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if dynamo == "" {
		fmt.Fprintln(os.Stderr, "invoke: starting a local DynamoDB server (moto); the function reaches no AWS endpoint")
		srv, err := dynamotest.Start()
		if err != nil {
			return 1, err
		}
		defer srv.Stop()
		dynamo = srv.Endpoint
	}
	sb, err := lambdarun.NewSandbox(ctx, dynamo, table)
	if err != nil {
		return 1, err
	}
	defer sb.Close()
	env := sb.Env
	for _, v := range config.Variables {
		if val, ok := os.LookupEnv(v.Name); ok && row.Reads(v) {
			fmt.Fprintf(os.Stderr, "invoke: passing %s from your environment\n", v.Name)
			env = append(env, v.Name+"="+val) // the last value wins
		}
	}
	ev, err := sb.Event(ctx, name)
	if err != nil {
		return 1, err
	}
	f, err := lambdarun.Start(bin, env)
	if err != nil {
		return 1, err
	}
	res, err := f.Invoke(ctx, ev)
	f.Stop()
	if err != nil {
		return 1, err // it carries the function's lines
	}
	fmt.Fprint(os.Stderr, f.FunctionLogs())
	fmt.Printf("%s\n", res.Payload)
	if res.Error {
		fmt.Fprintf(os.Stderr, "invoke: %s answered with an error in %v\n", fn, res.Took.Round(time.Millisecond))
		return 2, nil
	}
	fmt.Fprintf(os.Stderr, "invoke: %s answered in %v\n", fn, res.Took.Round(time.Millisecond))
	return 0, nil
}

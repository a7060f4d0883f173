// Command invoke runs a built function binary on one sample event through
// the local Runtime API server, with a development issuer, directory and
// (given an endpoint) DynamoDB table around it: `make invoke FN=… EVENT=…`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionguard/sessionguard/infra/runtimeapi"
)

func main() {
	fn := flag.String("fn", "", "function: authorizer, sessions, settings, refresher, signals or auditor")
	event := flag.String("event", "", "event file, e.g. events/authorizer/http-api-v2.json")
	bin := flag.String("bin", "", "the bootstrap (default bin/local/<fn>/bootstrap)")
	dynamo := flag.String("dynamodb", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), "DynamoDB endpoint for the function's table (empty: none; DynamoDB calls then fail)")
	table := flag.String("table", "sessionguard-invoke", "table created at the endpoint")
	flag.Parse()
	if err := run(*fn, *event, *bin, *dynamo, *table); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(fn, event, bin, dynamo, table string) error {
	if _, ok := runtimeapi.Functions[fn]; !ok {
		return fmt.Errorf("-fn %q: want one of authorizer, sessions, settings, refresher, signals, auditor", fn)
	}
	name := strings.TrimPrefix(filepath.ToSlash(event), "events/")
	if !strings.HasPrefix(name, fn+"/") {
		return fmt.Errorf("-event %q: want a file under events/%s/", event, fn)
	}
	if bin == "" {
		bin = filepath.Join("bin", "local", fn, "bootstrap")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := runtimeapi.NewSandbox(ctx, dynamo, table)
	if err != nil {
		return err
	}
	defer sb.Close()
	if dynamo == "" {
		fmt.Fprintln(os.Stderr, "invoke: no DynamoDB endpoint (-dynamodb or AWS_ENDPOINT_URL_DYNAMODB): store calls will fail closed")
	}
	ev, err := sb.Event(ctx, name)
	if err != nil {
		return err
	}
	f, err := runtimeapi.Start(bin, sb.Env)
	if err != nil {
		return err
	}
	res, err := f.Invoke(ctx, ev)
	f.Stop()
	fmt.Fprint(os.Stderr, f.Logs())
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", res.Payload)
	fmt.Fprintf(os.Stderr, "invoke: %s answered in %v%s\n", fn, res.Took.Round(time.Millisecond), map[bool]string{true: " with an error", false: ""}[res.Error])
	if res.Error {
		os.Exit(2)
	}
	return nil
}

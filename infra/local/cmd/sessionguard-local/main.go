// Command sessionguard-local runs the local stack of `make run`.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionguard/sessionguard/infra/local"
)

func main() {
	addr := flag.String("addr", envOr("SG_ADDR", "127.0.0.1:8080"), "loopback address to listen on (env SG_ADDR)")
	dynamo := flag.String("dynamodb", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), "DynamoDB endpoint to keep state in (env AWS_ENDPOINT_URL_DYNAMODB); empty: in memory")
	table := flag.String("table", envOr("TABLE_NAME", "sessionguard-local"), "DynamoDB table, created if missing (env TABLE_NAME)")
	cognito := flag.String("cognito", os.Getenv("SG_COGNITO_ENDPOINT"), "endpoint of a server speaking Amazon Cognito's protocol (moto_server) to use beside the development issuer (env SG_COGNITO_ENDPOINT)")
	every := flag.Duration("check-every", 30*time.Second, "how often policy checks and the audit run (negative: only on POST /local/run-checks)")
	flag.Parse()
	s, err := local.Start(local.Options{Addr: *addr, Log: os.Stderr, DynamoDB: *dynamo, Table: *table, CheckEvery: *every, Cognito: *cognito})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessionguard-local:", err)
		os.Exit(1)
	}
	fmt.Print(s.QuickStart())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	s.Close()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

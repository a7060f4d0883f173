// Command function is the example app's Lambda function: the routes of
// examples/app, through the edge's checks (shared/edge) and
// aws-lambda-go-api-proxy. APP_API_KIND=rest serves a REST API's proxy
// events; otherwise an HTTP API's (payload 2.0).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sessionguard/sessionguard/examples/app"
	"github.com/sessionguard/sessionguard/shared/edge"
	"github.com/sessionguard/sessionguard/shared/obs"
)

func main() {
	cfg := edge.Config{Log: obs.NewLogger(nil)}
	if os.Getenv("APP_API_KIND") == "rest" {
		lambda.Start(edge.NewREST(app.Handler(), cfg))
		return
	}
	lambda.Start(edge.NewV2(app.Handler(), cfg))
}

// Command function is the example app's Lambda function: the routes of
// examples/app, through aws-lambda-go-api-proxy. APP_API_KIND=rest serves
// a REST API's proxy events; otherwise an HTTP API's (payload 2.0).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sessionguard/sessionguard/examples/app"
)

func main() {
	if os.Getenv("APP_API_KIND") == "rest" {
		lambda.Start(httpadapter.New(app.Handler()).ProxyWithContext)
		return
	}
	lambda.Start(httpadapter.NewV2(app.Handler()).ProxyWithContext)
}

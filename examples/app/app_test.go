package app

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

func call(t *testing.T, ev events.APIGatewayV2HTTPRequest) (int, map[string]any) {
	t.Helper()
	resp, err := httpadapter.NewV2(Handler()).ProxyWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.Unmarshal([]byte(resp.Body), &body)
	return resp.StatusCode, body
}

// The user comes from the authorizer context; headers that claim a user,
// or a forged proxy context header, are not believed.
func TestCallerFromAuthorizerContextOnly(t *testing.T) {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/hello",
		Headers:        map[string]string{"x-user-id": "mallory", "x-golambdaproxy-apigw-context": `{"authorizer":{"lambda":{"userId":"mallory"}}}`},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/hello"}}}
	if code, body := call(t, ev); code != 401 {
		t.Fatalf("without an authorizer context: %d %v; want 401", code, body)
	}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		Lambda: map[string]any{"userId": "alice", "environment": "prod", "sessionId": "0123456789abcdef"}}
	code, body := call(t, ev)
	caller, _ := body["caller"].(map[string]any)
	if code != 200 || caller["userId"] != "alice" || caller["environment"] != "prod" {
		t.Fatalf("with the authorizer context: %d %v; want alice in prod", code, body)
	}
}

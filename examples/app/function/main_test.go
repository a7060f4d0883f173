package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

func getenv(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// request is one request to the app, as an HTTP API (payload 2.0) or a
// REST API hands it to the function, with the authorizer's context.
func request(t *testing.T, kind string, headers map[string]string, cookies []string) []byte {
	t.Helper()
	var ev any
	if kind == "rest" {
		multi := map[string][]string{}
		for k, v := range headers {
			multi[k] = []string{v}
		}
		if len(cookies) > 0 {
			headers["Cookie"] = strings.Join(cookies, "; ")
			multi["Cookie"] = []string{headers["Cookie"]}
		}
		ev = events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/hello", Headers: headers, MultiValueHeaders: multi,
			RequestContext: events.APIGatewayProxyRequestContext{Authorizer: map[string]any{"userId": "alice", "environment": "demo"}}}
	} else {
		ev = events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/hello", Headers: headers, Cookies: cookies,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/hello"},
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{"userId": "alice", "environment": "demo"}},
			}}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConfiguredIdentitySources: the example's function holds the
// identity sources sessionguard is configured with to one value, as the
// authorizer does: a session header of another name in two letter cases,
// the configured environment header twice, the configured session cookie
// twice are refused; each once reaches the app. HTTP API and REST.
func TestConfiguredIdentitySources(t *testing.T) {
	vars := map[string]string{"SESSION_HEADER": "X-App-Session", "SESSION_COOKIE": "app_sid",
		"ENVIRONMENT_SOURCE": "header", "ENVIRONMENT_NAME": "X-App-Env"}
	for _, kind := range []string{"http", "rest"} {
		vars["APP_API_KIND"] = kind
		h := handler(getenv(vars), slog.New(slog.DiscardHandler))
		for _, c := range []struct {
			name    string
			headers map[string]string
			cookies []string
			status  int
			reason  string
		}{
			{"each once", map[string]string{"X-App-Session": "A", "X-App-Env": "demo"}, nil, 200, ""},
			{"the session cookie once", map[string]string{"X-App-Env": "demo"}, []string{"theme=dark", "app_sid=A"}, 200, ""},
			{"the session header in two letter cases", map[string]string{"X-App-Session": "A", "x-app-session": "B"}, nil, 401, "session_unknown"},
			{"the environment header in two letter cases", map[string]string{"X-App-Session": "A", "X-App-Env": "demo", "x-app-env": "prod"}, nil, 403, "environment_unknown"},
			{"the session cookie twice", nil, []string{"app_sid=A", "app_sid =B"}, 401, "session_unknown"},
		} {
			if c.headers == nil {
				c.headers = map[string]string{}
			}
			out, err := h.Invoke(context.Background(), request(t, kind, c.headers, c.cookies))
			if err != nil {
				t.Fatalf("%s, %s: %v", kind, c.name, err)
			}
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			var body struct{ Reason string }
			if json.Unmarshal(out, &resp) != nil || json.Unmarshal([]byte(resp.Body), &body) != nil {
				t.Fatalf("%s, %s: answer %s", kind, c.name, out)
			}
			if resp.StatusCode != c.status || body.Reason != c.reason {
				t.Errorf("%s, %s: %d %s; want %d %q", kind, c.name, resp.StatusCode, resp.Body, c.status, c.reason)
			}
		}
	}
}

// TestEdgeConfigAsTheFunctions: the example names the identity sources as
// sessionguard's own functions do from the same variables (config.Load,
// wiring.Edge), defaults included.
func TestEdgeConfigAsTheFunctions(t *testing.T) {
	for _, vars := range []map[string]string{
		{},
		{"SESSION_HEADER": " X-App-Session ", "SESSION_COOKIE": "app_sid"},
		{"ENVIRONMENT_SOURCE": "header"},
		{"ENVIRONMENT_SOURCE": "header", "ENVIRONMENT_NAME": "X-App-Env"},
		{"ENVIRONMENT_SOURCE": "stage", "ENVIRONMENT_NAME": "env"},
	} {
		all := map[string]string{"TRUSTED_ISSUERS": `[{"issuer":"https://login.example.com/","audiences":["api://app"]}]`,
			"ENVIRONMENTS": "demo", "TABLE_NAME": "sessionguard"}
		for k, v := range vars {
			all[k] = v
		}
		cfg, err := config.Load(getenv(all))
		if err != nil {
			t.Fatalf("%v: %v", vars, err)
		}
		if got, want := edgeConfig(getenv(vars), nil), wiring.Edge(wiring.Deps{Config: cfg}); got != want {
			t.Errorf("%v: edgeConfig = %+v; want %+v", vars, got, want)
		}
	}
}

// TestStandardLogIsJSON: what the adapter prints through package log is
// one JSON line with the text escaped, as in sessionguard's functions.
func TestStandardLogIsJSON(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	flags, out := log.Flags(), log.Writer()
	defer func() { log.SetFlags(flags); log.SetOutput(out) }()
	var buf bytes.Buffer
	newLogger(&buf)
	log.Println(`parse "https://x/hello` + "\n" + `{"level":"INFO","msg":"edge","forged":true}"`)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var m map[string]any
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &m) != nil {
		t.Fatalf("log printed %q; want one JSON line", buf.String())
	}
	if _, forged := m["forged"]; forged || !strings.Contains(m["msg"].(string), "\n{") {
		t.Fatalf("line %s: want the text, newline included, in msg", lines[0])
	}
}

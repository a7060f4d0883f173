package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/sessionapi"
)

// The example app stacks (examples/*/template.yaml): each passes cfn-lint
// and SAM's translation; its routes are behind sessionguard's authorizer;
// the authorizer's invoke permission names the app's API.
func TestExamples(t *testing.T) {
	needs.Parts(t, needs.CfnLint, needs.SAMTranslator)
	for _, ex := range []struct{ dir, authorizerType string }{{"nested", "http"}, {"imported", "http"}, {"rest", "rest"}} {
		t.Run(ex.dir, func(t *testing.T) {
			path := filepath.Join("..", "..", "examples", ex.dir, "template.yaml")
			if out, err := exec.Command("cfn-lint", path).CombinedOutput(); err != nil {
				t.Fatalf("cfn-lint %s: %v\n%s", path, err, out)
			}
			r := translatedFile(t, path)
			perm, ok := r["AuthorizerPermission"]
			if !ok || perm.Type != "AWS::Lambda::Permission" || perm.Properties["Principal"] != "apigateway.amazonaws.com" {
				t.Fatalf("no invoke permission for the authorizer: %+v", perm)
			}
			src, _ := json.Marshal(perm.Properties["SourceArn"])
			if !strings.Contains(string(src), "${AppApi}/authorizers/*") {
				t.Errorf("the permission's source = %s; want the app's API (AppApi) only", src)
			}
			fn, _ := json.Marshal(perm.Properties["FunctionName"])
			if !strings.Contains(string(fn), "AuthorizerFunctionArn") {
				t.Errorf("the permission is for %s; want sessionguard's authorizer", fn)
			}
			if ex.authorizerType == "http" {
				a := get(r["AppApi"].Properties, "Body", "components", "securitySchemes", "SessionGuard", "x-amazon-apigateway-authorizer")
				// The session's identity source follows the example's
				// transport: the cookie (nested) or the header (imported).
				sessionSource := map[string]string{"nested": "$request.header.Cookie", "imported": "$request.header.X-Session-Id"}[ex.dir]
				if get(a, "authorizerPayloadFormatVersion") != "2.0" || get(a, "enableSimpleResponses") != true ||
					!reflect.DeepEqual(strs(get(a, "identitySource")), []string{"$request.header.Authorization", sessionSource}) ||
					get(a, "authorizerResultTtlInSeconds", "Ref") != "ReauthorizeEvery" {
					t.Errorf("authorizer = %v; want payload 2.0, simple responses, the session header, the shared cache TTL", a)
				}
				paths, _ := get(r["AppApi"].Properties, "Body", "paths").(map[string]any)
				if len(paths) != 2 {
					t.Errorf("routes = %v; want /hello and /items", paths)
				}
				for path, ops := range paths {
					for method, op := range ops.(map[string]any) {
						sec, _ := json.Marshal(get(op, "security"))
						if !strings.Contains(string(sec), `"SessionGuard"`) {
							t.Errorf("%s %s is not behind the authorizer: %s", method, path, sec)
						}
					}
				}
			} else {
				a := get(r["AppApi"].Properties, "Body", "securityDefinitions", "SessionGuard", "x-amazon-apigateway-authorizer")
				if get(a, "type") != "request" || !strings.Contains(get(a, "identitySource").(string), "method.request.header.X-Session-Id") {
					t.Errorf("REST authorizer = %v; want REQUEST on the token and the session header", a)
				}
				body, _ := json.Marshal(r["AppApi"].Properties["Body"])
				if n := strings.Count(string(body), `"SessionGuard":[]`); n != 2 {
					t.Errorf("REST API: %d routes behind the authorizer; want 2", n)
				}
			}
			if ex.authorizerType == "http" {
				sameOriginSessions(t, r)
			}
			if ex.dir == "nested" {
				app := r["SessionGuard"]
				if app.Type != "AWS::CloudFormation::Stack" || get(app.Properties, "Parameters", "ReauthorizeEvery", "Ref") != "ReauthorizeEvery" {
					t.Errorf("nested application = %+v; want a stack given the same ReauthorizeEvery", app)
				}
			}
		})
	}
}

// The Serverless Application Repository metadata: what `sam publish` needs.
func TestServerlessRepoMetadata(t *testing.T) {
	needs.Parts(t, needs.SAMTranslator)
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metadata struct {
			App map[string]any `yaml:"AWS::ServerlessRepo::Application"`
		} `yaml:"Metadata"`
		Outputs map[string]struct {
			Export map[string]any `yaml:"Export"`
		} `yaml:"Outputs"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "SemanticVersion", "SourceCodeUrl"} {
		if v, _ := doc.Metadata.App[k].(string); strings.TrimSpace(v) == "" {
			t.Errorf("AWS::ServerlessRepo::Application has no %s", k)
		}
	}
	if doc.Metadata.App["SpdxLicenseId"] != "Apache-2.0" {
		t.Errorf("licence = %v; want Apache-2.0", doc.Metadata.App["SpdxLicenseId"])
	}
	for _, f := range []string{"LicenseUrl", "ReadmeUrl"} {
		if _, err := os.Stat(filepath.Join("..", "..", doc.Metadata.App[f].(string))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, o := range []string{"AuthorizerFunctionArn", "SessionsApiUrl", "TableName", "SignalsUrl"} {
		if doc.Outputs[o].Export == nil {
			t.Errorf("output %s is not exported", o)
		}
	}
	// Other APIs get invoke permissions from AuthorizerInvokerArns only.
	r := translated(t)
	n := 0
	for id, res := range r {
		if res.Type == "AWS::Lambda::Permission" && strings.HasPrefix(id, "AuthorizerInvoker") {
			n++
			if !strings.HasPrefix(res.Condition, "HasInvoker") {
				t.Errorf("%s exists without its AuthorizerInvokerArns entry", id)
			}
		}
	}
	if n != 5 {
		t.Errorf("%d invoker permissions; want 5 (one per AuthorizerInvokerArns entry)", n)
	}
}

// sameOriginSessions: the app's API serves the sessions routes of the
// route table (but the CORS preflights, which a same-origin app does not
// send), without the authorizer, through one integration with
// sessionguard's sessions function, which API Gateway may invoke for this
// API's sessions paths only.
func sameOriginSessions(t *testing.T, r map[string]resource) {
	t.Helper()
	var want, got []string
	for _, rt := range sessionapi.Routes() {
		if rt.Method != "OPTIONS" {
			want = append(want, rt.Method+" "+rt.Path)
		}
	}
	integration := r["SessionsIntegration"]
	target, _ := json.Marshal(integration.Properties["IntegrationUri"])
	if integration.Type != "AWS::ApiGatewayV2::Integration" || !strings.Contains(string(target), "SessionsFunctionArn") || integration.Properties["IntegrationType"] != "AWS_PROXY" {
		t.Fatalf("sessions integration = %+v; want a proxy integration with sessionguard's sessions function", integration)
	}
	for _, res := range r {
		if res.Type != "AWS::ApiGatewayV2::Route" {
			continue
		}
		got = append(got, res.Properties["RouteKey"].(string))
		tgt, _ := json.Marshal(res.Properties["Target"])
		if res.Properties["AuthorizationType"] != "NONE" || !strings.Contains(string(tgt), "SessionsIntegration") {
			t.Errorf("route %v: authorization %v, target %s; want the sessions integration, no authorizer (the function judges)", res.Properties["RouteKey"], res.Properties["AuthorizationType"], tgt)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the app's API serves the sessions routes %v; want the route table's %v", got, want)
	}
	perm := r["SessionsPermission"]
	fn, _ := json.Marshal(perm.Properties["FunctionName"])
	src, _ := json.Marshal(perm.Properties["SourceArn"])
	if perm.Type != "AWS::Lambda::Permission" || !strings.Contains(string(fn), "SessionsFunctionArn") || !strings.Contains(string(src), "${AppApi}/*/*/sessions*") {
		t.Errorf("sessions permission = %s on %s; want sessionguard's sessions function, for this API's sessions paths", fn, src)
	}
}

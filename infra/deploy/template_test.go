package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/cognitoevents"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

const templatePath = "../../template.yaml"

func TestCfnLint(t *testing.T) {
	needs.Parts(t, needs.CfnLint)
	out, err := exec.Command("cfn-lint", templatePath).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

type resource struct {
	Type       string
	Condition  string
	Properties map[string]any
}

// translated is the CloudFormation SAM makes of the template.
func translated(t *testing.T) map[string]resource { t.Helper(); return translatedFile(t, templatePath) }

// translatedFile is the CloudFormation SAM makes of a template file.
func translatedFile(t *testing.T, path string) map[string]resource {
	t.Helper()
	needs.Parts(t, needs.SAMTranslator)
	out, err := exec.Command("python3", "translate.py", path).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("translate: %v\n%s", err, stderr)
	}
	var doc struct{ Resources map[string]resource }
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Resources
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func TestTranslatedTemplate(t *testing.T) {
	needs.Parts(t, needs.SAMTranslator)
	r := translated(t)

	t.Run("functions", func(t *testing.T) {
		for fn, id := range lambdarun.Functions {
			f, ok := r[id]
			if !ok || f.Type != "AWS::Lambda::Function" {
				t.Errorf("%s (%s) is not in the template", id, fn)
				continue
			}
			p := f.Properties
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || !reflect.DeepEqual(strs(p["Architectures"]), []string{"arm64"}) {
				t.Errorf("%s: runtime %v, handler %v, architectures %v; want provided.al2023, bootstrap, arm64", id, p["Runtime"], p["Handler"], p["Architectures"])
			}
			if lg, ok := r[strings.TrimSuffix(id, "Function")+"LogGroup"]; !ok || lg.Properties["RetentionInDays"] == nil {
				t.Errorf("%s has no log group with a retention", id)
			}
		}
	})

	t.Run("authorizer", func(t *testing.T) {
		a := get(r["Api"].Properties, "Body", "components", "securitySchemes", "SessionAuthorizer", "x-amazon-apigateway-authorizer")
		if a == nil {
			t.Fatal("the HTTP API has no SessionAuthorizer")
		}
		if get(a, "authorizerPayloadFormatVersion") != "2.0" || get(a, "enableSimpleResponses") != true || get(a, "type") != "request" {
			t.Errorf("authorizer = %v; want a REQUEST authorizer, payload 2.0, simple responses", a)
		}
		if got := strs(get(a, "identitySource")); !reflect.DeepEqual(got, []string{"$request.header.Authorization", "$request.header.X-Session-Id"}) {
			t.Errorf("identity sources = %v; want the token and the session", got)
		}
		if get(a, "authorizerResultTtlInSeconds", "Ref") != "ReauthorizeEvery" {
			t.Errorf("cache TTL = %v; want the ReauthorizeEvery parameter", get(a, "authorizerResultTtlInSeconds"))
		}
		if _, ok := r["ApiSessionAuthorizerAuthorizerPermission"]; !ok {
			t.Error("API Gateway may not invoke the authorizer (no Lambda permission)")
		}
		// Which routes run it: TestTemplateRoutesAreTheRouteTable.
	})

	t.Run("least privilege", func(t *testing.T) {
		want := documentedActions(t) // docs/deploying.md's table
		for fn, id := range lambdarun.Functions {
			role := r[id+"Role"]
			for _, m := range strs(role.Properties["ManagedPolicyArns"]) {
				if !strings.HasSuffix(m, "/AWSLambdaBasicExecutionRole") {
					t.Errorf("%s has the managed policy %s (grants on every resource)", id, m)
				}
			}
			var actions []string
			snapshotsDenied := false
			for _, pol := range role.Properties["Policies"].([]any) {
				for _, st := range get(pol, "PolicyDocument", "Statement").([]any) {
					if cond, ok := get(st, "Fn::If").([]any); ok { // a statement for a condition
						st = cond[1]
					}
					if get(st, "Effect") == "Deny" {
						snapshotsDenied = snapshotsDenied || deniesSnapshotWrites(st)
						continue
					}
					acts := strs(get(st, "Action"))
					// The authorizer puts DPoP proofs' records (P# items)
					// and nothing else, and updates sessions (S#: activity)
					// and key-set snapshots (K#) and nothing else.
					if fn == "authorizer" && slices.Contains(acts, "dynamodb:PutItem") &&
						(!reflect.DeepEqual(acts, []string{"dynamodb:PutItem"}) || !reflect.DeepEqual(strs(get(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys")), []string{"P#*"})) {
						t.Errorf("%s may put items other than DPoP proof records (P#*): %v", id, st)
					}
					if fn == "authorizer" && slices.Contains(acts, "dynamodb:UpdateItem") &&
						(!reflect.DeepEqual(acts, []string{"dynamodb:UpdateItem"}) || !reflect.DeepEqual(strs(get(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys")), []string{"S#*", "K#*"})) {
						t.Errorf("%s may update items other than sessions (S#*) and key-set snapshots (K#*): %v", id, st)
					}
					res, _ := json.Marshal(get(st, "Resource"))
					for _, a := range acts {
						if strings.HasSuffix(a, ":*") || a == "*" {
							t.Errorf("%s may %s", id, a)
						}
						if string(res) == `"*"` || strings.Contains(string(res), `"*"`) {
							t.Errorf("%s may %s on every resource", id, a)
						}
						if !slices.Contains(actions, a) {
							actions = append(actions, a)
						}
					}
				}
			}
			slices.Sort(actions)
			// Key-set snapshots are trusted as an issuer's keys: a function
			// that keeps them (reads JWKS_SNAPSHOT: it verifies tokens) may
			// write them; every other function that may write the table is
			// denied its K# items.
			i := slices.IndexFunc(wiring.Functions(), func(f wiring.Function) bool { return f.Name == fn })
			keeps := i >= 0 && slices.Contains(wiring.Functions()[i].Variables, "JWKS_SNAPSHOT")
			writes := slices.Contains(actions, "dynamodb:PutItem") || slices.Contains(actions, "dynamodb:UpdateItem")
			switch {
			case keeps && snapshotsDenied:
				t.Errorf("%s keeps key-set snapshots but is denied writing them", id)
			case !keeps && writes && !snapshotsDenied:
				t.Errorf("%s may write the table and does not verify tokens, but is not denied writing key-set snapshots (K# items)", id)
			}
			if !reflect.DeepEqual(actions, want[fn]) {
				t.Errorf("%s's actions = %v; want %v", id, actions, want[fn])
			}
			t.Logf("%s: %s", id, strings.Join(actions, ", "))
		}
	})

	t.Run("schedules", func(t *testing.T) {
		for id, expr := range map[string]string{"RefresherFunctionSchedule": "rate(15 minutes)", "AuditorFunctionDaily": "cron(0 3 * * ? *)", "SignalsPollFunctionSchedule": "rate(1 minute)"} {
			s, ok := r[id]
			if !ok || s.Type != "AWS::Scheduler::Schedule" || s.Properties["ScheduleExpression"] != expr {
				t.Errorf("%s = %+v; want a schedule %s", id, s, expr)
			}
		}
	})

	// The user pool's CloudTrail events reach the cognitoevents function,
	// and the refresher may read users of that one pool only.
	t.Run("cognito", func(t *testing.T) {
		rule, ok := r["CognitoEventsFunctionUserPoolEvents"]
		if !ok || rule.Type != "AWS::Events::Rule" {
			t.Fatalf("no EventBridge rule for the user pool's events: %+v", rule)
		}
		pat, _ := json.Marshal(rule.Properties["EventPattern"])
		var p struct {
			Source     []string `json:"source"`
			DetailType []string `json:"detail-type"`
			Detail     struct {
				EventSource []string `json:"eventSource"`
				EventName   []string `json:"eventName"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(pat, &p); err != nil {
			t.Fatal(err)
		}
		names := slices.Clone(p.Detail.EventName)
		slices.Sort(names)
		want := cognitoevents.EventNames()
		slices.Sort(want)
		if !reflect.DeepEqual(p.Source, []string{"aws.cognito-idp"}) || !reflect.DeepEqual(p.DetailType, []string{"AWS API Call via CloudTrail"}) ||
			!reflect.DeepEqual(p.Detail.EventSource, []string{"cognito-idp.amazonaws.com"}) || !reflect.DeepEqual(names, want) {
			t.Errorf("event pattern = %s; want the pool's CloudTrail events %v", pat, want)
		}
		if r["CognitoEventsFunction"].Condition != "HasUserPool" || rule.Condition != "HasUserPool" {
			t.Errorf("the function and its rule exist only with a user pool id")
		}
		found := false
		for _, pol := range r["RefresherFunctionRole"].Properties["Policies"].([]any) {
			for _, st := range get(pol, "PolicyDocument", "Statement").([]any) {
				cond, ok := get(st, "Fn::If").([]any)
				if !ok || cond[0] != "HasUserPool" {
					continue
				}
				res, _ := json.Marshal(get(cond[1], "Resource"))
				if !strings.Contains(string(res), `:userpool/${CognitoUserPoolId}`) || strings.Contains(string(res), "*") {
					t.Errorf("the refresher's Cognito statement is on %s; want the one pool's ARN", res)
				}
				found = true
			}
		}
		if !found {
			t.Error("the refresher has no statement for the user pool")
		}
	})

	t.Run("table", func(t *testing.T) {
		p := r["Table"].Properties
		if get(p, "TimeToLiveSpecification", "AttributeName") != "ttl" || get(p, "TimeToLiveSpecification", "Enabled") != true ||
			get(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true || get(p, "SSESpecification", "SSEEnabled") != true ||
			p["BillingMode"] != "PAY_PER_REQUEST" {
			t.Errorf("table = %v; want on-demand, TTL on ttl, PITR and encryption", p)
		}
	})

	t.Run("alarms", func(t *testing.T) {
		for _, id := range []string{"AuthorizerErrorsAlarm", "DependencyUnavailableAlarm", "MassRevocationGuardAlarm", "DirectoryErrorsAlarm"} {
			if r[id].Type != "AWS::CloudWatch::Alarm" {
				t.Errorf("no %s", id)
			}
		}
	})

	// Every variable the code reads that the template must set is set for
	// each function that reads it.
	t.Run("environment variables", func(t *testing.T) {
		for _, f := range wiring.Functions() {
			vars, _ := get(r[f.LogicalID].Properties, "Environment", "Variables").(map[string]any)
			for _, v := range config.Variables {
				if v.Template && f.Reads(v) {
					if _, ok := vars[v.Name]; !ok {
						t.Errorf("%s reads %s but the template does not set it", f.LogicalID, v.Name)
					}
				}
			}
		}
	})
}

// sam build runs the Makefile's build-<LogicalId> for each function of
// the template (BuildMethod: makefile): for each row of the function
// table it builds that function's folder into ARTIFACTS_DIR, and for the
// examples' app function, its folder. (The template's functions are the
// table's: shared/wiring TestTableIsTheTemplate.)
func TestBuildTargets(t *testing.T) {
	targets := map[string]string{"AppFunction": "./examples/app/function"}
	for _, f := range wiring.Functions() {
		targets[f.LogicalID] = "./functions/" + f.Name
	}
	for id, pkg := range targets {
		out, err := exec.Command("make", "-s", "-n", "-C", "../..", "build-"+id, "ARTIFACTS_DIR=/artifacts/"+id).CombinedOutput()
		if err != nil {
			t.Errorf("make build-%s: %v\n%s", id, err, out)
			continue
		}
		if want := "-o /artifacts/" + id + "/bootstrap " + pkg + "\n"; !strings.Contains(string(out), want) || !strings.Contains(string(out), "GOOS=linux GOARCH=arm64") {
			t.Errorf("make build-%s runs %q; want a linux/arm64 build ending %q", id, out, want)
		}
	}
}

// The configuration reference (docs/configuration.md) names every
// variable, and its "read by" column says which functions read it, as
// the function table does: "all" for the required ones.
func TestReadmeConfigurationTable(t *testing.T) {
	readme, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	readBy := map[string]string{} // variable -> the column, as written
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.Contains(cells[1], "`") {
			continue
		}
		for _, name := range strings.Split(cells[1], ",") {
			readBy[strings.Trim(strings.TrimSpace(name), "`")] = strings.TrimSpace(cells[3])
		}
	}
	for _, v := range config.Variables {
		got, ok := readBy[v.Name]
		if !ok {
			t.Errorf("docs/configuration.md does not document %s", v.Name)
			continue
		}
		want := "all"
		if !v.Required {
			var fns []string
			for _, f := range wiring.Functions() {
				if f.Reads(v) {
					fns = append(fns, f.Name)
				}
			}
			slices.Sort(fns)
			want = strings.Join(fns, ", ")
		}
		if got != want {
			t.Errorf("docs/configuration.md: %s is read by %q; the function table says %q", v.Name, got, want)
		}
	}
}

// deniesSnapshotWrites reports whether a Deny statement covers PutItem and
// UpdateItem on the table's items whose partition key starts with K#.
func deniesSnapshotWrites(st any) bool {
	acts := strs(get(st, "Action"))
	keys := strs(get(st, "Condition", "ForAnyValue:StringLike", "dynamodb:LeadingKeys"))
	res, _ := json.Marshal(get(st, "Resource"))
	return slices.Contains(acts, "dynamodb:PutItem") && slices.Contains(acts, "dynamodb:UpdateItem") &&
		reflect.DeepEqual(keys, []string{"K#*"}) && strings.Contains(string(res), "Table")
}

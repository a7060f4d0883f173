package samlocal_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/shared/config"
	"github.com/sessionguard/sessionguard/shared/wiring"
)

// What these tests check needs no container: the template as the SAM
// CLI's local commands resolve it (samview.py, run by the project's
// Python), against env.json, samconfig.toml.example and the functions'
// configuration.

// root is the repository.
var root = func() string {
	r, err := filepath.Abs("../..")
	if err != nil {
		panic(err)
	}
	return r
}()

type function struct {
	Layers      []string       `json:"layers"`
	Environment map[string]any `json:"environment"`
}

// samView is every function of template.yaml as the SAM CLI sees it, with
// the given parameter overrides (once per overrides in a run).
func samView(t *testing.T, overrides ...string) map[string]function {
	t.Helper()
	needs.Parts(t, needs.SAMCLI)
	key := strings.Join(overrides, "\x00")
	views.Lock()
	defer views.Unlock()
	if v, ok := views.m[key]; ok {
		return v
	}
	python, err := exec.LookPath("sam")
	if err == nil {
		python = filepath.Join(filepath.Dir(python), "python3")
	} else {
		python = filepath.Join(root, ".venv", "bin", "python3")
	}
	cmd := exec.Command(python, append([]string{"samview.py", filepath.Join(root, "template.yaml")}, overrides...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("samview.py (the project's virtual environment: make venv): %v\n%s", err, stderr.Bytes())
	}
	var view map[string]function
	if err := json.Unmarshal(out, &view); err != nil {
		t.Fatalf("samview.py: %v\n%s", err, out)
	}
	views.m[key] = view
	return view
}

var views = struct {
	sync.Mutex
	m map[string]map[string]function
}{m: map[string]map[string]function{}}

// templateNames are the names the SAM CLI passes for values it cannot
// resolve: the template's resources, and its parameters without a
// default.
var templateNames = sync.OnceValues(func() (map[string]bool, error) {
	top, err := templateRoot()
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		section := top.Content[i+1]
		switch top.Content[i].Value {
		case "Resources":
			for j := 0; j+1 < len(section.Content); j += 2 {
				names[section.Content[j].Value] = true
			}
		case "Parameters":
			for j := 0; j+1 < len(section.Content); j += 2 {
				if !hasKey(section.Content[j+1], "Default") {
					names[section.Content[j].Value] = true
				}
			}
		}
	}
	return names, nil
})

// templateLayered are the functions of the template with a Layers
// property.
func templateLayered() (map[string]bool, error) {
	top, err := templateRoot()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	resources := value(top, "Resources")
	for i := 0; resources != nil && i+1 < len(resources.Content); i += 2 {
		if value(value(resources.Content[i+1], "Properties"), "Layers") != nil {
			out[resources.Content[i].Value] = true
		}
	}
	return out, nil
}

func templateRoot() (*yaml.Node, error) {
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}

// value is the value of key in mapping node m, or nil.
func value(m *yaml.Node, key string) *yaml.Node {
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func hasKey(m *yaml.Node, key string) bool { return value(m, key) != nil }

func mustNames(t *testing.T) map[string]bool {
	t.Helper()
	names, err := templateNames()
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return names
}

// holdsName reports the template name a value holds, as the SAM CLI
// passes it: the whole value ("TrustedIssuers", "Table") or a word of it
// ("https://Api.execute-api...").
func holdsName(v string, names map[string]bool) string {
	for _, w := range regexp.MustCompile(`[A-Za-z0-9]+`).FindAllString(v, -1) {
		if names[w] {
			return w
		}
	}
	return ""
}

// The layers are something the SAM CLI's local commands evaluate: none
// without SecretsExtensionLayerArn, exactly that layer with it, on the
// functions whose template has Layers (no unresolved Fn::If taken for a
// layer ARN, as with AWS::NoValue).
func TestLayersEvaluate(t *testing.T) {
	needs.Parts(t, needs.SAMCLI)
	const arn = "arn:aws:lambda:eu-west-1:123456789012:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:12"
	without, with := samView(t), samView(t, "SecretsExtensionLayerArn="+arn)
	layered, err := templateLayered()
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	if len(layered) == 0 {
		t.Error("no function of the template has Layers; this test looks for them")
	}
	for name, fn := range with {
		declares := layered[name]
		if len(without[name].Layers) != 0 {
			t.Errorf("%s: layers without SecretsExtensionLayerArn = %q; want none", name, without[name].Layers)
		}
		switch {
		case declares && !slices.Equal(fn.Layers, []string{arn}):
			t.Errorf("%s: layers with SecretsExtensionLayerArn = %q; want [%s]", name, fn.Layers, arn)
		case !declares && len(fn.Layers) != 0:
			t.Errorf("%s: layers = %q; want none", name, fn.Layers)
		}
	}
}

// env.json starts every function: with the variables the template gives
// each function (as the SAM CLI resolves them) and env.json's on top, the
// configuration loads, no value is a name from the template, and every
// entry of env.json reaches a function (the SAM CLI ignores variables the
// template does not declare).
func TestEnvFileStartsEveryFunction(t *testing.T) {
	needs.Parts(t, needs.SAMCLI)
	names := mustNames(t)
	file := readEnvJSON(t)
	if len(file) != 1 {
		t.Errorf("env.json has sections %v; want Parameters only (it applies to every function)", keys(file))
	}
	used := map[string]bool{}
	for name, fn := range samView(t) {
		env := map[string]string{}
		for k, v := range fn.Environment {
			s, ok := v.(string)
			if !ok {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			if o, ok := file["Parameters"][k]; ok {
				s, used[k] = o, true
			}
			env[k] = s
			if n := holdsName(s, names); n != "" {
				t.Errorf("%s: %s=%q holds the template's name %s, not a value; set it in env.json", name, k, s, n)
			}
		}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Errorf("%s with env.json: %v", name, err)
			continue
		}
		if name == "CognitoEventsFunction" { // it also needs its user pool's issuer
			if _, err := wiring.CognitoEvents(wiring.Deps{Config: cfg}, nil); err != nil {
				t.Errorf("%s with env.json: %v", name, err)
			}
		}
	}
	for k := range file["Parameters"] {
		if !used[k] {
			t.Errorf("env.json sets %s, which no function of the template declares: the SAM CLI would not pass it", k)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// config.Placeholders are exactly what the SAM CLI passes for the required
// variables it cannot resolve, in every function.
func TestPlaceholdersMatchTemplate(t *testing.T) {
	needs.Parts(t, needs.SAMCLI)
	names := mustNames(t)
	required := map[string]bool{}
	for _, v := range config.Variables {
		required[v.Name] = v.Required
	}
	found := map[config.Placeholder]bool{}
	for name, fn := range samView(t) {
		for k, v := range fn.Environment {
			if s, ok := v.(string); ok && required[k] && names[s] {
				found[config.Placeholder{Variable: k, Name: s}] = true
				if !slices.Contains(config.Placeholders, config.Placeholder{Variable: k, Name: s}) {
					t.Errorf("%s: the SAM CLI passes %s=%q, which config.Placeholders does not list", name, k, s)
				}
			}
		}
	}
	for _, p := range config.Placeholders {
		if !found[p] {
			t.Errorf("config.Placeholders lists %+v, which the SAM CLI does not pass for the template", p)
		}
	}
}

// samconfig.toml.example's sam local sections use env.json and the
// environment of the sample events.
func TestSamconfigLocalSections(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"default.local_invoke.parameters", "default.local_start_api.parameters"} {
		i := strings.Index(string(b), "["+section+"]")
		if i < 0 {
			t.Errorf("samconfig.toml.example has no [%s]", section)
			continue
		}
		body := string(b[i:])
		if j := strings.Index(body[1:], "\n["); j >= 0 {
			body = body[:j+1]
		}
		for _, want := range []string{`env_vars = "env.json"`, `"Environments=demo"`} {
			if !strings.Contains(body, want) {
				t.Errorf("[%s] has no %s", section, want)
			}
		}
	}
}

func readEnvJSON(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	if file["Parameters"] == nil {
		t.Fatal("env.json has no Parameters")
	}
	return file
}

package deploy

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/needs"
)

// samconfig.toml.example's parameters reach the template whole, as the
// SAM CLI reads them: a JSON value (TrustedIssuers) is not cut at its first
// quote, and every name is a parameter of the template.
func TestSamconfigExampleParameters(t *testing.T) {
	needs.Parts(t, needs.SAMCLI, needs.SAMTranslator)
	out, err := exec.Command("python3", "samconfig.py", "../../samconfig.toml.example").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("samconfig.py: %v\n%s", err, stderr)
	}
	var sections map[string]map[string]string
	if err := json.Unmarshal(out, &sections); err != nil {
		t.Fatal(err)
	}
	params, _ := translatedDoc(t)
	if len(sections) == 0 {
		t.Fatal("no parameter_overrides read from samconfig.toml.example")
	}
	for section, values := range sections {
		for name, v := range values {
			if _, ok := params[name]; !ok {
				t.Errorf("%s: %s is not a parameter of the template", section, name)
			}
			if strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{") {
				if !json.Valid([]byte(v)) {
					t.Errorf("%s: %s reaches the template as %q, not the JSON written", section, name, v)
				}
			}
		}
	}
	if ti := sections["default.deploy"]["TrustedIssuers"]; !strings.Contains(ti, `"profile":"entra"`) {
		t.Errorf("default.deploy TrustedIssuers = %q; want the whole Entra entry", ti)
	}
}

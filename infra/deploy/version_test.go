package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sessionguard/sessionguard/shared/version"
)

// One version number for the release: every place that names it says
// shared/version's (the functions log it themselves: infra/lambdarun
// TestBinariesOnTheirEvents).
func TestOneVersion(t *testing.T) {
	read := func(path string) []byte {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var tpl struct {
		Metadata struct {
			App struct {
				SemanticVersion string `yaml:"SemanticVersion"`
			} `yaml:"AWS::ServerlessRepo::Application"`
		} `yaml:"Metadata"`
	}
	if err := yaml.Unmarshal(read("../../template.yaml"), &tpl); err != nil {
		t.Fatal(err)
	}
	var openapi struct{ Info struct{ Version string } }
	if err := json.Unmarshal(read("../../shared/adminapi/openapi.json"), &openapi); err != nil {
		t.Fatal(err)
	}
	var client struct{ Version string }
	if err := json.Unmarshal(read("../../clients/browser/package.json"), &client); err != nil {
		t.Fatal(err)
	}
	newest := regexp.MustCompile(`(?m)^## (\S+)`).FindSubmatch(read("../../CHANGELOG.md"))
	if newest == nil {
		t.Fatal("CHANGELOG.md has no release entry (## <version>)")
	}
	for place, v := range map[string]string{
		"template.yaml's SemanticVersion":             tpl.Metadata.App.SemanticVersion,
		"the OpenAPI document's info.version":         openapi.Info.Version,
		"CHANGELOG.md's newest entry":                 string(newest[1]),
		"the browser client's package.json's version": client.Version,
	} {
		if v != version.Version {
			t.Errorf("%s = %q; want %q (shared/version)", place, v, version.Version)
		}
	}
}

package adminapi

import (
	"encoding/json"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/sessionguard/sessionguard/shared/policy"
)

// TestConsoleShowsEverySetting: the console's settings form (FIELDS in
// console/app.js) has a field for every setting of the document the API
// serves, and none for a setting that does not exist; the dpop select
// offers exactly the setting's values.
func TestConsoleShowsEverySetting(t *testing.T) {
	src, err := consoleFiles.ReadFile("console/app.js")
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, m := range regexp.MustCompile(`path: "([^"]+)"`).FindAllSubmatch(src, -1) {
		shown = append(shown, string(m[1]))
	}
	raw, _ := json.Marshal(policy.Defaults())
	var doc map[string]any
	json.Unmarshal(raw, &doc)
	var settings []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
			} else {
				settings = append(settings, prefix+k)
			}
		}
	}
	walk("", doc)
	sort.Strings(shown)
	sort.Strings(settings)
	if !slices.Equal(shown, settings) {
		t.Errorf("the console shows %v;\nthe settings are %v", shown, settings)
	}
	m := regexp.MustCompile(`path: "dpop", kind: "select", label: "[^"]*",\s*options: \[\["(\w+)", "[^"]*"\], \["(\w+)", "[^"]*"\], \["(\w+)", "[^"]*"\]\]`).FindSubmatch(src)
	if m == nil || string(m[1]) != string(policy.DPoPOff) || string(m[2]) != string(policy.DPoPAllowed) || string(m[3]) != string(policy.DPoPRequired) {
		t.Errorf("the console's dpop field does not offer off, allowed and required (in that order)")
	}
}

package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/needs"
)

// docTable reads the Markdown table under a heading of docs/deploying.md:
// its rows by their first cell, code spans unwrapped.
func docTable(t *testing.T, heading string) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/deploying.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(raw), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/deploying.md has no %q", heading)
	}
	rows := map[string][]string{}
	started := false
	for _, line := range strings.Split(after, "\n") {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		if !started { // the header row
			started = true
			continue
		}
		if strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		rows[strings.Trim(cells[0], "`")] = cells[1:]
	}
	return rows
}

// translatedDoc is the whole CloudFormation SAM makes of the template.
func translatedDoc(t *testing.T) (params map[string]map[string]any, outputs map[string]any) {
	t.Helper()
	needs.Parts(t, needs.SAMTranslator)
	out, err := exec.Command("python3", "translate.py", templatePath).Output()
	if err != nil {
		t.Fatalf("translate: %v", err)
	}
	var doc struct {
		Parameters map[string]map[string]any
		Outputs    map[string]any
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Parameters, doc.Outputs
}

// docs/deploying.md lists every parameter of the template with its
// default, and every output, and nothing the template lacks.
func TestDeployingDocsAreTheTemplate(t *testing.T) {
	needs.Parts(t, needs.SAMTranslator)
	params, outputs := translatedDoc(t)
	doc := docTable(t, "### Parameters")
	for name, p := range params {
		row, ok := doc[name]
		if !ok {
			t.Errorf("parameter %s is not in docs/deploying.md", name)
			continue
		}
		want := "(required)"
		switch d := p["Default"].(type) {
		case nil:
		case string:
			want = "(empty)"
			if d != "" {
				want = "`" + d + "`"
			}
		default:
			b, _ := json.Marshal(d)
			want = "`" + string(b) + "`"
		}
		if row[0] != want {
			t.Errorf("parameter %s: docs/deploying.md says the default is %s; the template's is %s", name, row[0], want)
		}
	}
	for name := range doc {
		if _, ok := params[name]; !ok {
			t.Errorf("docs/deploying.md lists the parameter %s, which the template lacks", name)
		}
	}
	docOut := docTable(t, "### Outputs")
	for name := range outputs {
		if _, ok := docOut[name]; !ok {
			t.Errorf("output %s is not in docs/deploying.md", name)
		}
	}
	for name := range docOut {
		if _, ok := outputs[name]; !ok {
			t.Errorf("docs/deploying.md lists the output %s, which the template lacks", name)
		}
	}
}

// documentedActions is docs/deploying.md's table of each function's IAM
// actions: what TestTranslatedTemplate's least-privilege check holds the
// template to.
func documentedActions(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for fn, row := range docTable(t, "### What each function may do") {
		var acts []string
		for _, a := range strings.Split(row[0], ", ") {
			acts = append(acts, strings.Trim(a, "`"))
		}
		slices.Sort(acts)
		out[fn] = acts
	}
	return out
}

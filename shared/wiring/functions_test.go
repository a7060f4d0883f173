package wiring

import (
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sessionguard/sessionguard/shared/config"
)

// mapValue is the value of key in the mapping node m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mapKeys are the keys of the mapping node m.
func mapKeys(m *yaml.Node) []string {
	var out []string
	for i := 0; m != nil && i+1 < len(m.Content); i += 2 {
		out = append(out, m.Content[i].Value)
	}
	return out
}

// TestTableIsTheTemplate holds template.yaml and the functions' folders
// to the function table, both ways: every row is a function of the
// template and a folder under functions/, and every function and folder
// is a row; every variable a function reads that the template sets
// (config.Variable.Template) is set for it, and the template sets a
// function no variable of its own that its row does not read.
func TestTableIsTheTemplate(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	top := doc.Content[0]
	global := map[string]bool{}
	for _, k := range mapKeys(mapValue(mapValue(mapValue(mapValue(top, "Globals"), "Function"), "Environment"), "Variables")) {
		global[k] = true
	}
	resources := mapValue(top, "Resources")
	inTemplate := map[string]*yaml.Node{}
	for _, id := range mapKeys(resources) {
		if r := mapValue(resources, id); mapValue(r, "Type").Value == "AWS::Serverless::Function" {
			inTemplate[id] = r
		}
	}
	variables := map[string]config.Variable{}
	for _, v := range config.Variables {
		variables[v.Name] = v
	}
	for k := range global {
		if !variables[k].Template {
			t.Errorf("the template's Globals set %s, which config.Variables does not mark as set by the template", k)
		}
	}

	rows := map[string]bool{}
	for _, f := range Functions() {
		if rows[f.Name] {
			t.Errorf("two rows named %s", f.Name)
		}
		rows[f.Name] = true
		// The Makefile's build-%Function rule builds functions/<name>.
		if strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function")) != f.Name || !strings.HasSuffix(f.LogicalID, "Function") {
			t.Errorf("%s: logical id %s; want the name, capitalised, then Function (the Makefile's build rule derives the folder from it)", f.Name, f.LogicalID)
		}
		// Its main starts its own row, not a copy of another's.
		if src, err := os.ReadFile("../../functions/" + f.Name + "/main.go"); err != nil {
			t.Errorf("%s has no functions/%s/main.go", f.Name, f.Name)
		} else if !strings.Contains(string(src), "wiring."+f.LogicalID+"(") {
			t.Errorf("functions/%s/main.go does not call wiring.%s(), its row", f.Name, f.LogicalID)
		}
		if f.Handler == nil {
			t.Errorf("%s has no handler", f.Name)
		}
		r, ok := inTemplate[f.LogicalID]
		if !ok {
			t.Errorf("%s: the template has no %s", f.Name, f.LogicalID)
			continue
		}
		delete(inTemplate, f.LogicalID)
		own := mapKeys(mapValue(mapValue(mapValue(r, "Properties"), "Environment"), "Variables"))
		for _, name := range f.Variables {
			v, ok := variables[name]
			switch {
			case !ok:
				t.Errorf("%s reads %s, which config.Variables does not list", f.Name, name)
			case v.Required:
				t.Errorf("%s lists %s, which every function reads (it is required)", f.Name, name)
			}
		}
		for _, v := range config.Variables {
			if v.Template && f.Reads(v) && !global[v.Name] && !slices.Contains(own, v.Name) {
				t.Errorf("%s reads %s but the template does not set it for %s", f.Name, v.Name, f.LogicalID)
			}
		}
		for _, name := range own {
			if !f.Reads(variables[name]) {
				t.Errorf("the template sets %s for %s, which its row does not read", name, f.LogicalID)
			}
		}
	}
	for id := range inTemplate {
		t.Errorf("the template's %s is not a row of the function table", id)
	}
	dirs, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !rows[d.Name()] {
			t.Errorf("functions/%s is not a row of the function table", d.Name())
		}
	}
	// Every variable that is not required is read by some function.
	for _, v := range config.Variables {
		read := false
		for _, f := range Functions() {
			read = read || f.Reads(v)
		}
		if !read {
			t.Errorf("no function reads %s", v.Name)
		}
	}
}

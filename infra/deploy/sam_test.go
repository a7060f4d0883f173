package deploy

import (
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
)

// The SAM CLI itself (from the project's virtual environment; make test
// puts it first on PATH), with no AWS account and no Docker: sam validate
// --lint and sam build on the main template and on each example. Every
// function's artifact is a linux/arm64 bootstrap, and the build copies
// nothing else (no node_modules, .venv or artifacts) into its scratch
// space: --build-in-source builds in the repository.
func TestSamValidateAndBuild(t *testing.T) {
	needs.Parts(t, needs.SAMCLI)
	if _, err := exec.LookPath("sam"); err != nil {
		t.Fatalf("the SAM CLI is not on PATH (make test installs it into .venv): %v", err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	nested := filepath.Join(root, "examples", "nested")
	for _, c := range []struct {
		name, dir string
		want      int // bootstraps
		// The nested example outside the repository: its template copied
		// into a folder of its own, sessionguard's template named by the
		// SessionGuardTemplate parameter.
		outside    bool
		location   string // SessionGuardTemplate, when not the default
		wantNested string // the nested stack's TemplateURL in the built template
	}{
		{name: "main", dir: root, want: len(lambdarun.Functions)},
		{name: "nested", dir: nested, want: len(lambdarun.Functions) + 1, wantNested: filepath.Join("SessionGuard", "template.yaml")},
		{name: "nested-outside", outside: true, location: filepath.Join(root, "template.yaml"), want: len(lambdarun.Functions) + 1, wantNested: filepath.Join("SessionGuard", "template.yaml")},
		{name: "nested-release-url", outside: true, location: releaseTemplateURL, want: 1, wantNested: "Ref SessionGuardTemplate"},
		{name: "imported", dir: filepath.Join(root, "examples", "imported"), want: 1},
		{name: "rest", dir: filepath.Join(root, "examples", "rest"), want: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.outside {
				c.dir = outsideCopy(t, nested, root)
			}
			var overrides []string
			if c.location != "" {
				overrides = []string{"--parameter-overrides", "SessionGuardTemplate=" + c.location}
			}
			sam := func(args ...string) {
				t.Helper()
				cmd := exec.Command("sam", args...)
				cmd.Dir = c.dir
				cmd.Env = append(os.Environ(), "SAM_CLI_TELEMETRY=0")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("sam %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
			sam("validate", "--lint")
			out := t.TempDir()
			start := time.Now()
			sam(append([]string{"build", "--build-in-source", "--build-dir", filepath.Join(out, "build"), "--cache-dir", filepath.Join(out, "cache")}, overrides...)...)
			took := time.Since(start)
			if c.wantNested != "" {
				if got := builtNestedLocation(t, filepath.Join(out, "build", "template.yaml")); got != c.wantNested {
					t.Errorf("the built template's nested stack is at %q; want %q", got, c.wantNested)
				}
			}
			var boots int
			var size int64
			filepath.WalkDir(filepath.Join(out, "build"), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					switch d.Name() {
					case "node_modules", ".venv", "artifacts", ".git":
						t.Errorf("the build copied %s", p)
						return filepath.SkipDir
					}
					return nil
				}
				info, _ := d.Info()
				size += info.Size()
				switch {
				case d.Name() == "bootstrap":
					boots++
					f, err := elf.Open(p)
					if err != nil {
						t.Errorf("%s: %v", p, err)
						return nil
					}
					if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
						t.Errorf("%s is %v/%v; want linux/arm64", p, f.Machine, f.OSABI)
					}
					f.Close()
				case d.Name() != "template.yaml":
					t.Errorf("the build holds %s beside the bootstraps", p)
				}
				return nil
			})
			if boots != c.want {
				t.Errorf("%d bootstraps; want %d", boots, c.want)
			}
			t.Logf("sam build (%s): %v, %d bootstraps, %.1f MB in the build folder", c.name, took.Round(10*time.Millisecond), boots, float64(size)/1e6)
		})
	}
}

// A release's packaged template, as the nested example names it from
// outside the repository (the SAM CLI leaves a URL to CloudFormation and
// fetches nothing).
const releaseTemplateURL = "https://sessionguard-releases.s3.eu-west-1.amazonaws.com/sessionguard-0.5.0.yaml"

// outsideCopy puts the nested example's template into a folder outside the
// repository, as an app's own repository would hold it: the app function's
// code is the app's (here examples/app's module, named by absolute path),
// and sessionguard's template is wherever SessionGuardTemplate says.
func outsideCopy(t *testing.T, nested, root string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(nested, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "CodeUri: ../..\n") {
		t.Fatal("the nested example's app function no longer has CodeUri ../..; update the copy")
	}
	dir := t.TempDir()
	if rel, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("%s is inside the repository", dir)
	}
	copied := strings.Replace(string(raw), "CodeUri: ../..\n", "CodeUri: "+root+"\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// builtNestedLocation reads the TemplateURL that sam build left for the
// nested stack SessionGuard.
func builtNestedLocation(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := doc.Resources["SessionGuard"]
	if r.Type != "AWS::CloudFormation::Stack" {
		t.Fatalf("SessionGuard is %q in the built template; want a nested stack", r.Type)
	}
	switch u := r.Properties["TemplateURL"].(type) {
	case string:
		return u
	case map[string]any:
		if ref, ok := u["Ref"].(string); ok {
			return "Ref " + ref
		}
	}
	return fmt.Sprint(r.Properties["TemplateURL"])
}

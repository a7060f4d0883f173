package deploy

import (
	"debug/elf"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	for _, c := range []struct {
		name, dir  string
		want       int    // bootstraps
		wantNested string // the nested stack's TemplateURL in the built template
	}{
		{name: "main", dir: root, want: len(lambdarun.Functions)},
		{name: "nested", dir: filepath.Join(root, "examples", "nested"), want: len(lambdarun.Functions) + 1, wantNested: filepath.Join("SessionGuard", "template.yaml")},
		{name: "imported", dir: filepath.Join(root, "examples", "imported"), want: 1},
		{name: "rest", dir: filepath.Join(root, "examples", "rest"), want: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
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
			sam("build", "--build-in-source", "--build-dir", filepath.Join(out, "build"), "--cache-dir", filepath.Join(out, "cache"))
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

package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	codeSpan = regexp.MustCompile("`[^`]*`")
	cellBar  = regexp.MustCompile(`(^|[^\\])\|`)
)

// The README and docs/: every table row has as many cells as its header
// (a stray cell shifts the meaning into the wrong column), and nothing
// points outside the repository.
func TestDocs(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "shared/SPEC") || strings.Contains(string(raw), "](../../") {
			t.Errorf("%s points outside the repository", f)
		}
		cols := -1
		for i, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(line, "|") {
				cols = -1
				continue
			}
			n := len(cellBar.FindAllString(codeSpan.ReplaceAllString(line, ""), -1))
			if cols < 0 {
				cols = n
			} else if n != cols {
				t.Errorf("%s:%d: %d cells; the table's header has %d", f, i+1, n-1, cols-1)
			}
		}
	}
}

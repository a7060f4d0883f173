package local

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestQuickStartWalkedOverHTTP runs the printed quick-start, as printed,
// in bash with curl against a running stack, and checks each answer.
func TestQuickStartWalkedOverHTTP(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the quick-start needs curl: %v", err)
	}
	var logs bytes.Buffer
	s, err := Start(Options{Addr: "127.0.0.1:0", Log: &logs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var script strings.Builder
	script.WriteString("set -eu\n")
	for _, line := range strings.Split(s.QuickStart(), "\n") {
		if strings.HasPrefix(line, "#") {
			script.WriteString("echo '=== " + strings.ReplaceAll(line, "'", "") + "'\n")
			continue
		}
		if strings.Contains(line, "curl ") {
			script.WriteString(line + "\n")
		}
	}
	cmd := exec.Command("bash", "-c", script.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quick-start failed: %v\n%s", err, out)
	}
	steps := strings.Split(string(out), "=== ")
	want := []struct {
		step string
		re   string
	}{
		{"# 3.", `(?s)HTTP/1.1 200 OK.*"environment":"demo".*"userId":"alice"`},
		{"# 4.", `HTTP/1.1 403 Forbidden`},
		{"# 5.", `(?s)HTTP/1.1 204 No Content.*HTTP/1.1 401 Unauthorized`},
		{"# 6.", `(?s)HTTP/1.1 401 Unauthorized.*"reason":"session_revoked"`},
	}
	for _, w := range want {
		found := false
		for _, st := range steps {
			if strings.HasPrefix(st, w.step) {
				found = true
				if !regexp.MustCompile(w.re).MatchString(st) {
					t.Errorf("step %s answered:\n%s\nwant %s", w.step, st, w.re)
				}
			}
		}
		if !found {
			t.Errorf("step %s not in the output:\n%s", w.step, out)
		}
	}
	for _, reason := range []string{`"reason":"ok"`, `"reason":"binding_user"`, `"reason":"session_revoked"`} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("logs lack %s", reason)
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	if _, err := Start(Options{Addr: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Start on 0.0.0.0 = %v; want a loopback error", err)
	}
}

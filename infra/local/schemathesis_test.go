package local

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/needs"
)

// schemathesis (PyPI, pinned in requirements.txt; make test puts the
// project's .venv first on PATH) generates requests from the OpenAPI
// description at /openapi.json against a running local stack, as an admin
// with a session: no 5xx, no response outside the description, no crash.
func TestOpenAPIWithSchemathesis(t *testing.T) {
	needs.Parts(t, needs.Schemathesis)
	if _, err := exec.LookPath("st"); err != nil {
		t.Fatalf("schemathesis (st) is not on PATH (make test installs it into .venv): %v", err)
	}
	s, _ := startStack(t)
	tok, err := s.IdP.Mint(tokenFor("root", AdminRole))
	if err != nil {
		t.Fatal(err)
	}
	code, sid := startSession(t, s, tok)
	if code != http.StatusCreated {
		t.Fatalf("admin sign-in: %d", code)
	}
	// Two runs: one generating every parameter, the environment too, and
	// one with the environment fixed to the stack's, so that generated
	// settings, session and audit requests reach the handlers instead of
	// a 404 for an unknown environment. That run leaves out ending one of
	// the user's own sessions: its ids are the user's own sessions' (the
	// generated ones are 404 by design, which that run counts as missing
	// data); the first run covers its 400s and 404s, and
	// shared/sessionapi TestEndOwnSession the rest.
	for _, run := range []struct {
		name, config string
		exclude      []string
	}{
		{"generated", "", nil},
		{"environment demo", "[parameters]\n\"path.env\" = \"" + Environment + "\"\n", []string{"endOwnSession"}},
	} {
		t.Run(run.name, func(t *testing.T) {
			// Its cache (.schemathesis, replayed crashes) and its
			// configuration go to a scratch folder, not into the
			// repository: every run starts from the seed alone.
			dir, reports := t.TempDir(), t.TempDir()
			if run.config != "" {
				if err := os.WriteFile(filepath.Join(dir, "schemathesis.toml"), []byte(run.config), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"run", s.URL + "/openapi.json", "--url", s.URL,
				"--checks", "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance",
				"--max-examples", "25", "--seed", "1", "--workers", "1", "--phases", "examples,coverage,fuzzing",
				// Sign-out would end the admin's own session for the rest of the run.
				"--exclude-operation-id", "signOut",
				"-H", "Authorization: Bearer " + tok, "-H", "X-Session-Id: " + sid,
				"--report", "junit", "--report-dir", reports}
			for _, op := range run.exclude {
				args = append(args, "--exclude-operation-id", op)
			}
			cmd := exec.Command("st", args...)
			cmd.Env = append(os.Environ(), "SCHEMATHESIS_HOOKS=", "NO_COLOR=1")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			summary := string(out)
			if i := strings.LastIndex(summary, "SUMMARY"); i >= 0 {
				summary = summary[i:]
			}
			t.Logf("schemathesis:\n%s", summary)
			if err != nil {
				t.Fatalf("schemathesis found problems: %v\n%s", err, out)
			}
			if m := regexp.MustCompile(`(\d+) generated`).FindStringSubmatch(string(out)); m != nil {
				t.Logf("generated requests: %s", m[1])
			}
			if run.config != "" && strings.Contains(string(out), "returned 404") {
				t.Errorf("with the environment fixed, operations still answered 404 for want of data: the override did not apply\n%s", summary)
			}
			files, _ := filepath.Glob(filepath.Join(reports, "*"))
			if len(files) == 0 {
				t.Error("schemathesis wrote no report")
			}
		})
	}
}

func tokenFor(user string, roles ...string) devidp.Token {
	return devidp.Token{User: user, Claims: map[string]any{"roles": roles}}
}

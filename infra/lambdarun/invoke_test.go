package lambdarun_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
)

// `make invoke`, as the README prints it, on every event file of every
// function: exit 0 and the right answer each time, with no DynamoDB
// endpoint given (make invoke starts its own) and no AWS credentials. The
// binaries go to a scratch folder (INVOKE_BIN), not the checkout's bin/.
func TestMakeInvokeAsPrinted(t *testing.T) {
	needs.Parts(t, needs.Venv, needs.Moto)
	// The project's virtual environment first, once: the parallel runs
	// below must not all create it.
	if out, err := exec.Command("make", "-s", "-C", "../..", "venv").CombinedOutput(); err != nil {
		t.Fatalf("make venv: %v\n%s", err, out)
	}
	bin := t.TempDir()
	for fn := range lambdarun.Functions {
		names, err := events.Names(fn)
		if err != nil {
			t.Fatal(err)
		}
		// Functions in parallel; one function's events one after another,
		// as each builds the same <bin>/<fn>/bootstrap.
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			for _, name := range names {
				cmd := exec.Command("make", "-s", "-C", "../..", "invoke", "FN="+fn, "EVENT=events/"+name)
				cmd.Env = append(withoutAWS(os.Environ()), "INVOKE_BIN="+bin)
				out, err := cmd.Output()
				if err != nil {
					var stderr []byte
					if ee, ok := err.(*exec.ExitError); ok {
						stderr = ee.Stderr
					}
					t.Errorf("make invoke FN=%s EVENT=events/%s: %v\n%s\n%s", fn, name, err, out, stderr)
				}
				if w, ok := want[name]; !ok {
					t.Errorf("events/%s has no expected answer in want", name)
				} else if !regexp.MustCompile(w).Match(out) {
					t.Errorf("make invoke FN=%s EVENT=events/%s printed %s; want %s", fn, name, out, w)
				}
			}
		})
	}
}

// withoutAWS drops the variables that would point a function at AWS or at
// another server, as on a fresh machine.
func withoutAWS(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "TRUSTED_ISSUERS=") && !strings.HasPrefix(e, "SG_") {
			out = append(out, e)
		}
	}
	return out
}

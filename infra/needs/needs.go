// Package needs sorts the tests into tiers.
//
//   - `go test -short ./...` (make test-short) runs every test that needs
//     nothing but Go: the memory store, httptest servers, generated keys.
//     "Nothing but Go" takes as given what any machine that runs make
//     test-short has: make itself (TestBuildTargets asks it for the
//     build's commands) and a POSIX sh with its usual commands (the
//     process-group tests of infra/samlocal start sh, sleep and true).
//   - A test that needs more (moto, Node and its npm packages, Chromium,
//     the project's Python tools, the SAM CLI) calls Parts first: under
//     -short it skips, saying what it needs; without -short it runs, and
//     fails, never skips, when a part is missing (make test installs them
//     all).
//   - A test that needs Engine (root, and the container engine and
//     network tools that make sam-local-deps installs) runs in make
//     sam-local, which sets SAMLocal to 1 after installing them; it fails
//     there, never skips, when a part is missing. Anywhere else it skips,
//     naming make sam-local: make test runs its plain go test ./... pass
//     before make sam-local has installed anything, then make sam-local.
package needs

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// A Part is something beyond Go that a test needs.
type Part string

// The parts.
const (
	Moto          Part = "moto_server (Python's moto)"
	OIDCProvider  Part = "Node's oidc-provider (npm)"
	Dynalite      Part = "Node's dynalite (npm)"
	AxeCore       Part = "axe-core (npm)"
	Chromium      Part = "Chromium"
	CfnLint       Part = "cfn-lint (Python)"
	SAMTranslator Part = "SAM's translator (Python)"
	SAMCLI        Part = "the SAM CLI"
	Engine        Part = "root and a container engine (podman, runc, iptables, ip: make sam-local)"
	Schemathesis  Part = "schemathesis (Python)"
	AWSCLI        Part = "the AWS CLI (Python)"
	Curl          Part = "bash and curl"
	Venv          Part = "the project's virtual environment (make venv: pip)"
)

// SAMLocal is the variable make sam-local sets to 1: the tests that need
// Engine run only there.
const SAMLocal = "SESSIONGUARD_SAM_LOCAL"

// Parts skips t under -short, naming the parts it needs beyond Go, and a
// test that needs Engine unless SAMLocal is 1. Otherwise it returns, and
// the test fails if a part is missing.
func Parts(t testing.TB, parts ...Part) {
	t.Helper()
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = string(p)
	}
	needs := "needs " + strings.Join(names, ", ")
	if testing.Short() {
		t.Skip(needs + ": skipped under -short")
	}
	if slices.Contains(parts, Engine) && os.Getenv(SAMLocal) != "1" {
		t.Skip(needs + ": runs in make sam-local (" + SAMLocal + "=1, as root), which make test runs after this pass")
	}
}

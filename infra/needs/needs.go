// Package needs sorts the tests into two tiers. `go test -short ./...`
// (make test-short) runs every test that needs nothing but Go: the
// memory store, httptest servers, generated keys. A test that needs more
// (moto, Node and its npm packages, Chromium, the project's Python tools,
// the SAM CLI) calls Parts first: under -short it skips, saying what it
// needs; without -short it runs, and fails, never skips, when a part is
// missing (make test installs them all).
package needs

import (
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
	Engine        Part = "a container engine (make sam-local: podman, as root)"
	Schemathesis  Part = "schemathesis (Python)"
	AWSCLI        Part = "the AWS CLI (Python)"
	Curl          Part = "bash and curl"
	Venv          Part = "the project's virtual environment (make venv: pip)"
)

// Parts skips t under -short, naming the parts it needs beyond Go.
func Parts(t testing.TB, parts ...Part) {
	t.Helper()
	if !testing.Short() {
		return
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = string(p)
	}
	t.Skip("needs " + strings.Join(names, ", ") + ": skipped under -short")
}

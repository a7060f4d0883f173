//go:build linux

package samlocal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/samlocal"
)

// samSetup writes the SAM CLI's own settings for this run: no telemetry
// and no version check (it would call PyPI), and the project's
// samconfig.toml (the example's local sections).
func samSetup() error {
	app := filepath.Join(scratch, "sam-app")
	if err := os.MkdirAll(app, 0o700); err != nil {
		return err
	}
	meta := fmt.Sprintf(`{"telemetryEnabled": false, "lastVersionCheck": %d}`, time.Now().Add(24*time.Hour).Unix())
	if err := os.WriteFile(filepath.Join(app, "metadata.json"), []byte(meta), 0o600); err != nil {
		return err
	}
	example, err := os.ReadFile(filepath.Join(root, "samconfig.toml.example"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(scratch, "samconfig.toml"), example, 0o600)
}

// sam is the project's SAM CLI, run in the repository with the run's
// engine and settings, and without the caller's AWS configuration: the
// functions get the SAM CLI's placeholder credentials, which the local
// servers take. Run it through kids (children_test.go): it runs in a
// process group of its own, which its context's end, an abort, or this
// process's death ends.
func sam(ctx context.Context, args ...string) *exec.Cmd {
	bin, err := exec.LookPath("sam")
	if err != nil {
		bin = filepath.Join(root, ".venv", "bin", "sam")
	}
	args = append(args, "--config-file", filepath.Join(scratch, "samconfig.toml"))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = root
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "DOCKER_") && !strings.HasPrefix(e, "SAM_") && !strings.HasPrefix(e, "__SAM_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "SAM_CLI_TELEMETRY=0", "__SAM_CLI_APP_DIR="+filepath.Join(scratch, "sam-app"),
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	if engine != nil {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+engine.Host)
	}
	cmd.SysProcAttr = groupAttrs()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// localFlags are the flags of every sam local command here: the stand-in
// image, which is never pulled (there is no registry to pull from), and
// the run's network (every container's already: the SAM CLI connects
// the container to it again, which podman takes as done).
func localFlags() []string {
	return []string{"--template-file", built, "--skip-pull-image", "--invoke-image", samlocal.StandIn,
		"--docker-network", samlocal.NetworkName}
}

// envFile writes the project's env.json with a sandbox's variables on
// top (its issuer, directory and table), for --env-vars, and forwards the
// loopback ports the functions are given to the containers.
func envFile(t *testing.T, sb *lambdarun.Sandbox) string {
	t.Helper()
	file := readEnvJSON(t)
	var ports []int
	for _, kv := range append(sb.Env, "AWS_ENDPOINT_URL_DYNAMODB="+dynamo.Endpoint) {
		k, v, _ := strings.Cut(kv, "=")
		for _, m := range loopbackPort.FindAllStringSubmatch(v, -1) {
			p, _ := strconv.Atoi(m[1])
			if !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
		if !strings.HasPrefix(k, "AWS_") { // the SAM CLI sets those itself
			file["Parameters"][k] = v
		}
	}
	engine.Forward(ports...)
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "env.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var loopbackPort = regexp.MustCompile(`http://127\.0\.0\.1:(\d+)`)

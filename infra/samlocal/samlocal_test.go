package samlocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionguard/sessionguard/events"
	"github.com/sessionguard/sessionguard/infra/devidp"
	"github.com/sessionguard/sessionguard/infra/dynamotest"
	"github.com/sessionguard/sessionguard/infra/lambdarun"
	"github.com/sessionguard/sessionguard/infra/needs"
	"github.com/sessionguard/sessionguard/infra/samlocal"
)

// enable turns on the tests that run the SAM CLI's containers; make
// sam-local sets it after installing the engine's packages.
const enable = "SESSIONGUARD_SAM_LOCAL"

var (
	root    string             // the repository
	scratch string             // this run's files
	engine  *samlocal.Engine   // nil unless enabled
	dynamo  *dynamotest.Server // the functions' DynamoDB (moto)
	built   string             // sam build's template
)

func TestMain(m *testing.M) {
	if samlocal.IsHook() { // podman runs this binary as its hook
		os.Exit(samlocal.RunHook(os.Stdin, os.Args))
	}
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	var err error
	if root, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if scratch, err = os.MkdirTemp("", "samlocal-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(scratch)
	flag.Parse()
	if os.Getenv(enable) == "" || testing.Short() {
		return m.Run()
	}
	start := time.Now()
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	if dynamo, err = dynamotest.Start(); err != nil {
		return fail(err)
	}
	defer dynamo.Stop()
	ctx := context.Background()
	// Every container gets the DynamoDB endpoint: the SAM CLI passes a
	// function only the variables its template declares (and its own
	// AWS_ ones), so --env-vars cannot.
	engine, err = samlocal.Start(ctx, samlocal.Options{Dir: scratch, Env: []string{"AWS_ENDPOINT_URL_DYNAMODB=" + dynamo.Endpoint}, Log: os.Stderr})
	if err != nil {
		return fail(err)
	}
	// Interrupted (^C, SIGTERM), the run still tears down.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "samlocal: %v: tearing down\n", s)
		if err := engine.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		dynamo.Stop()
		os.RemoveAll(scratch)
		os.Exit(2)
	}()
	defer func() {
		step := time.Now()
		if err := engine.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
		fmt.Fprintf(os.Stderr, "samlocal: torn down in %v; whole run %v\n", time.Since(step).Round(time.Millisecond), time.Since(start).Round(time.Second))
	}()
	if err := samSetup(); err != nil {
		return fail(err)
	}
	step := time.Now()
	dir := filepath.Join(scratch, "build")
	out, err := sam(ctx, "build", "--build-in-source", "--build-dir", dir, "--cache-dir", filepath.Join(scratch, "cache"),
		"--template-file", filepath.Join(root, "template.yaml")).CombinedOutput()
	if err != nil {
		return fail(fmt.Errorf("sam build: %v\n%s", err, out))
	}
	built = filepath.Join(dir, "template.yaml")
	fmt.Fprintf(os.Stderr, "samlocal: sam build in %v\n", time.Since(step).Round(time.Millisecond))
	return m.Run()
}

func needEngine(t *testing.T) {
	needs.Parts(t, needs.SAMCLI, needs.Moto, needs.Engine)
	if engine == nil {
		t.Skip("runs the SAM CLI's containers: make sam-local (" + enable + "=1, as root)")
	}
}

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
// servers take.
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
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// localFlags are the flags of every sam local command here: the stand-in
// image, which is never pulled (there is no registry to pull from).
func localFlags() []string {
	return []string{"--template-file", built, "--skip-pull-image", "--invoke-image", samlocal.StandIn}
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

func readEnvJSON(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	if file["Parameters"] == nil {
		t.Fatal("env.json has no Parameters")
	}
	return file
}

// `sam local invoke` on every function of the template, with each of its
// sample events, the project's env.json, a live session in a fresh table
// (moto) and a token from a development issuer the test runs: each answer
// is the one the Runtime Interface Emulator tests expect
// (lambdarun.Answers).
func TestInvokeEveryFunction(t *testing.T) {
	needEngine(t)
	ctx := context.Background()
	view := samView(t)
	var fns []string
	for fn, logical := range lambdarun.Functions {
		if _, ok := view[logical]; !ok {
			t.Errorf("lambdarun.Functions names %s, which the template does not have", logical)
		}
		fns = append(fns, fn)
	}
	for logical := range view {
		if !slices.Contains(fns, functionOf(logical)) {
			t.Errorf("the template's %s has no sample events in lambdarun.Functions", logical)
		}
	}
	slices.Sort(fns)
	n := 0
	for _, fn := range fns {
		names, err := events.Names(fn)
		if err != nil || len(names) == 0 {
			t.Fatalf("events of %s: %v %v", fn, names, err)
		}
		for _, name := range names {
			t.Run(name, func(t *testing.T) {
				n++
				want, ok := lambdarun.Answers[name]
				if !ok {
					t.Fatalf("events/%s has no expected answer in lambdarun.Answers", name)
				}
				sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, fmt.Sprintf("samlocal-invoke-%d", n))
				if err != nil {
					t.Fatal(err)
				}
				defer sb.Close()
				ev, err := sb.Event(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				evFile := filepath.Join(t.TempDir(), "event.json")
				if err := os.WriteFile(evFile, ev, 0o600); err != nil {
					t.Fatal(err)
				}
				env := envFile(t, sb)
				ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				defer cancel()
				cmd := sam(ictx, append([]string{"local", "invoke", lambdarun.Functions[fn], "--event", evFile, "--env-vars", env}, localFlags()...)...)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				start := time.Now()
				err = cmd.Run()
				took := time.Since(start)
				// The SAM CLI prints the answer re-encoded with spaces after
				// ':' and ','; the expectations are written for the compact
				// form the function sends.
				var answer bytes.Buffer
				if cerr := json.Compact(&answer, bytes.TrimSpace(stdout.Bytes())); cerr != nil {
					answer.Reset()
					answer.Write(stdout.Bytes())
				}
				if err != nil || !regexp.MustCompile(want).Match(answer.Bytes()) {
					t.Fatalf("sam local invoke %s --event events/%s: %v\nanswer: %s\nwant: %s\nlog:\n%s", lambdarun.Functions[fn], name, err, stdout.Bytes(), want, stderr.Bytes())
				}
				t.Logf("sam local invoke %s --event events/%s: %v", lambdarun.Functions[fn], name, took.Round(time.Millisecond))
			})
		}
	}
}

func functionOf(logical string) string {
	for fn, l := range lambdarun.Functions {
		if l == logical {
			return fn
		}
	}
	return ""
}

// `sam local start-api` on the template, through its own authorizer:
// sign in, an allowed request, sign out, and the same request refused
// (with, before the sign-out, the two refusals both places answer alike).
// API Gateway answers that refusal (the authorizer's Unauthorized error)
// with 401; the SAM CLI answers any authorizer error with 502, so the
// test holds the 502 and the authorizer's reason in its log
// (docs/deploying.md).
func TestStartAPIFlow(t *testing.T) {
	needEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sb, err := lambdarun.NewSandbox(ctx, dynamo.Endpoint, "samlocal-start-api")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env := envFile(t, sb)
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := sam(ctx, append([]string{"local", "start-api", "--env-vars", env, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, localFlags()...)...)
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("sam local start-api:\n%s", log.String())
		}
	}()
	for {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("sam local start-api did not listen within a minute:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("sam local start-api listening after %v", time.Since(start).Round(time.Millisecond))

	tok, err := sb.IdP.Mint(devidp.Token{User: "alice", Claims: map[string]any{"roles": []string{"sessionguard-admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := sb.IdP.Mint(devidp.Token{User: "mallory", Claims: map[string]any{"roles": []string{"sessionguard-admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(step, method, path, session string, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if step == "another user's token" {
			req.Header.Set("Authorization", "Bearer "+mallory)
		}
		if session != "" {
			req.Header.Set("X-Session-Id", session)
		}
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		t.Logf("%s: %s %s = %d (%v)", step, method, path, resp.StatusCode, time.Since(start).Round(time.Millisecond))
		return resp.StatusCode, b
	}

	status, body := call("sign in", "POST", "/sessions", "", `{"staySignedIn":false}`)
	var signIn struct {
		SessionID string `json:"sessionId"`
	}
	if json.Unmarshal(body, &signIn); status != http.StatusCreated || signIn.SessionID == "" {
		t.Fatalf("sign in = %d %s; want 201 with a sessionId", status, body)
	}
	if status, body = call("allowed", "GET", "/environments", signIn.SessionID, ""); status != http.StatusOK || !strings.Contains(string(body), lambdarun.Environment) {
		t.Fatalf("GET /environments after sign-in = %d %s; want 200 listing %s", status, body, lambdarun.Environment)
	}
	// Refusals the SAM CLI answers as API Gateway does: an identity source
	// missing (401, without calling the authorizer), and the authorizer's
	// deny (403: binding_user).
	if status, body = call("no session", "GET", "/environments", "", ""); status != http.StatusUnauthorized {
		t.Fatalf("GET /environments without X-Session-Id = %d %s; want 401", status, body)
	}
	if status, body = call("another user's token", "GET", "/environments", signIn.SessionID, ""); status != http.StatusForbidden {
		t.Fatalf("GET /environments with mallory's token on alice's session = %d %s; want 403", status, body)
	}
	if status, body = call("sign out", "DELETE", "/sessions/current", signIn.SessionID, ""); status != http.StatusNoContent {
		t.Fatalf("sign out = %d %s; want 204", status, body)
	}
	before := len(log.String())
	if status, body = call("refused", "GET", "/environments", signIn.SessionID, ""); status != http.StatusBadGateway {
		t.Fatalf("GET /environments after sign-out = %d %s; want the SAM CLI's 502 for the authorizer's Unauthorized (API Gateway: 401)", status, body)
	}
	t.Logf("refused: the SAM CLI's body %s", bytes.TrimSpace(body))
	if after := log.String()[before:]; !strings.Contains(after, `"reason":"session_revoked"`) || !regexp.MustCompile(`errorMessage\W+Unauthorized`).MatchString(after) {
		t.Fatalf("the refusal's log has no session_revoked decision and Unauthorized error:\n%s", after)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Package lambdarun runs a built function (its `bootstrap` binary, as on
// provided.al2023) under AWS's own Lambda Runtime Interface Emulator, the
// emulator `sam local invoke` runs inside its container, without a
// container: the emulator is a Go tool dependency of this module
// (go.mod's tool block), built by `go tool -n aws-lambda-rie`.
//
// Two behaviours of the emulator shape this package: it merges the
// function's stdout and stderr into its own output (Logs returns both,
// with the emulator's own lines), and a handler error comes back as HTTP
// 200 with an errorMessage document (Result.Error is set from that). A
// function that dies at start-up comes back as 502 with an empty body.
package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is one invocation's outcome: the response payload, or the
// function's error document (Lambda's errorMessage/errorType JSON).
type Result struct {
	Payload []byte
	Error   bool
	// Took is from sending the event to receiving the answer.
	Took time.Duration
}

// Function is a running emulator with one function behind it. The
// emulator starts the function on the first invocation.
type Function struct {
	cmd      *exec.Cmd
	invokeAt string
	logs     lockedBuffer
	done     chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Emulator returns the path of the emulator binary, building it (once, then
// from the Go build cache) from the module's tool dependency.
func Emulator() (string, error) {
	out, err := exec.Command("go", "tool", "-n", "aws-lambda-rie").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("lambdarun: build the emulator (go tool -n aws-lambda-rie): %w\n%s", err, ee.Stderr)
		}
		return "", fmt.Errorf("lambdarun: build the emulator (go tool -n aws-lambda-rie): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start runs the emulator for bin, with env on top of a minimal Lambda
// environment, on two free loopback ports.
func Start(bin string, env []string) (*Function, error) {
	rie, err := Emulator()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, fmt.Errorf("lambdarun: %s: %w", bin, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("lambdarun: the function binary: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	invokeAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(filepath.Dir(abs)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=" + envOr("AWS_REGION", "us-east-1"),
		"AWS_DEFAULT_REGION=" + envOr("AWS_REGION", "us-east-1"),
		"TZ=UTC",
	}, env...)
	f := &Function{cmd: cmd, invokeAt: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &f.logs, &f.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lambdarun: start the emulator: %w", err)
	}
	go func() { cmd.Wait(); close(f.done) }()
	if err := f.waitListening(invokeAddr, 10*time.Second); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

func (f *Function) waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-f.done:
			return fmt.Errorf("lambdarun: the emulator exited at start:\n%s", f.Logs())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("lambdarun: the emulator did not listen on %s within %v", addr, limit)
}

func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("lambdarun: find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Invoke sends one event and waits for the answer.
func (f *Function) Invoke(ctx context.Context, event []byte) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.invokeAt, bytes.NewReader(event))
	if err != nil {
		return Result{}, fmt.Errorf("lambdarun: invoke: %w", err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("lambdarun: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return Result{}, fmt.Errorf("lambdarun: read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("lambdarun: the emulator answered %d %q (a function that dies at start-up gets 502):\n%s", resp.StatusCode, body, f.FunctionLogs())
	}
	return Result{Payload: body, Error: isErrorDocument(body), Took: took}, nil
}

// isErrorDocument reports whether body is Lambda's error document, which
// the emulator returns with status 200 for a handler error.
func isErrorDocument(body []byte) bool {
	var doc struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return false
	}
	return doc.ErrorMessage != nil
}

// Pid is the process id of the function itself (the emulator's child),
// or 0 before its first invocation.
func (f *Function) Pid() int {
	entries, _ := os.ReadDir("/proc")
	parent := strconv.Itoa(f.cmd.Process.Pid)
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == parent {
			pid, _ := strconv.Atoi(e.Name())
			return pid
		}
	}
	return 0
}

// Logs is what the emulator and the function have written so far.
func (f *Function) Logs() string { return f.logs.String() }

// FunctionLogs is only the function's own lines: its JSON log lines (the
// emulator's own lines are not JSON objects).
func (f *Function) FunctionLogs() string {
	var b strings.Builder
	for _, line := range strings.Split(f.Logs(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "{") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// WaitFunctionLog waits up to limit for a function log line holding want
// and returns the function's log lines: the emulator passes the
// function's output on by itself, so a line written before the answer may
// arrive after it.
func (f *Function) WaitFunctionLog(want string, limit time.Duration) (string, bool) {
	deadline := time.Now().Add(limit)
	for {
		logs := f.FunctionLogs()
		if strings.Contains(logs, want) {
			return logs, true
		}
		if time.Now().After(deadline) {
			return logs, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitFunctionLogCount waits up to limit until the function's log holds
// more than n lines holding want, and returns those lines.
func (f *Function) WaitFunctionLogCount(want string, n int, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	for {
		var lines []string
		for _, l := range strings.Split(f.FunctionLogs(), "\n") {
			if strings.Contains(l, want) {
				lines = append(lines, l)
			}
		}
		if len(lines) > n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop ends the emulator and the function.
func (f *Function) Stop() {
	if f.cmd.Process != nil {
		syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
	}
}

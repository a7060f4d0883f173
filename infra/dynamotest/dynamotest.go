// Package dynamotest starts a DynamoDB-protocol server for tests: moto's
// server (on the machine image; it speaks transactions and reports why a
// condition failed) on a free loopback port, stopped when the tests end.
// It runs moto through moto_serial.py, which serves one request at a time:
// moto's transactions are not safe under concurrent requests (see the
// script). SG_TEST_DYNAMODB_ENDPOINT points the tests at a server already
// running instead.
package dynamotest

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

//go:embed moto_serial.py
var motoSerial string

// Server is a running DynamoDB-protocol server.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
}

// Start starts moto_server, or uses SG_TEST_DYNAMODB_ENDPOINT. It fails,
// never skips: CI must run the DynamoDB tests.
func Start() (*Server, error) {
	if ep := os.Getenv("SG_TEST_DYNAMODB_ENDPOINT"); ep != "" {
		return &Server{Endpoint: ep}, nil
	}
	return start()
}

// StartConcurrent starts a moto server that serves requests at once, not
// one at a time: for benchmarks without transactions (moto's transactions
// are not safe under concurrent requests).
func StartConcurrent() (*Server, error) { return start("concurrent") }

func start(args ...string) (*Server, error) {
	bin, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("dynamotest: python3 (with the moto[server] package) is not on PATH: %w", err)
	}
	var lastErr error
	for range 3 { // the free port may be taken between choosing and binding
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, append([]string{"-c", motoSerial, "127.0.0.1", strconv.Itoa(port)}, args...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("dynamotest: start the moto server: %w", err)
		}
		s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
		if lastErr = s.waitReady(20 * time.Second); lastErr == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, lastErr
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dynamotest: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady(limit time.Duration) error {
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			s.cmd = nil
			return fmt.Errorf("dynamotest: moto server exited: %v", err)
		default:
		}
		resp, err := http.Get(s.Endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("dynamotest: moto server did not answer within " + limit.String())
}

// Stop stops a server Start started.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Main is a TestMain for packages that need the server: it starts one,
// hands it to use, runs the tests, stops it and exits; it fails (never
// skips) when the server cannot start. Under go test -short it starts
// none and does not call use: the tests that need the server skip there
// (needs.Parts(t, needs.Moto)), and the others run.
func Main(m interface{ Run() int }, use func(*Server)) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	use(s)
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// StartDynalite starts dynalite (npm, pinned in the repository's
// package.json; make test installs it with npm ci), a DynamoDB-protocol
// server in Node that serves requests at once and faster than moto, but
// has no transactions and no TTL API: for benchmarks of paths that need
// neither (the refresher's). In memory, on a free loopback port.
func StartDynalite() (*Server, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("dynamotest: dynalite is not installed (npm ci at the repository root; make test does): %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", bin, "--port", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynamotest: start dynalite: %w", err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond); err == nil {
			c.Close()
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	return nil, errors.New("dynamotest: dynalite did not listen within 20s")
}

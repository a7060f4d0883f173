// Package runtimeapi is a small Lambda Runtime API server: it runs a built
// function (its `bootstrap` binary, as on provided.al2023) as a child
// process, hands it events through the same HTTP protocol Lambda uses
// (next / response / error), and returns its answers. No Docker, no AWS.
package runtimeapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

const prefix = "/2018-06-01/runtime"

// Result is one invocation's outcome: the response payload, or the
// function's error document (Lambda's errorMessage/errorType JSON).
type Result struct {
	Payload []byte
	Error   bool
	// Took is from handing the event out to receiving the answer.
	Took time.Duration
}

// Function is a running bootstrap.
type Function struct {
	srv     *http.Server
	cmd     *exec.Cmd
	events  chan invocation
	mu      sync.Mutex
	pending map[string]chan Result
	initErr chan []byte
	done    chan struct{} // closed when the process has exited
	exitErr error
	logs    lockedBuffer // the function's stdout and stderr
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

// Pid is the function's process id.
func (f *Function) Pid() int { return f.cmd.Process.Pid }

// Logs is what the function has written so far (its JSON log lines).
func (f *Function) Logs() string { return f.logs.String() }

type invocation struct {
	id      string
	payload []byte
	sent    time.Time
}

// Start runs bin with env (on top of a minimal Lambda environment) against
// a new Runtime API server on a free loopback port.
func Start(bin string, env []string) (*Function, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen: %w", err)
	}
	f := &Function{events: make(chan invocation), pending: map[string]chan Result{}, initErr: make(chan []byte, 1), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", f.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", f.answer(false))
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", f.answer(true))
	mux.HandleFunc("POST "+prefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case f.initErr <- body:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go f.srv.Serve(ln)
	f.cmd = exec.Command(bin)
	f.cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=" + strings.TrimSuffix(bin, "/bootstrap"),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=" + envOr("AWS_REGION", "us-east-1"),
		"PATH=" + os.Getenv("PATH"),
	}, env...)
	f.cmd.Stdout = &f.logs
	f.cmd.Stderr = &f.logs
	if err := f.cmd.Start(); err != nil {
		f.srv.Close()
		return nil, fmt.Errorf("runtimeapi: start %s: %w", bin, err)
	}
	go func() { f.exitErr = f.cmd.Wait(); close(f.done) }()
	return f, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (f *Function) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-f.events:
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:local")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		w.Header().Set("Content-Type", "application/json")
		w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (f *Function) answer(isErr bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		ch, ok := f.pending[r.PathValue("id")]
		delete(f.pending, r.PathValue("id"))
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ch <- Result{Payload: body, Error: isErr}
		w.WriteHeader(http.StatusAccepted)
	}
}

// Invoke hands the function one event and waits for its answer.
func (f *Function) Invoke(ctx context.Context, event []byte) (Result, error) {
	var b [16]byte
	rand.Read(b[:])
	inv := invocation{id: hex.EncodeToString(b[:]), payload: event, sent: time.Now()}
	ch := make(chan Result, 1)
	f.mu.Lock()
	f.pending[inv.id] = ch
	f.mu.Unlock()
	select {
	case f.events <- inv:
	case body := <-f.initErr:
		return Result{}, fmt.Errorf("runtimeapi: the function failed to start: %s\n%s", body, f.logs.String())
	case <-f.done:
		return Result{}, fmt.Errorf("runtimeapi: the function exited (%v) before asking for an event:\n%s", f.exitErr, f.logs.String())
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case res := <-ch:
		res.Took = time.Since(inv.sent)
		return res, nil
	case <-f.done:
		return Result{}, fmt.Errorf("runtimeapi: the function exited (%v) during the invocation:\n%s", f.exitErr, f.logs.String())
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Stop kills the function and the server.
func (f *Function) Stop() error {
	if f.cmd.Process != nil {
		f.cmd.Process.Kill()
	}
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
	}
	err := f.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

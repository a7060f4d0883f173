//go:build linux

package samlocal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Each Lambda container has a network namespace of its own, whose
// 127.0.0.1 is not the host's: a function given http://127.0.0.1:P (the
// test's issuer, directory, DynamoDB server) would find nothing there, and
// the functions accept plain http only to a loopback host. So when a
// Lambda container starts, before its process runs, an OCI hook asks the
// test process to open listeners on the container's own 127.0.0.1:P for
// each forwarded port; the test process accepts there and connects to the
// host's 127.0.0.1:P. The test's servers listen on the host's loopback
// only, and the functions see the same URLs as the test.

// hookEnv names the forwarder's socket in the hook's environment; its
// presence tells a process that it was started as the hook.
const hookEnv = "SESSIONGUARD_SAMLOCAL_HOOK"

// hookConfig is podman's hook declaration (hooks_dir) for one stage: this
// executable, for containers whose command is the SAM CLI's emulator.
func hookConfig(exe, stage, socket string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "1.0.0",
		"hook":    map[string]any{"path": exe, "args": []string{exe, stage}, "env": []string{hookEnv + "=" + socket}},
		"when":    map[string]any{"commands": []string{".*/aws-lambda-rie$"}},
		"stages":  []string{stage},
	})
	return b
}

// IsHook reports whether this process was started as the engine's hook;
// a TestMain calls RunHook then, before anything else.
func IsHook() bool { return os.Getenv(hookEnv) != "" }

// RunHook is the hook: it passes the container's state (OCI runtime
// state on stdin) and the stage (the first argument) to the forwarder and
// returns the exit code; a failed prestart fails the container's start.
func RunHook(stdin io.Reader, args []string) int {
	var state struct {
		ID  string `json:"id"`
		Pid int    `json:"pid"`
	}
	if err := json.NewDecoder(stdin).Decode(&state); err != nil {
		fmt.Fprintln(os.Stderr, "samlocal hook: the container state:", err)
		return 1
	}
	stage := ""
	if len(args) > 1 {
		stage = args[1]
	}
	c, err := net.DialTimeout("unix", os.Getenv(hookEnv), 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "samlocal hook:", err)
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	json.NewEncoder(c).Encode(hookRequest{Stage: stage, ID: state.ID, Pid: state.Pid})
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || reply != "ok\n" {
		fmt.Fprintf(os.Stderr, "samlocal hook: %s: %q %v\n", stage, reply, err)
		return 1
	}
	return 0
}

type hookRequest struct {
	Stage string `json:"stage"`
	ID    string `json:"id"`
	Pid   int    `json:"pid"`
}

type forwarder struct {
	path    string
	ln      net.Listener
	hostNS  *os.File
	started func(id string) error // records a container before it starts

	mu    sync.Mutex
	ports []int
	open  map[string][]net.Listener // by container id
}

func newForwarder(path string, started func(id string) error) (*forwarder, error) {
	hostNS, err := os.Open("/proc/self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("samlocal: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		hostNS.Close()
		return nil, fmt.Errorf("samlocal: %w", err)
	}
	f := &forwarder{path: path, ln: ln, hostNS: hostNS, started: started, open: map[string][]net.Listener{}}
	go f.serve()
	return f, nil
}

func (f *forwarder) setPorts(ports []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ports = append([]int(nil), ports...)
}

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.handle(c)
	}
}

func (f *forwarder) handle(c net.Conn) {
	defer c.Close()
	var req hookRequest
	if err := json.NewDecoder(c).Decode(&req); err != nil {
		fmt.Fprintf(c, "error: %v\n", err)
		return
	}
	switch req.Stage {
	case "prestart":
		f.mu.Lock()
		ports := f.ports
		f.mu.Unlock()
		if err := f.started(req.ID); err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
			return
		}
		lns, err := f.listenIn(req.Pid, ports)
		if err != nil {
			fmt.Fprintf(c, "error: %v\n", err)
			return
		}
		f.mu.Lock()
		f.open[req.ID] = lns
		f.mu.Unlock()
		for i, ln := range lns {
			go accept(ln, ports[i])
		}
	case "poststop":
		f.mu.Lock()
		lns := f.open[req.ID]
		delete(f.open, req.ID)
		f.mu.Unlock()
		for _, ln := range lns {
			ln.Close()
		}
	default:
		fmt.Fprintf(c, "error: unknown stage %q\n", req.Stage)
		return
	}
	io.WriteString(c, "ok\n")
}

// listenIn opens a listener on 127.0.0.1:port in the network namespace of
// process pid for each port: a socket belongs to the namespace of the
// thread that creates it, so one locked thread enters the container's
// namespace, creates the sockets, and returns to the host's.
func (f *forwarder) listenIn(pid int, ports []int) ([]net.Listener, error) {
	ns, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return nil, fmt.Errorf("the container's network namespace: %w", err)
	}
	defer ns.Close()
	type result struct {
		lns []net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := setns(ns); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("enter the container's network namespace: %w", err)}
			return
		}
		var r result
		for _, p := range ports {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				r.err = fmt.Errorf("listen in the container: %w", err)
				break
			}
			r.lns = append(r.lns, ln)
		}
		if err := setns(f.hostNS); err != nil {
			// The thread stays locked, so it ends with this goroutine
			// instead of running others in the container's namespace.
			r.err = fmt.Errorf("return to the host's network namespace: %w", err)
		} else {
			runtime.UnlockOSThread()
		}
		if r.err != nil {
			for _, ln := range r.lns {
				ln.Close()
			}
			r.lns = nil
		}
		done <- r
	}()
	r := <-done
	return r.lns, r.err
}

func setns(ns *os.File) error { return unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET) }

// accept serves one forwarded port of a container until its listener is
// closed.
func accept(ln net.Listener, port int) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{})
			go func() {
				io.Copy(up, c)
				up.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			io.Copy(c, up)
			c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}

func (f *forwarder) close() {
	f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, lns := range f.open {
		for _, ln := range lns {
			ln.Close()
		}
		delete(f.open, id)
	}
	f.hostNS.Close()
	os.Remove(f.path)
}

//go:build linux

package samlocal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configure an Engine.
type Options struct {
	// Dir is a scratch folder for the engine's sockets, hooks and log; it
	// must exist.
	Dir string
	// Tools is the folder into which make sam-local-deps extracts Debian's
	// qemu-user-static and busybox-static, laid out as the packages are
	// (usr/bin/qemu-aarch64-static, bin/busybox): the run uses those
	// files without installing the packages.
	Tools string
	// Env is added to every container's environment (containers.conf
	// "env"): what the functions need that the template does not declare,
	// such as AWS_ENDPOINT_URL_DYNAMODB, which `sam local` would not pass.
	Env []string
	// Log receives a line per step, with its duration.
	Log io.Writer
}

// Engine is a rootful podman serving a Docker-compatible socket for the
// SAM CLI, with what `sam local` needs on a machine without a registry
// (docs/deploying.md): arm64 emulation, the stand-in base image and a
// network of the run's own (NetworkName).
type Engine struct {
	// Host is the socket, as DOCKER_HOST for the SAM CLI; set by Start.
	Host string

	o        Options
	log      io.Writer
	files    stateFiles
	lockPath string
	check    func() error // checkMachine

	mu          sync.Mutex
	st          runState // what the run set up, as recorded in files
	recording   bool     // files are this run's: Start holds the lock and removed what an earlier run left
	closed      bool
	cancelStart context.CancelFunc
	startDone   chan struct{}

	closing  sync.Once
	closeErr error

	lock    *os.File
	service *group
	fwd     *forwarder
}

// New returns an engine that Start brings up. Close it in any case: it
// undoes what Start did, also after a failed Start, and stops a Start
// still under way.
func New(o Options) *Engine {
	e := &Engine{o: o, log: o.Log, files: stateFiles(stateDir), lockPath: lockPath, check: checkMachine}
	if e.log == nil {
		e.log = io.Discard
	}
	return e
}

// Start brings up the engine. Before anything else, it waits for any
// other run on the machine to end and removes what a run that could not
// tear down recorded (state.go).
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	if e.closed || e.startDone != nil {
		e.mu.Unlock()
		return errors.New("samlocal: Start after Close, or twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	e.cancelStart, e.startDone = cancel, make(chan struct{})
	e.mu.Unlock()
	defer func() {
		cancel()
		close(e.startDone)
	}()
	return e.start(ctx)
}

func (e *Engine) start(ctx context.Context) error {
	if err := e.check(); err != nil {
		return err
	}
	var err error
	// One run at a time on a machine: a second would take the first's
	// record, binfmt entry and network for its own, and remove them.
	if e.lock, err = lockMachine(ctx, e.lockPath, func() { e.logf("waiting for another run of the engine to end") }); err != nil {
		return err
	}
	if err := e.removeLeftovers(); err != nil {
		return err
	}
	if err := os.MkdirAll(e.files.netConf(), 0o700); err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	e.mu.Lock()
	e.recording = true
	e.mu.Unlock()
	present, err := portmapPresent(hostRun)
	if err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	if err := e.record(func(st *runState) { st.Pid, st.PortmapNew = os.Getpid(), !present }); err != nil {
		return err
	}
	if err := e.network(); err != nil {
		return err
	}
	if e.fwd, err = newForwarder(filepath.Join(e.o.Dir, "hook.sock"), func(id string) error {
		return e.record(func(st *runState) { st.Containers = append(st.Containers, id) })
	}); err != nil {
		return err
	}
	if err := e.writeConfig(); err != nil {
		return err
	}
	step := time.Now()
	if err := e.startService(ctx); err != nil {
		return err
	}
	e.logf("podman service up in %v", time.Since(step).Round(time.Millisecond))
	step = time.Now()
	b, err := registerAarch64(filepath.Join(e.o.Tools, qemuAarch64), func(b binfmtState) error {
		return e.record(func(st *runState) { st.Binfmt = b })
	})
	if err != nil {
		return err
	}
	e.logf("arm64 emulation: %s (%v)", b, time.Since(step).Round(time.Millisecond))
	step = time.Now()
	built, err := e.standIn(ctx)
	if err != nil {
		return err
	}
	e.logf("stand-in image %s: %s (%v)", StandIn, built, time.Since(step).Round(time.Millisecond))
	return nil
}

func (e *Engine) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "samlocal: "+format+"\n", args...)
}

// Forward sets the loopback ports that each Lambda container started from
// now on can reach on the host's 127.0.0.1, at the same addresses.
func (e *Engine) Forward(ports ...int) { e.fwd.setPorts(ports) }

// Close stops a Start under way, removes the containers the run started,
// stops the service, and removes what the run recorded: its network (the
// bridge, the iptables rules and chains made for its containers), IP
// forwarding if it turned it on, its binfmt_misc entry and mount; then
// the record. What it could not remove stays recorded, for the next run.
// It reports what it could not undo. Calls after the first return the
// first's result.
func (e *Engine) Close() error {
	e.closing.Do(func() {
		e.mu.Lock()
		e.closed = true
		cancel, done := e.cancelStart, e.startDone
		e.mu.Unlock()
		if cancel != nil {
			cancel()
			<-done
		}
		e.closeErr = e.close()
	})
	return e.closeErr
}

func (e *Engine) close() error {
	var errs []error
	if e.service != nil {
		e.service.stop(15 * time.Second)
	}
	e.mu.Lock()
	recording, st := e.recording, e.st
	e.mu.Unlock()
	if recording {
		errs = tearDown(e.files, &st)
	}
	if e.fwd != nil {
		e.fwd.close()
	}
	if e.lock != nil {
		e.lock.Close() // and with it the lock
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("samlocal: tear down (what is left is recorded in %s; the next run removes it): %w", e.files.record(), err)
	}
	return nil
}

// lines returns the non-empty lines of b.
func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

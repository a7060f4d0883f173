//go:build linux

package samlocal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "embed"

	"golang.org/x/sys/unix"
)

//go:embed containers.conf
var containersConf string

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
	e := &Engine{o: o, log: o.Log, files: stateFiles(stateDir), lockPath: lockPath}
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
	if os.Geteuid() != 0 {
		return errors.New("samlocal: needs root: rootful podman, binfmt_misc and network namespaces")
	}
	for _, tool := range []string{"podman", "runc", "iptables", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("samlocal: %s is not installed (make sam-local-deps installs it: infra/samlocal/deps.sh): %w", tool, err)
		}
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

// lockMachine takes the machine's lock, waiting for it while ctx lasts.
func lockMachine(ctx context.Context, path string, waiting func()) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("samlocal: %w", err)
	}
	for i := 0; ; i++ {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("samlocal: lock %s: %w", path, err)
		}
		if i == 0 {
			waiting()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// removeLeftovers removes what an earlier run recorded and could not tear
// down, and checks that the run's bridge is not there without a record.
func (e *Engine) removeLeftovers() error {
	st, err := e.files.load()
	if err != nil {
		return err
	}
	if st != nil {
		step := time.Now()
		if err := removeLeftovers(e.files, st); err != nil {
			return fmt.Errorf("samlocal: an earlier run (pid %d) could not tear down, and neither could this one (what it set up is in %s): %w", st.Pid, e.files.record(), err)
		}
		e.logf("removed what an earlier run (pid %d) left: %d containers, its network, its binfmt_misc entry (%v)", st.Pid, len(st.Containers), time.Since(step).Round(time.Millisecond))
	}
	if _, err := net.InterfaceByName(bridgeName); err == nil {
		return fmt.Errorf("samlocal: the link %s is there, and no run recorded it: remove it (ip link delete %s) if no run of this suite uses it", bridgeName, bridgeName)
	}
	return nil
}

// record changes the run's record and writes it down.
func (e *Engine) record(change func(*runState)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	change(&e.st)
	return e.files.save(&e.st)
}

// network writes the run's network for podman, on a subnet no route of
// the host uses, and turns IP forwarding on if it is off (recorded, so
// that teardown turns it off again).
func (e *Engine) network() error {
	out, err := hostRun("ip", "-4", "route", "show", "table", "all")
	if err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	subnet, err := freeSubnet(lines(out))
	if err != nil {
		return err
	}
	conf := networkConfig(subnet, e.files.ipam())
	if err := os.WriteFile(filepath.Join(e.files.netConf(), NetworkName+".conflist"), conf, 0o600); err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	off, err := forwardingOff(ipForward)
	if err != nil || !off {
		return err
	}
	if err := e.record(func(st *runState) { st.IPForwardSet = true }); err != nil {
		return err
	}
	if err := os.WriteFile(ipForward, []byte("1\n"), 0); err != nil {
		return fmt.Errorf("samlocal: turn on IP forwarding: %w", err)
	}
	return nil
}

func (e *Engine) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "samlocal: "+format+"\n", args...)
}

// Forward sets the loopback ports that each Lambda container started from
// now on can reach on the host's 127.0.0.1, at the same addresses.
func (e *Engine) Forward(ports ...int) { e.fwd.setPorts(ports) }

// writeConfig writes the project's containers.conf with the run's own
// settings: the containers' added variables, the hooks that open the
// forwarded ports in each Lambda container (forward.go), and the run's
// network as every container's.
func (e *Engine) writeConfig() error {
	hooks := filepath.Join(e.o.Dir, "hooks.d")
	if err := os.MkdirAll(hooks, 0o700); err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("samlocal: the hook's executable: %w", err)
	}
	for _, stage := range []string{"prestart", "poststop"} {
		if err := os.WriteFile(filepath.Join(hooks, stage+".json"), hookConfig(exe, stage, e.fwd.path), 0o600); err != nil {
			return fmt.Errorf("samlocal: %w", err)
		}
	}
	conf := containersConf
	conf = strings.Replace(conf, "[containers]\n", "[containers]\nenv = "+tomlList(e.o.Env)+"\n", 1)
	conf = strings.Replace(conf, "[network]\n", "[network]\nnetwork_config_dir = "+tomlString(e.files.netConf())+"\ndefault_network = "+tomlString(NetworkName)+"\n", 1)
	conf = strings.Replace(conf, "[engine]\n", "[engine]\nhooks_dir = "+tomlList([]string{hooks})+"\n", 1)
	if err := os.WriteFile(e.files.conf(), []byte(conf), 0o600); err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	return nil
}

func tomlList(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tomlString(s))
	}
	b.WriteByte(']')
	return b.String()
}

func tomlString(s string) string { return fmt.Sprintf("%q", s) }

// podman runs the podman command line with the engine's configuration.
func (e *Engine) podman(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+e.files.conf())
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (e *Engine) startService(ctx context.Context) error {
	sock := filepath.Join(e.o.Dir, "podman.sock")
	logf, err := os.Create(filepath.Join(e.o.Dir, "podman-service.log"))
	if err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("podman", "system", "service", "--time=0", "unix://"+sock)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+e.files.conf())
	cmd.Stdout, cmd.Stderr = logf, logf
	if e.service, err = startGroup(cmd); err != nil {
		return fmt.Errorf("samlocal: start podman system service: %w", err)
	}
	if err := e.record(func(st *runState) { st.Service, st.Socket = cmd.Process.Pid, sock }); err != nil {
		return err
	}
	e.Host = "unix://" + sock
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}, Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-e.service.stopped:
			log, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("samlocal: podman system service exited:\n%s", log)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get("http://podman/_ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("samlocal: podman system service did not answer on " + sock + " within 30s")
}

// group is a command in a process group of its own (ended with this
// process if it dies first), which stop ends whole.
type group struct {
	cmd      *exec.Cmd
	stopped  chan struct{} // closed once the command has exited
	stopping sync.Once
}

func startGroup(cmd *exec.Cmd) (*group, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &group{cmd: cmd, stopped: make(chan struct{})}
	go func() { cmd.Wait(); close(g.stopped) }()
	return g, nil
}

// stop ends the group: SIGTERM, and SIGKILL after grace. Only the first
// call signals, and only if the command has not exited (its group id
// could be another's by then); every call returns once it has exited.
func (g *group) stop(grace time.Duration) {
	g.stopping.Do(func() {
		select {
		case <-g.stopped:
			return
		default:
		}
		syscall.Kill(-g.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-g.stopped:
		case <-time.After(grace):
			syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	<-g.stopped
}

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

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
)

//go:embed containers.conf
var containersConf string

// Options configure Start.
type Options struct {
	// Dir is a scratch folder for the engine's socket, its configuration
	// and its log; it must exist.
	Dir string
	// Env is added to every container's environment (containers.conf
	// "env"): what the functions need that the template does not declare,
	// such as AWS_ENDPOINT_URL_DYNAMODB, which `sam local` would not pass.
	Env []string
	// Log receives a line per step, with its duration.
	Log io.Writer
}

// Engine is a rootful podman serving a Docker-compatible socket for the
// SAM CLI, with what `sam local` needs on a machine without a registry
// (docs/deploying.md): arm64 emulation and the stand-in base image.
type Engine struct {
	// Host is the socket, as DOCKER_HOST for the SAM CLI.
	Host string
	conf string
	log  io.Writer

	closing  sync.Once
	closeErr error

	lock    *os.File
	service *exec.Cmd
	stopped chan struct{}
	fwd     *forwarder
	binfmt  binfmtState
	net     *netState
}

// Start brings up the engine. Close undoes what Start did, also after a
// failed Start (Start calls it itself then).
func Start(ctx context.Context, o Options) (e *Engine, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("samlocal: needs root: rootful podman, binfmt_misc and network namespaces")
	}
	for _, tool := range []string{"podman", "runc", "iptables", "ip", qemuAarch64} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("samlocal: %s is not installed (make sam-local installs them: see SAM_LOCAL_DEPS in the Makefile): %w", tool, err)
		}
	}
	e = &Engine{conf: filepath.Join(o.Dir, "containers.conf"), log: o.Log}
	if e.log == nil {
		e.log = io.Discard
	}
	defer func() {
		if err != nil {
			e.Close()
			e = nil
		}
	}()
	// One run at a time on a machine: a second would take the first's
	// binfmt entry, bridge and chains for its own, and remove them.
	if e.lock, err = os.OpenFile(filepath.Join(os.TempDir(), "sessionguard-samlocal.lock"), os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return e, fmt.Errorf("samlocal: %w", err)
	}
	if syscall.Flock(int(e.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		e.logf("waiting for another run of the engine to end")
		if err := syscall.Flock(int(e.lock.Fd()), syscall.LOCK_EX); err != nil {
			return e, fmt.Errorf("samlocal: lock %s: %w", e.lock.Name(), err)
		}
	}
	if e.net, err = snapshotNet(); err != nil {
		return e, err
	}
	if e.fwd, err = newForwarder(filepath.Join(o.Dir, "hook.sock")); err != nil {
		return e, err
	}
	if err := e.writeConfig(o); err != nil {
		return e, err
	}
	step := time.Now()
	if err := e.startService(ctx, o.Dir); err != nil {
		return e, err
	}
	e.logf("podman service up in %v", time.Since(step).Round(time.Millisecond))
	step = time.Now()
	if e.binfmt, err = registerAarch64(); err != nil {
		return e, err
	}
	e.logf("arm64 emulation: %s (%v)", e.binfmt, time.Since(step).Round(time.Millisecond))
	step = time.Now()
	built, err := e.standIn(ctx)
	if err != nil {
		return e, err
	}
	e.logf("stand-in image %s: %s (%v)", StandIn, built, time.Since(step).Round(time.Millisecond))
	return e, nil
}

func (e *Engine) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "samlocal: "+format+"\n", args...)
}

// Forward sets the loopback ports that each Lambda container started from
// now on can reach on the host's 127.0.0.1, at the same addresses.
func (e *Engine) Forward(ports ...int) { e.fwd.setPorts(ports) }

// writeConfig writes the project's containers.conf with the run's own
// settings: the containers' added variables and the hooks that open the
// forwarded ports in each Lambda container (forward.go).
func (e *Engine) writeConfig(o Options) error {
	hooks := filepath.Join(o.Dir, "hooks.d")
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
	conf = strings.Replace(conf, "[containers]\n", "[containers]\nenv = "+tomlList(o.Env)+"\n", 1)
	conf = strings.Replace(conf, "[engine]\n", "[engine]\nhooks_dir = "+tomlList([]string{hooks})+"\n", 1)
	if err := os.WriteFile(e.conf, []byte(conf), 0o600); err != nil {
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
		fmt.Fprintf(&b, "%q", s)
	}
	b.WriteByte(']')
	return b.String()
}

// podman runs the podman command line with the engine's configuration.
func (e *Engine) podman(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+e.conf)
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (e *Engine) startService(ctx context.Context, dir string) error {
	sock := filepath.Join(dir, "podman.sock")
	logf, err := os.Create(filepath.Join(dir, "podman-service.log"))
	if err != nil {
		return fmt.Errorf("samlocal: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("podman", "system", "service", "--time=0", "unix://"+sock)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+e.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, ended by Close; and ended with this process
	// if it dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("samlocal: start podman system service: %w", err)
	}
	e.service, e.stopped = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(e.stopped) }()
	e.Host = "unix://" + sock
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}, Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-e.stopped:
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

// Close removes the Lambda containers the run started, stops the
// service, and removes the arm64 registration, the bridges and the
// iptables chains that were not there before Start. It reports what it
// could not undo. Calls after the first return the first's result.
func (e *Engine) Close() error {
	e.closing.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Engine) close() error {
	var errs []error
	if e.fwd != nil {
		// Gone already, normally: the SAM CLI removes its containers.
		if ids := e.fwd.containers(); len(ids) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			if _, err := e.podman(ctx, nil, append([]string{"rm", "--force", "--ignore", "--time", "0"}, ids...)...); err != nil {
				errs = append(errs, err)
			}
			cancel()
		}
	}
	if e.service != nil {
		syscall.Kill(-e.service.Process.Pid, syscall.SIGTERM)
		select {
		case <-e.stopped:
		case <-time.After(15 * time.Second):
			syscall.Kill(-e.service.Process.Pid, syscall.SIGKILL)
			<-e.stopped
		}
	}
	if e.fwd != nil {
		e.fwd.close()
	}
	if e.net != nil {
		errs = append(errs, e.net.restore()...)
	}
	if err := e.binfmt.undo(); err != nil {
		errs = append(errs, err)
	}
	if e.lock != nil {
		e.lock.Close() // and with it the lock
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("samlocal: tear down: %w", err)
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

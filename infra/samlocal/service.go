//go:build linux

package samlocal

import (
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

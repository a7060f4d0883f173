//go:build linux

package samlocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a run sets up on the machine is written down before it is set up,
// in stateDir, which also holds the run's podman configuration and its
// network's; Close removes it all. A run that ends without its teardown
// (killed, timed out, panicked) leaves the record, and the next run's
// Start removes what it names before anything else.
const (
	stateDir = "/run/sessionguard-samlocal"
	lockPath = "/run/lock/sessionguard-samlocal.lock"
)

// runState is a run's record of what it set up.
type runState struct {
	Pid        int      `json:"pid"`                  // the run's process
	Service    int      `json:"service,omitempty"`    // its podman system service
	Socket     string   `json:"socket,omitempty"`     // the service's socket
	Containers []string `json:"containers,omitempty"` // every Lambda container started
	// CNI's shared port-forwarding chains were not there before the run.
	PortmapNew bool `json:"portmapNew,omitempty"`
	// The run turned IP forwarding on.
	IPForwardSet bool        `json:"ipForwardSet,omitempty"`
	Binfmt       binfmtState `json:"binfmt"`
}

// files of a state folder.
type stateFiles string

func (d stateFiles) record() string  { return filepath.Join(string(d), "state.json") }
func (d stateFiles) conf() string    { return filepath.Join(string(d), "containers.conf") }
func (d stateFiles) netConf() string { return filepath.Join(string(d), "net.d") }
func (d stateFiles) ipam() string    { return filepath.Join(string(d), "ipam") }

// save writes the record whole (a new file renamed over the old).
func (d stateFiles) save(st *runState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := d.record() + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("samlocal: record the run's state: %w", err)
	}
	if err := os.Rename(tmp, d.record()); err != nil {
		return fmt.Errorf("samlocal: record the run's state: %w", err)
	}
	return nil
}

// load reads a record a run left; nil if there is none.
func (d stateFiles) load() (*runState, error) {
	b, err := os.ReadFile(d.record())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("samlocal: %w", err)
	}
	var st runState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("samlocal: %s: %w", d.record(), err)
	}
	return &st, nil
}

// runner runs a command of the host and returns its standard output;
// tests give recorded output instead.
type runner func(name string, args ...string) ([]byte, error)

func hostRun(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// podmanRun runs the podman command line with a configuration.
func podmanRun(conf string) runner {
	return func(name string, args ...string) ([]byte, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
}

// removeContainers forces out the run's containers: those it recorded and
// any other on its network (such as the SAM CLI's image builds).
func removeContainers(podman runner, st *runState) error {
	ids := append([]string(nil), st.Containers...)
	out, err := podman("podman", "ps", "--all", "--quiet", "--no-trunc", "--filter", "network="+NetworkName)
	if err != nil {
		return err
	}
	for _, id := range lines(out) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = podman("podman", append([]string{"rm", "--force", "--ignore", "--time", "0"}, ids...)...)
	return err
}

// removeLeftovers removes what a run recorded and could not tear down:
// its service if it still runs, then all tearDown removes.
func removeLeftovers(d stateFiles, st *runState) error {
	if st.Service != 0 && st.Socket != "" {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(st.Service) + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte("system\x00service")) && bytes.Contains(cmdline, []byte(st.Socket)) {
			syscall.Kill(st.Service, syscall.SIGKILL)
		}
	}
	return errors.Join(tearDown(d, st)...)
}

// tearDown removes what a run recorded, its service stopped: its
// containers, its network, IP forwarding if it turned it on, its
// binfmt_misc entry and mount; then, if all went, the record.
func tearDown(d stateFiles, st *runState) []error {
	var errs []error
	if _, err := os.Stat(d.conf()); err == nil {
		if err := removeContainers(podmanRun(d.conf()), st); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, removeNetwork(hostRun, st, cniResults)...)
	if err := restoreForwarding(ipForward, st); err != nil {
		errs = append(errs, err)
	}
	if err := st.Binfmt.undo(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errs
	}
	if err := clearState(d); err != nil {
		return []error{err}
	}
	return nil
}

// clearState removes the state folder's files (the record last), and
// the folder.
func clearState(d stateFiles) error {
	for _, p := range []string{d.conf(), d.netConf(), d.ipam()} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	if err := os.Remove(d.record()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	os.Remove(string(d)) // if empty
	return nil
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

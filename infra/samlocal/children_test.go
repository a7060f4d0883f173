//go:build linux

package samlocal_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// children are the run's sam commands while they run. Each runs in a
// process group of its own (the SAM CLI starts processes of its own),
// which is sent SIGTERM if this process dies first (Pdeathsig); abort
// stops them all before it tears the engine down.
type children struct {
	mu      sync.Mutex
	running map[*child]bool
	stopped bool
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited and been waited for
	err  error
}

// groupAttrs start a command in a process group of its own, sent SIGTERM
// when this process dies.
func groupAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// start starts cmd and waits for it in the background; it refuses once
// stop was called.
func (c *children) start(cmd *exec.Cmd) (*child, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, errors.New("the run is being torn down")
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, done: make(chan struct{})}
	if c.running == nil {
		c.running = map[*child]bool{}
	}
	c.running[ch] = true
	go func() {
		ch.err = cmd.Wait()
		c.mu.Lock()
		delete(c.running, ch)
		c.mu.Unlock()
		close(ch.done)
	}()
	return ch, nil
}

func (c *children) run(cmd *exec.Cmd) error {
	ch, err := c.start(cmd)
	if err != nil {
		return err
	}
	return ch.wait()
}

func (ch *child) wait() error {
	<-ch.done
	return ch.err
}

// end sends the command's group SIGTERM unless it has exited, and waits
// for it.
func (ch *child) end() error {
	select {
	case <-ch.done:
	default:
		syscall.Kill(-ch.cmd.Process.Pid, syscall.SIGTERM)
	}
	return ch.wait()
}

// closed is a channel that is always ready.
var closed = func() chan time.Time { c := make(chan time.Time); close(c); return c }()

// stop ends every command running: SIGTERM to each one's group, SIGKILL
// to the groups of those still running after grace. No command starts
// after it.
func (c *children) stop(grace time.Duration) {
	c.mu.Lock()
	c.stopped = true
	var all []*child
	for ch := range c.running {
		all = append(all, ch)
	}
	c.mu.Unlock()
	for _, ch := range all {
		select {
		case <-ch.done:
		default:
			syscall.Kill(-ch.cmd.Process.Pid, syscall.SIGTERM)
		}
	}
	late := time.After(grace)
	for _, ch := range all {
		select {
		case <-ch.done:
			continue
		case <-late:
			late = closed // the rest get SIGKILL at once
		}
		syscall.Kill(-ch.cmd.Process.Pid, syscall.SIGKILL)
		<-ch.done
	}
}

// An aborted run ends its sam commands whole, each process of each
// group: the ones that stop on SIGTERM at once, one that ignores it after
// the grace period. Then no command starts.
func TestChildrenStopEndsTheirGroups(t *testing.T) {
	var c children
	// A shell whose own child stays behind it: its pid on stdout.
	polite := exec.Command("sh", "-c", "sleep 300 & echo $!; wait")
	polite.SysProcAttr = groupAttrs()
	grandchild := readPid(t, &c, polite)
	// A shell that ignores SIGTERM (its sleeps do not).
	stubborn := exec.Command("sh", "-c", `trap "" TERM; echo $$; while :; do sleep 1; done`)
	stubborn.SysProcAttr = groupAttrs()
	readPid(t, &c, stubborn)

	start := time.Now()
	c.stop(500 * time.Millisecond)
	took := time.Since(start)
	if took < 500*time.Millisecond || took > 5*time.Second {
		t.Errorf("stop took %v; want the grace period (500ms) for the one that ignores SIGTERM, and no more than a few seconds", took)
	}
	if !gone(grandchild, 5*time.Second) {
		t.Errorf("the polite shell's own child %d still runs after stop", grandchild)
	}
	if len(c.running) != 0 {
		t.Errorf("%d commands still running after stop", len(c.running))
	}
	if _, err := c.start(exec.Command("true")); err == nil {
		t.Error("start after stop = nil error; want a refusal")
	}
}

// readPid starts cmd with c and reads the pid it prints first.
func readPid(t *testing.T, c *children, cmd *exec.Cmd) int {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); ch.wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// gone waits up to d for a process to end (a zombie counts as ended: no
// one may reap it here).
func gone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if _, rest, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(rest, "Z") {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// orphanHelper makes the test binary start a command as sam() does,
// print its pid and wait to be killed.
const orphanHelper = "SAMLOCAL_TEST_ORPHAN_HELPER"

func runOrphanHelper() int {
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = groupAttrs()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(cmd.Process.Pid)
	select {}
}

// A run killed outright (SIGKILL: no abort) still ends its sam commands:
// each gets SIGTERM when the test process dies.
func TestSamEndsWithTheRun(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(exe, "-test.run=^$")
	helper.Env = append(os.Environ(), orphanHelper+"=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		helper.Process.Kill()
		helper.Wait()
		t.Fatal(err)
	}
	sleep, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	helper.Process.Kill()
	helper.Wait()
	if !gone(sleep, 5*time.Second) {
		syscall.Kill(sleep, syscall.SIGKILL)
		t.Fatalf("the command %d the killed process started still runs", sleep)
	}
}

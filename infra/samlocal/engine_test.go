//go:build linux

package samlocal

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Stopping a group twice, or after it ended, returns at once; a command
// that ignores SIGTERM gets SIGKILL after the grace period.
func TestGroupStop(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" TERM; echo ready; while :; do sleep 1; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	g, err := startGroup(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil { // the trap is set
		t.Fatal(err)
	}
	start := time.Now()
	g.stop(300 * time.Millisecond)
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("stop took %v; want the grace period, 300ms, and not much more", took)
	}
	start = time.Now()
	g.stop(time.Minute)
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("a second stop took %v", took)
	}
	done, err := startGroup(exec.Command("true"))
	if err != nil {
		t.Fatal(err)
	}
	<-done.stopped
	start = time.Now()
	done.stop(time.Minute)
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("stop of an ended command took %v", took)
	}
}

// Close stops a Start still waiting for another run, which then returns;
// Close has nothing to undo, and Start after Close refuses. Nothing
// before the lock needs the machine but checkMachine, which the test
// passes over: it needs nothing but Go.
func TestCloseStopsAStartUnderWay(t *testing.T) {
	dir := t.TempDir()
	other, err := lockMachine(context.Background(), filepath.Join(dir, "lock"), func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	log := &syncBuffer{}
	e := New(Options{Dir: dir, Log: log})
	e.lockPath, e.files = filepath.Join(dir, "lock"), stateFiles(filepath.Join(dir, "state"))
	e.check = func() error { return nil }
	started := make(chan error, 1)
	go func() { started <- e.Start(context.Background()) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), "waiting for another run"); {
		select {
		case err := <-started:
			t.Fatalf("Start = %v before it waited for the other run's lock", err)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Close()
			t.Fatalf("Start did not wait for the other run's lock within 10s; its log: %q", log.String())
		}
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	select {
	case err := <-started:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Start = %v; want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Start still under way a second after Close returned")
	}
	if _, err := os.Stat(string(e.files)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a Start that never had the lock made its state folder: %v", err)
	}
	if err := e.Start(context.Background()); err == nil {
		t.Error("Start after Close = nil error")
	}
	// The lock is still the other run's.
	f, err := os.Open(filepath.Join(dir, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Errorf("flock of the other run's lock = %v; want EWOULDBLOCK", err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

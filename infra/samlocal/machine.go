//go:build linux

package samlocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"golang.org/x/sys/unix"
)

// checkMachine checks what Start needs of the machine: root (rootful
// podman, binfmt_misc and network namespaces) and the engine's tools.
func checkMachine() error {
	if os.Geteuid() != 0 {
		return errors.New("samlocal: needs root: rootful podman, binfmt_misc and network namespaces")
	}
	for _, tool := range []string{"podman", "runc", "iptables", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("samlocal: %s is not installed (make sam-local-deps installs it: infra/samlocal/deps.sh): %w", tool, err)
		}
	}
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

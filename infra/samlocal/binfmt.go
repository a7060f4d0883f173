//go:build linux

package samlocal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The template deploys arm64 functions. On another machine the kernel
// runs arm64 binaries through qemu-user-static, registered with
// binfmt_misc; flag F opens the interpreter once at registration, from
// wherever it is (here, the folder make sam-local-deps extracts it into),
// so it also runs inside containers, which do not have it.
const (
	binfmtDir  = "/proc/sys/fs/binfmt_misc"
	binfmtName = "sessionguard-aarch64"
	// Where Debian's qemu-user-static package has it, under Options.Tools.
	qemuAarch64 = "usr/bin/qemu-aarch64-static"
	// The ELF header of a 64-bit little-endian aarch64 executable, and the
	// bytes of it that must match (as Debian's qemu-user-static registers).
	aarch64Magic = `\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00`
	aarch64Mask  = `\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`
	// The same, as /proc/sys/fs/binfmt_misc/<entry> prints them.
	aarch64MagicHex = "7f454c460201010000000000000000000200b700"
)

// binfmtState is what registerAarch64 changed, for undo.
type binfmtState struct {
	native     bool   // the machine is arm64: nothing to do
	existing   string // an entry registered by someone else, used as is
	Registered bool   `json:"registered,omitempty"` // binfmtName was registered by the run
	Mounted    bool   `json:"mounted,omitempty"`    // binfmt_misc was mounted by the run
}

func (b binfmtState) String() string {
	switch {
	case b.native:
		return "native"
	case b.existing != "":
		return "the machine's binfmt_misc entry " + b.existing
	default:
		s := "qemu-aarch64-static registered as " + binfmtName + " (flag F)"
		if b.Mounted {
			s += ", binfmt_misc mounted"
		}
		return s
	}
}

// registerAarch64 makes arm64 binaries run here: nothing on an arm64
// machine, an enabled entry with flag F if the machine has one, else our
// own entry for qemu (mounting binfmt_misc first if needed). It calls
// record with what it is about to change before each change.
func registerAarch64(qemu string, record func(binfmtState) error) (binfmtState, error) {
	var b binfmtState
	if isArm64() {
		b.native = true
		return b, nil
	}
	if _, err := os.Stat(filepath.Join(binfmtDir, "register")); err != nil {
		b.Mounted = true
		if err := record(b); err != nil {
			return b, err
		}
		if err := unix.Mount("binfmt_misc", binfmtDir, "binfmt_misc", 0, ""); err != nil {
			b.Mounted = false
			return b, fmt.Errorf("samlocal: mount binfmt_misc on %s: %w", binfmtDir, err)
		}
	}
	entries, _ := os.ReadDir(binfmtDir)
	for _, e := range entries {
		if e.Name() == "register" || e.Name() == "status" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(binfmtDir, e.Name()))
		if err != nil {
			continue
		}
		s := string(raw)
		if strings.HasPrefix(s, "enabled") && strings.Contains(s, "magic "+aarch64MagicHex) {
			if !flagF(s) {
				return b, fmt.Errorf("samlocal: binfmt_misc entry %s runs arm64 binaries without flag F, so not inside containers: disable it (echo 0 > %s) or re-register it with F", e.Name(), filepath.Join(binfmtDir, e.Name()))
			}
			if e.Name() == binfmtName { // left by a run that could not tear down
				b.Registered = true
				return b, record(b)
			}
			b.existing = e.Name()
			return b, nil
		}
	}
	if err := isStatic(qemu); err != nil {
		return b, fmt.Errorf("%w (make sam-local-deps extracts Debian's qemu-user-static into Options.Tools)", err)
	}
	b.Registered = true
	if err := record(b); err != nil {
		return b, err
	}
	rule := fmt.Sprintf(":%s:M::%s:%s:%s:F", binfmtName, aarch64Magic, aarch64Mask, qemu)
	if err := os.WriteFile(filepath.Join(binfmtDir, "register"), []byte(rule), 0); err != nil {
		b.Registered = false
		return b, fmt.Errorf("samlocal: register %s with binfmt_misc: %w", qemu, err)
	}
	return b, nil
}

func flagF(entry string) bool {
	for _, l := range strings.Split(entry, "\n") {
		if f, ok := strings.CutPrefix(l, "flags: "); ok {
			return strings.Contains(f, "F")
		}
	}
	return false
}

// undo removes the run's entry, and unmounts binfmt_misc if the run
// mounted it and no one has registered an entry since.
func (b binfmtState) undo() error {
	var errs []error
	if b.Registered {
		if err := os.WriteFile(filepath.Join(binfmtDir, binfmtName), []byte("-1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove the binfmt_misc entry %s: %w", binfmtName, err))
		}
	}
	if b.Mounted {
		entries, err := os.ReadDir(binfmtDir)
		if err != nil {
			errs = append(errs, err)
		} else if onlyControlFiles(entries) {
			if err := unix.Unmount(binfmtDir, 0); err != nil && !errors.Is(err, unix.EINVAL) { // EINVAL: not mounted
				errs = append(errs, fmt.Errorf("unmount %s: %w", binfmtDir, err))
			}
		}
	}
	return errors.Join(errs...)
}

// onlyControlFiles reports whether a binfmt_misc folder holds no entry:
// only its register and status files (or nothing: not mounted).
func onlyControlFiles(entries []os.DirEntry) bool {
	for _, e := range entries {
		if e.Name() != "register" && e.Name() != "status" {
			return false
		}
	}
	return true
}

func isArm64() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	return unix.ByteSliceToString(u.Machine[:]) == "aarch64"
}

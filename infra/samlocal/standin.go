//go:build linux

package samlocal

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// StandIn is the local stand-in for AWS's provided.al2023 arm64 base image
// (public.ecr.aws/lambda/provided:al2023-arm64), for machines that cannot
// reach a registry; `sam local` uses it through --invoke-image. It is not
// AWS's image: it holds only what the SAM CLI and a Go function need.
const StandIn = "localhost/sessionguard/lambda-provided:al2023-arm64"

// standInRapid is the image the SAM CLI builds on top of StandIn (with its
// own emulator); it is rebuilt when the stand-in changes.
const standInRapid = "localhost/sessionguard/lambda-provided:rapid-arm64"

const standInLabel = "sessionguard.standin"

// The configuration of AWS's image, which the SAM CLI and the functions
// rely on.
var standInChanges = []string{
	"ENV LANG=en_US.UTF-8",
	"ENV TZ=:/etc/localtime",
	"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
	"ENV LAMBDA_TASK_ROOT=/var/task",
	"ENV LAMBDA_RUNTIME_DIR=/var/runtime",
	"WORKDIR /var/task",
	`ENTRYPOINT ["/lambda-entrypoint.sh"]`,
}

// AWS's image's entry point (outside the SAM CLI, which replaces it).
const lambdaEntrypoint = `#!/bin/sh
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie $RUNTIME_ENTRYPOINT
else
  exec $RUNTIME_ENTRYPOINT
fi
`

// The files the stand-in copies: a static busybox where Debian's
// busybox-static package has it, under Options.Tools, and the host's CA
// bundle.
const (
	busyboxPath  = "bin/busybox"
	caBundlePath = "/etc/ssl/certs/ca-certificates.crt"
)

// standIn imports the stand-in image unless the one in store was built
// from the same files; it says which it did.
func (e *Engine) standIn(ctx context.Context) (string, error) {
	rootfs, err := standInRootfs(filepath.Join(e.o.Tools, busyboxPath))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(rootfs)
	digest := hex.EncodeToString(sum[:8])
	out, err := e.podman(ctx, nil, "image", "inspect", "--format", `{{index .Labels "`+standInLabel+`"}}`, StandIn)
	if err == nil && strings.TrimSpace(string(out)) == digest {
		return "up to date", nil
	}
	args := []string{"import", "--quiet", "--os", "linux", "--arch", "arm64", "--change", "LABEL " + standInLabel + "=" + digest}
	for _, c := range standInChanges {
		args = append(args, "--change", c)
	}
	if _, err := e.podman(ctx, bytes.NewReader(rootfs), append(args, "-", StandIn)...); err != nil {
		return "", fmt.Errorf("samlocal: import the stand-in image: %w", err)
	}
	// The SAM CLI builds its image on the stand-in once; a new stand-in
	// needs a new one.
	e.podman(ctx, nil, "rmi", "--force", "--ignore", standInRapid)
	return "imported", nil
}

// standInRootfs is the stand-in's file system as a tar archive, the same
// bytes for the same host files: a static busybox (the SAM CLI's
// Dockerfile runs mv and chmod), the CA bundle at Amazon Linux's path,
// /etc/passwd, and the folders Lambda mounts and fills.
func standInRootfs(busyboxPath string) ([]byte, error) {
	busybox, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, fmt.Errorf("samlocal: the stand-in image needs a static busybox (make sam-local-deps extracts Debian's busybox-static into Options.Tools): %w", err)
	}
	if err := isStatic(busyboxPath); err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(caBundlePath)
	if err != nil {
		return nil, fmt.Errorf("samlocal: the stand-in image needs the CA bundle (ca-certificates): %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dir := func(name string, mode int64) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: epoch})
	}
	file := func(name string, mode int64, body []byte) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: epoch})
		tw.Write(body)
	}
	link := func(name, target string) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: epoch})
	}
	for _, d := range []string{"bin", "dev", "etc", "etc/pki", "etc/pki/tls", "etc/pki/tls/certs", "etc/ssl", "opt", "proc", "root", "sys",
		"usr", "usr/bin", "usr/local", "usr/local/bin", "var", "var/rapid", "var/runtime", "var/task"} {
		dir(d, 0o755)
	}
	dir("tmp", 0o1777)
	file("bin/busybox", 0o755, busybox)
	for _, applet := range []string{"sh", "mv", "chmod", "cp", "rm", "mkdir", "ls", "cat", "env"} {
		link("bin/"+applet, "busybox")
	}
	file("etc/pki/tls/certs/ca-bundle.crt", 0o644, ca)
	link("etc/ssl/certs", "../pki/tls/certs")
	file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"))
	file("etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\n"))
	file("lambda-entrypoint.sh", 0o755, []byte(lambdaEntrypoint))
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("samlocal: the stand-in's file system: %w", err)
	}
	return buf.Bytes(), nil
}

// isStatic fails unless path is a statically linked executable: the
// stand-in has no C library, and qemu runs inside containers.
func isStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("samlocal: %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("samlocal: %s is dynamically linked; it must be static", path)
		}
	}
	return nil
}

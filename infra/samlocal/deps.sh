#!/bin/sh
# What make sam-local needs on Debian (docs/deploying.md), as root:
#   - the engine's packages, installed with apt-get where missing; apt-get
#     may not remove a package for them (--no-remove), and a package counts
#     as installed only in dpkg's "install ok installed" state;
#   - qemu-aarch64-static and a static busybox, from Debian's
#     qemu-user-static and busybox-static, extracted into the folder given
#     as the only argument instead of installed: each package conflicts
#     with one a machine may have (qemu-user-binfmt, busybox), and the run
#     needs one file of each (binfmt_misc's flag F opens qemu from any
#     path). Remove the folder to fetch them again.
set -eu
tools=$1
export DEBIAN_FRONTEND=noninteractive

packages="podman runc containernetworking-plugins iptables iproute2 ca-certificates"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing$missing for make sam-local"
	apt-get install -y -q --no-install-recommends --no-remove $missing >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends --no-remove $missing >/dev/null; }
fi

download=""
trap 'if [ -n "$download" ]; then rm -rf "$download"; fi' EXIT
# extract package file: the one file of a package's contents.
extract() {
	[ -x "$tools/$2" ] && return 0
	echo "extracting $2 of Debian's $1 into $tools"
	[ -n "$download" ] || download=$(mktemp -d)
	get="apt-get download -q -o APT::Sandbox::User=root $1"
	(cd "$download" && { $get >/dev/null 2>&1 || { apt-get update -q >/dev/null && $get >/dev/null; }; })
	mkdir -p "$tools"
	dpkg-deb --fsys-tarfile "$download/$1"_*.deb | tar -x -C "$tools" "./$2"
}
extract qemu-user-static usr/bin/qemu-aarch64-static
extract busybox-static bin/busybox

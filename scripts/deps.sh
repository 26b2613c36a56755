#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# deps.sh GROUP... - make sure the Debian packages a target needs are installed.
#
#   build    compiler, pkg-config, python3, CMocka, liburcu, libsodium (every build)
#   vm       a kernel image with headers, QEMU, busybox (linux-check: the module in a guest)
#   nested   the kernel's source (nested-check rebuilds KVM with patches/kvm; with vm)
#   cpu      qemu-user (the programs on emulated CPUs without POPCNT or SSE4.2)
#   fuzz     clang and libFuzzer (make fuzz)
#   model    spin (make model)
#   bench    gnuplot (make bench's plots)
#   dkms     dkms (make check builds the module through it)
#   deb      debhelper, dh-dkms, lintian, dkms, kernel headers (make deb-check:
#            the Debian packages)
#   net      iproute2: ip and tc (make netns-check: two hosts in network namespaces)
#   all      every group
#
# Installed packages are found with dpkg. What is missing is installed with
# `apt-get update` and `apt-get install -y` when running as root; otherwise
# the exact command is printed and the script exits 1, so that make stops
# before compiling anything. On a system without dpkg it checks what
# pkg-config can see and names the Debian packages it would need.
set -u

pkgs_build="build-essential pkg-config python3 libcmocka-dev liburcu-dev libsodium-dev"
# Without recommends: QEMU's GUI stack is not needed (its BIOS is a hard dependency).
pkgs_vm="linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static"
pkgs_nested="linux-source-6.1"
pkgs_cpu="qemu-user"
pkgs_fuzz="clang libfuzzer-14-dev libclang-rt-14-dev"
pkgs_model="spin"
pkgs_bench="gnuplot-nox"
pkgs_dkms="dkms"
pkgs_deb="build-essential dpkg-dev debhelper dh-dkms fakeroot lintian dkms linux-headers-amd64"
pkgs_net="iproute2 python3"
norecommends="vm nested dkms deb"

[ $# -gt 0 ] || set -- build
groups=
for g in "$@"; do
	case $g in
	all) groups="$groups build vm nested cpu fuzz model bench dkms deb net" ;;
	build|vm|nested|cpu|fuzz|model|bench|dkms|deb|net) groups="$groups $g" ;;
	*) echo "deps.sh: unknown group '$g' (build vm nested cpu fuzz model bench dkms deb net all)" >&2; exit 2 ;;
	esac
done

if ! command -v dpkg >/dev/null 2>&1; then
	# Not Debian: say what is missing by its pkg-config name, with the Debian package.
	bad=
	for m in "cmocka libcmocka-dev" "liburcu-memb liburcu-dev" "libsodium libsodium-dev"; do
		pkg-config --exists "${m% *}" 2>/dev/null || bad="$bad ${m% *} (Debian: ${m#* })"
	done
	if [ -n "$bad" ]; then
		echo "deps.sh: missing libraries:$bad" >&2
		exit 1
	fi
	exit 0
fi

missing() {	# missing PKG...: those dpkg does not have installed
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || printf ' %s' "$p"
	done
}

plain= norec=
for g in $groups; do
	eval "want=\$pkgs_$g"
	for p in $(missing $want); do
		case "$plain$norec " in *" $p "*) continue ;; esac	# in two groups
		case " $norecommends " in
		*" $g "*) norec="$norec $p" ;;
		*) plain="$plain $p" ;;
		esac
	done
done
[ -n "$plain$norec" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$plain$norec" >&2
	echo "deps.sh: install them as root, then run make again:" >&2
	echo "  apt-get update${plain:+ && apt-get install -y$plain}${norec:+ && apt-get install -y --no-install-recommends$norec}" >&2
	exit 1
fi
echo "deps.sh: installing:$plain$norec"
export DEBIAN_FRONTEND=noninteractive
apt-get update || exit 1
if [ -n "$plain" ]; then apt-get install -y $plain || exit 1; fi
if [ -n "$norec" ]; then apt-get install -y --no-install-recommends $norec || exit 1; fi

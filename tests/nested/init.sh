#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# init.sh - /init of the nested-check initramfs (busybox-static and the
# virtio/9p modules). Mounts the host's root filesystem read-only over 9p
# (mount tag "hostroot"), gives it a private /proc, /sys, /dev and a tmpfs
# /tmp, and runs the plan (guest-plan.sh, from the project's own tree on
# the share) chrooted there: the test binaries, their libraries, python3
# and the kernel modules are then the host's own files, unchanged.
#
# Every line the host driver parses starts with "NESTED: ". A heartbeat
# line every few seconds lets the driver tell a stalled guest (no line for
# a while) from a slow test; the last line is "NESTED: exit RC".
/bin/busybox mkdir -p /proc /sys /dev /host
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

die() {
	echo "NESTED: exit 1 ($*)"
	poweroff -f
}

echo "NESTED: boot $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
for m in $(cat /modules.order); do
	insmod "/mod/$m" || die "insmod $m"
done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host ||
	die "mount the host's root over 9p"
for d in proc sys dev tmp run; do
	[ -d /host/$d ] || die "/$d missing on the host's root"
done
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
root=$(sed -n 's/.*sdroot=\([^ ]*\).*/\1/p' /proc/cmdline)
build=$(sed -n 's/.*sdbuild=\([^ ]*\).*/\1/p' /proc/cmdline)
plan=$(sed -n 's/.*sdplan=\([^ ]*\).*/\1/p' /proc/cmdline)
# A tree under /tmp (a clone made there) must stay visible under the guest's own /tmp.
keep=
for d in "$root" "$build"; do
	case "$d" in "$root"/*) continue ;; esac	# inside the tree: it comes with it
	case "$d" in
	/tmp/*) n=/keep$(echo "$keep" | wc -w)
		mkdir -p "$n" && mount -o bind "/host$d" "$n" || die "bind $d"
		keep="$keep $n=$d" ;;
	esac
done
mount -t tmpfs -o size=512m tmpfs /host/tmp
for k in $keep; do
	mkdir -p "/host${k#*=}" && mount -o bind "${k%%=*}" "/host${k#*=}" || die "bind ${k#*=} back"
done
mount -t tmpfs tmpfs /host/run
# The migration tests talk over TCP on 127.0.0.1.
ip link set lo up || die "loopback"

# tests/nested/test-watchdog.sh: a guest that stalls (silent) or never ends (busy).
case " $(cat /proc/cmdline) " in
*" sdtest=silent "*) echo "NESTED: going silent"; exec sleep 100000 ;;
*" sdtest=busy "*) echo "NESTED: busy forever"; while :; do sleep 5; echo "NESTED: alive"; done ;;
esac

# Heartbeat: the driver fails the run when the console stays silent.
(while :; do sleep 5; echo "NESTED: alive"; done) &

chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TMPDIR=/tmp \
	/bin/sh "$root/tests/nested/guest-plan.sh" "$root" "$build" "$plan"
echo "NESTED: exit $?"
poweroff -f

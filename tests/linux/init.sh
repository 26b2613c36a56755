#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# init.sh - /init of the linux-check initramfs (busybox-static + sev_donate.ko).
#
# Loads the module with the arguments in /modargs, then obeys one command a
# line from the serial console, so the host test drives every step and no
# step depends on timing. Every reply line starts with "SDT: "; a command
# ends with "SDT: ok CMD" or "SDT: err CMD RC".
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
stty -echo 2>/dev/null
D=/sys/kernel/debug/sev_donate

echo "SDT: boot $(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
insmod /sev_donate.ko $(cat /modargs)
rc=$?
if [ $rc -ne 0 ]; then
	echo "SDT: err insmod $rc"
	poweroff -f
fi
echo "SDT: ready"

# show FILE: each line of FILE as "SDT: TAG line"
show() {
	sed "s/^/SDT: $2 /" "$1"
}

while read -r cmd arg; do
	case "$cmd" in
	"") continue ;;
	info)        show $D/info info ;;
	pool)        show $D/pool pool ;;
	ledger)      show $D/ledger ledger ;;
	stats)       show $D/churn stats ;;
	churn-start) echo "start $arg" > $D/churn ;;
	churn-stop)  echo stop > $D/churn ;;
	convert)     echo "$arg" > $D/convert ;;
	register)    echo "$arg" > $D/register ;;
	rmmod)       rmmod sev_donate ;;
	insmod)      insmod /sev_donate.ko ${arg:-$(cat /modargs)} ;;
	dmesg)       dmesg | sed 's/^/SDT: dmesg /' ;;
	poweroff)    echo "SDT: ok poweroff"; poweroff -f ;;
	*)           false ;;
	esac
	rc=$?
	if [ $rc -eq 0 ]; then echo "SDT: ok $cmd"; else echo "SDT: err $cmd $rc"; fi
done
echo "SDT: console closed"
poweroff -f

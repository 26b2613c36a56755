#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# find-kernel.sh - print the newest kernel release that has both an image in
# /boot and its headers (Debian's linux-image-amd64 and linux-headers-amd64
# install a matching pair). Prints nothing, and exits 1, if there is none.
# The running kernel does not matter: the module is for the kernel we boot.
best=""
for img in /boot/vmlinuz-*; do
	[ -r "$img" ] || continue
	rel=${img#/boot/vmlinuz-}
	[ -f "/lib/modules/$rel/build/Makefile" ] || continue
	best="$best
$rel"
done
best=$(printf '%s\n' "$best" | sed '/^$/d' | sort -V | tail -n 1)
[ -n "$best" ] || exit 1
echo "$best"

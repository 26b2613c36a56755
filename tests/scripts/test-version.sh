#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-version.sh - the version is written in one place, include/sd_version.h:
# debian/changelog's newest entry must say the same (Debian takes the
# packages' version from it), and nothing else in debian/, the manual or the
# DKMS template writes a version of its own (they get it from make).
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib/checks.sh"
checks_begin
version=$(sd_version "$root")
echo "version: $version" >"$d/out"
echo "$version" | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$'; ok "sd_version.h: $version" $?
# The first line of debian/changelog: "sev-donate (VERSION) DIST; urgency=...".
cl=$(sed -n '1s/^sev-donate (\([^)]*\)) .*/\1/p' "$root/debian/changelog")
echo "debian/changelog: '$cl'" >"$d/out"
[ "$cl" = "$version" ]; ok "debian/changelog's newest entry is $version" $?
# No other copy of the version: debian/ (but the changelog and the symbols
# file, whose entries are the versions that introduced each symbol), the
# manual's source and dkms.conf.in.
grep -rnF "$version" "$root/debian" "$root/docs/man" "$root/guest/linux/dkms.conf.in" |
	grep -v "^$root/debian/changelog:\|^$root/debian/libsev-donate1.symbols:" >"$d/out"
[ ! -s "$d/out" ]; ok "no other copy of $version in debian/, docs/man/, dkms.conf.in" $?
checks_end version

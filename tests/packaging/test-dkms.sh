#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-dkms.sh ROOT BUILD [SAN] - sev_donate.ko through DKMS, as the
# sev-donate-dkms package has it built: the module's source tree as `make
# install-dkms` installs it (or, with SD_DKMS_SRC=DIR, the tree DIR, e.g. the
# one extracted from the package), then `dkms add`, `dkms build -k KVER`
# against installed kernel headers, the built module's modinfo, `dkms remove`.
#
# DKMS works on a private source tree, DKMS tree and signing key here
# (--sourcetree, --dkmstree, mok_signing_key), so /usr/src, /var/lib/dkms and
# /lib/modules are only read. The kernel: the running one if its headers are
# installed, otherwise the newest /lib/modules/*/build (Debian 12:
# linux-headers-amd64, 6.1); SD_DKMS_KVER=VERSION picks another. Without dkms
# or any kernel headers: a loud SKIP.
root=$1 san=$3
if [ -n "$san" ]; then
	echo "SKIP: a sanitizer build ($san): the module's DKMS build has nothing sanitizer-specific"
	exit 77
fi
if ! command -v dkms >/dev/null 2>&1; then
	echo "SKIP: no dkms (apt-get install dkms, or scripts/deps.sh deb)"
	exit 77
fi
kver=${SD_DKMS_KVER:-}
if [ -z "$kver" ]; then
	if [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
		kver=$(uname -r)
	else
		kver=$(for m in /lib/modules/*/build/Makefile; do [ -f "$m" ] && basename "${m%/build/Makefile}"; done |
			sort -V | tail -1)
	fi
fi
if [ -z "$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
	echo "SKIP: no kernel headers in /lib/modules/*/build (the running kernel $(uname -r) has none;" \
	     "apt-get install linux-headers-amd64)"
	exit 77
fi
. "$root/tests/lib/checks.sh"
checks_begin
version=$(sd_version "$root")
echo "# dkms $(dkms --version | sed 's/^dkms-//'), kernel headers $kver (running kernel $(uname -r))"

src=$d/src
mkdir -p "$src" "$d/dkms"
if [ -n "${SD_DKMS_SRC:-}" ]; then
	cp -a "$SD_DKMS_SRC" "$src/sev-donate-$version" 2>"$d/out"
	ok "the module's source: $SD_DKMS_SRC" $?
else
	make --no-print-directory -C "$root" DEPS=0 install-dkms DESTDIR="$d/stage" dkmsdir=/usr/src \
		>"$d/out" 2>&1 && mv "$d/stage/usr/src/sev-donate-$version" "$src/"
	ok "make install-dkms puts the source in /usr/src/sev-donate-$version" $?
fi
grep -qx "PACKAGE_VERSION=\"$version\"" "$src/sev-donate-$version/dkms.conf" 2>"$d/out"
ok "dkms.conf says PACKAGE_VERSION=\"$version\"" $?

# Private trees and key: nothing outside $d is written.
export mok_signing_key="$d/mok.key" mok_certificate="$d/mok.pub"
dk() { dkms "$@" -m sev-donate -v "$version" --sourcetree "$src" --dkmstree "$d/dkms"; }
status() { dkms status --sourcetree "$src" --dkmstree "$d/dkms" 2>&1; }

dk add >"$d/out" 2>&1
ok "dkms add" $?
status >"$d/out"
[ "$(cat "$d/out")" = "sev-donate/$version: added" ]; ok "dkms status: sev-donate/$version: added" $?

dk build -k "$kver" >"$d/out" 2>&1
rc=$?
[ $rc -ne 0 ] && cat "$d/dkms/sev-donate/$version/build/make.log" >>"$d/out" 2>/dev/null
ok "dkms build -k $kver" $rc
status >"$d/out"
[ "$(cat "$d/out")" = "sev-donate/$version, $kver, x86_64: built" ]
ok "dkms status: sev-donate/$version, $kver, x86_64: built" $?

ko=$(ls "$d/dkms/sev-donate/$version/$kver/x86_64/module/"sev_donate.ko* 2>/dev/null | head -1)
echo "module: ${ko:-none}" >"$d/out"
[ -n "$ko" ]; ok "the built module: ${ko##*/}" $?
mi() { /sbin/modinfo -F "$1" "$ko" 2>/dev/null; }
[ -n "$ko" ] && [ "$(mi version)" = "$version" ] && [ "$(mi name)" = sev_donate ]
ok "modinfo: name sev_donate, version $(mi version) (sd_version.h: $version)" $?
[ "$(mi license)" = GPL ]; ok "modinfo: license $(mi license)" $?
mi vermagic | grep -q "^$kver SMP "; ok "modinfo: vermagic for $kver" $?
mi description | grep -q '^sev-donate: '; ok "modinfo: description" $?
# dkms signs what it builds (the kernel has module signing): with our key.
[ "$(mi signer)" = "DKMS module signing key" ]; ok "signed with the test's own DKMS key" $?

dk remove --all >"$d/out" 2>&1
ok "dkms remove --all" $?
status >"$d/out"
[ ! -s "$d/out" ] && [ ! -e "$d/dkms/sev-donate" ]; ok "dkms status: nothing left" $?

checks_end dkms

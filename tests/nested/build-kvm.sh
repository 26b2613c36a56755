#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# build-kvm.sh KVER OUTDIR - KVM with patches/kvm/*.patch applied, built out
# of tree from Debian's linux-source-6.1 against the installed headers of
# KVER. Writes OUTDIR/kvm.ko and OUTDIR/kvm-amd.ko; prints one line saying
# what it built (or the reason it could not) and exits non-zero on failure.
#
#   1. The source, the headers and the image must be one Debian version:
#      the module's vermagic and symbol CRCs come from the headers, its code
#      from the source. A mismatch is reported loudly, and the build goes
#      on (the tests then show whether the modules work).
#   2. Extract arch/x86/kvm, virt/kvm and the two headers the patch
#      touches; apply the patches with no fuzz.
#   3. Point the copy's Makefile and trace.h at the copy, build kvm.ko and
#      kvm-amd.ko (not kvm-intel.ko: the nested CPU is AMD) with the patched
#      headers found before the installed ones.
# Nothing here is committed: OUTDIR is under the build directory. The
# result is kept, keyed on the versions and the patches, so a second run
# with nothing changed builds nothing.
set -eu
kver=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz
hdrs=/lib/modules/$kver/build

say() { echo "build-kvm: $*"; }
die() { say "FAIL: $*"; exit 1; }

[ -r "$tarball" ] || die "$tarball missing (apt-get install linux-source-6.1)"
[ -f "$hdrs/Makefile" ] || die "no headers for $kver (apt-get install linux-headers-amd64)"
ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not installed"; }
v_src=$(ver linux-source-6.1)
v_hdr=$(ver "linux-headers-$kver")
v_img=$(ver "linux-image-$kver")
if [ "$v_src" != "$v_hdr" ] || [ "$v_src" != "$v_img" ]; then
	say "!!! VERSION MISMATCH: linux-source-6.1 $v_src, linux-headers-$kver $v_hdr," \
	    "linux-image-$kver $v_img: the modules are built from one and loaded into another !!!"
fi

patches=$(ls "$root"/patches/kvm/*.patch)
key=$(cat "$patches" | sha256sum | cut -c1-16)-$v_src-$v_hdr-$kver
if [ -f "$out/kvm.ko" ] && [ -f "$out/kvm-amd.ko" ] && [ "$(cat "$out/key" 2>/dev/null)" = "$key" ]; then
	say "up to date: $out/kvm.ko, kvm-amd.ko (linux-source-6.1 $v_src, headers $kver," \
	    "$(echo "$patches" | wc -l) patch(es))"
	exit 0
fi

t0=$(date +%s)
src=$out/src
rm -rf "$out"
mkdir -p "$src"
tar -xJf "$tarball" -C "$src" --strip-components=1 \
	linux-source-6.1/arch/x86/kvm linux-source-6.1/virt/kvm \
	linux-source-6.1/arch/x86/include/asm/kvm_host.h \
	linux-source-6.1/include/uapi/linux/kvm_para.h \
	linux-source-6.1/Documentation/virt/kvm/api.rst \
	linux-source-6.1/Documentation/virt/kvm/x86/hypercalls.rst
# The installed headers must be what the source's unpatched headers are.
for h in arch/x86/include/asm/kvm_host.h include/uapi/linux/kvm_para.h; do
	cmp -s "$src/$h" "$hdrs/$h" || cmp -s "$src/$h" "/usr/src/linux-headers-${kver%-amd64}-common/$h" ||
		say "!!! $h differs between linux-source-6.1 and the headers of $kver !!!"
done
for p in $patches; do
	patch -s -d "$src" -p1 -F0 -N < "$p" || die "$(basename "$p") does not apply to linux-source-6.1 $v_src"
done

# Out of tree: the copy's own directory instead of $(srctree) for KVM's files.
sed -i -e 's|-I \$(srctree)/arch/x86/kvm|-I $(src)|' \
       -e 's|include \$(srctree)/virt/kvm/Makefile.kvm|include $(src)/../../../virt/kvm/Makefile.kvm|' \
       "$src/arch/x86/kvm/Makefile"
sed -i "s|^#define TRACE_INCLUDE_PATH ../../arch/x86/kvm\$|#define TRACE_INCLUDE_PATH $src/arch/x86/kvm|" \
	"$src/arch/x86/kvm/trace.h"
grep -q "TRACE_INCLUDE_PATH $src/" "$src/arch/x86/kvm/trace.h" || die "trace.h: no TRACE_INCLUDE_PATH to rewrite"
echo 'obj-m += arch/x86/kvm/' > "$src/Kbuild"

# The patched headers before the installed ones (NOSTDINC_FLAGS comes first on
# every compiler command line); no kvm-intel.ko, no BTF (no vmlinux here).
log=$out/build.log
if ! make -C "$hdrs" M="$src" -j2 CC=gcc CONFIG_KVM_INTEL= CONFIG_DEBUG_INFO_BTF_MODULES= \
	NOSTDINC_FLAGS="-nostdinc -I$src/arch/x86/include -I$src/include" modules >"$log" 2>&1; then
	tail -n 30 "$log"
	die "the build failed (all of it in $log)"
fi
cp "$src/arch/x86/kvm/kvm.ko" "$src/arch/x86/kvm/kvm-amd.ko" "$out/"
vm_src=$(modinfo -F vermagic "$out/kvm.ko")
vm_img=$(modinfo -F vermagic "/lib/modules/$kver/kernel/arch/x86/kvm/kvm.ko" 2>/dev/null || true)
[ "$vm_src" = "$vm_img" ] || say "!!! vermagic '$vm_src' differs from Debian's kvm.ko '$vm_img' !!!"
echo "$key" > "$out/key"
say "built $out/kvm.ko, kvm-amd.ko from linux-source-6.1 $v_src + $(echo "$patches" | wc -l)" \
    "patch(es) against the headers of $kver in $(( $(date +%s) - t0 )) s"

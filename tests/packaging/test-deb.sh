#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-deb.sh ROOT BUILD [SAN] - the Debian packages, built and used:
#   - `dpkg-buildpackage -us -uc -b` on a scratch copy of the tree (the tree
#     itself stays as it was) builds exactly the four packages (and the two
#     -dbgsym ones), with debian/changelog at sd_version.h's version;
#   - lintian reports no error on them or on the source package;
#   - each package holds exactly its files; the -dev package depends on the
#     library of the same version; the library's symbols file is exactly
#     lib/libsev-donate.map's API;
#   - extracted into a scratch root (dpkg -x: no maintainer scripts), the
#     packaged sev-donate runs, its manual renders, the example from the -dev
#     package builds with pkg-config against that root (shared and static)
#     and prints what `sev-donate dump` prints, and the -dkms package's source
#     builds through DKMS (tests/packaging/test-dkms.sh with SD_DKMS_SRC).
root=$1 build=$2 san=$3
if [ -n "$san" ]; then
	echo "SKIP: a sanitizer build ($san): the packages are built with the distribution's flags"
	exit 77
fi
for t in dpkg-buildpackage:dpkg-dev dh:debhelper dh_dkms:dh-dkms lintian:lintian; do
	command -v "${t%%:*}" >/dev/null 2>&1 && continue
	echo "SKIP: no ${t%%:*} (Debian package ${t#*:}; scripts/deps.sh deb installs what this test needs)"
	exit 77
done
. "$root/tests/lib/checks.sh"
checks_begin
version=$(sd_version "$root")
major=${version%%.*}
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
if [ "$arch" != amd64 ]; then
	echo "SKIP: the packages are for amd64 (this is $arch)"
	exit 77
fi

cl=$(dpkg-parsechangelog -l "$root/debian/changelog" -S Version 2>"$d/out")
[ "$cl" = "$version" ]; ok "debian/changelog's version $cl is sd_version.h's $version" $?

# ---- build, in a scratch copy -----------------------------------------------
is_git=0
git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1 && is_git=1
tree_state() {	# what the tree looks like from outside: git status, and stray build products
	[ $is_git -eq 1 ] && git -C "$root" status --porcelain --untracked-files=all
	ls -d "$root/debian/tmp" "$root/debian/.debhelper" "$root/debian/files" "$root"/debian/*.substvars \
	      "$root/../sev-donate_"* "$root/../libsev-donate"* "$root/../sev-donate-dkms_"* 2>/dev/null
}
tree_state >"$d/state.before"
src=$d/sev-donate-$version
mkdir "$src"
if [ $is_git -eq 1 ]; then	# what git has, with local changes, without ignored files
	( cd "$root" && git ls-files -co --exclude-standard | while read -r f; do [ -e "$f" ] && echo "$f"; done |
		tar -cf - -T - ) | tar -C "$src" -xf - 2>"$d/out"
else
	tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf - 2>"$d/out"
fi
ok "a scratch copy of the tree" $?

( cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b ) >"$d/build.log" 2>&1
rc=$?
tail -40 "$d/build.log" >"$d/out"
ok "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck parallel=2)" $rc
( cd "$d" && ls *.deb ) >"$d/debs" 2>/dev/null
cat >"$d/debs.want" <<EOF
libsev-donate-dev_${version}_amd64.deb
libsev-donate1-dbgsym_${version}_amd64.deb
libsev-donate1_${version}_amd64.deb
sev-donate-dbgsym_${version}_amd64.deb
sev-donate-dkms_${version}_all.deb
sev-donate_${version}_amd64.deb
EOF
diff "$d/debs.want" "$d/debs" >"$d/out"
ok "exactly sev-donate, libsev-donate1, libsev-donate-dev, sev-donate-dkms (and 2 -dbgsym)" $?

# lintian on the binary packages and, built from the cleaned copy, the source package.
( cd "$src" && debian/rules clean && dpkg-source -b . ) >"$d/out" 2>&1
ok "dpkg-source -b: the source package" $?
lintian --pedantic --info "$d/sev-donate_${version}_amd64.changes" "$d/sev-donate_${version}.dsc" \
	>"$d/lintian" 2>"$d/lintian.err"
rc=$?
grep -v '^N:' "$d/lintian" >"$d/tags"
sed 's/^/# lintian: /' "$d/tags"
echo "# lintian: $(grep -c '^E: ' "$d/tags") errors, $(grep -c '^W: ' "$d/tags") warnings," \
     "$(grep -c '^[IP]: ' "$d/tags") info/pedantic"
{ cat "$d/lintian.err"; grep '^E: ' "$d/tags"; } >"$d/out"
[ $rc -eq 0 ] && ! grep -q '^E: ' "$d/tags"; ok "lintian: no errors (exit $rc)" $?

# ---- what each package holds ------------------------------------------------
deb() { echo "$d/${1}_${version}_${2:-amd64}.deb"; }
contents() {	# the files and symlinks of a package, one a line, sorted
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +\.\//, ""); print }' | sort
}
docs() { printf 'usr/share/doc/%s/changelog.gz\nusr/share/doc/%s/copyright\n' "$1" "$1"; }
check_contents() {	# PACKAGE ARCH: the package holds exactly $d/want
	contents "$(deb "$1" "$2")" >"$d/have" 2>&1
	sort "$d/want" | diff - "$d/have" >"$d/out"
	ok "$1 holds exactly its $(wc -l <"$d/want") files" $?
}
{ echo usr/bin/sev-donate; docs sev-donate; echo usr/share/man/man1/sev-donate.1.gz
  for f in README SPEC STREAM VMM-INTEGRATION; do echo "usr/share/doc/sev-donate/$f.md.gz"; done; } >"$d/want"
check_contents sev-donate
{ echo "usr/lib/$ma/libsev-donate.so.$version"
  echo "usr/lib/$ma/libsev-donate.so.$major -> libsev-donate.so.$version"; docs libsev-donate1; } >"$d/want"
check_contents libsev-donate1
{ for h in sd_api_types.h sd_guest.h sd_host.h sd_version.h sev_donate.h; do echo "usr/include/sev-donate/$h"; done
  echo "usr/lib/$ma/libsev-donate.a"; echo "usr/lib/$ma/libsev-donate.so -> libsev-donate.so.$major"
  echo "usr/lib/$ma/pkgconfig/sev-donate.pc"; docs libsev-donate-dev
  echo usr/share/doc/libsev-donate-dev/VMM-INTEGRATION.md.gz
  echo usr/share/doc/libsev-donate-dev/examples/Makefile
  echo usr/share/doc/libsev-donate-dev/examples/sd-inspect.c; } >"$d/want"
check_contents libsev-donate-dev
# The -dkms package: exactly what `make install-dkms` installs (and the
# lintian override for the LICENSE that comes with it).
make --no-print-directory -C "$root" DEPS=0 install-dkms DESTDIR="$d/stage" dkmsdir=/usr/src >"$d/out" 2>&1
{ ( cd "$d/stage" && find usr -type f ); docs sev-donate-dkms
  echo usr/share/lintian/overrides/sev-donate-dkms; } >"$d/want"
check_contents sev-donate-dkms all

# Relations, the symbols file, the DKMS hooks.
field() { dpkg-deb -f "$(deb "$1" "$3")" "$2"; }
[ "$(field libsev-donate-dev Depends)" = "libsev-donate1 (= $version)" ]
ok "libsev-donate-dev Depends: $(field libsev-donate-dev Depends)" $?
[ "$(field libsev-donate1 Multi-Arch)" = same ] && [ "$(field libsev-donate1 Section)" = libs ]
ok "libsev-donate1: Multi-Arch same, Section libs" $?
field sev-donate Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | sort | tr '\n' ' ' >"$d/out"
[ "$(cat "$d/out")" = "libc6 libsodium23 liburcu8 " ]; ok "sev-donate Depends: libc6, libsodium23, liburcu8 (shlibs)" $?
[ "$(field sev-donate-dkms Depends all)" = "dkms (>= 2.1.0.0)" ]; ok "sev-donate-dkms Depends: dkms" $?
dpkg-deb -e "$(deb libsev-donate1)" "$d/ctl1"
sed -n 's/^ \([a-z_0-9]*\)@SEV_DONATE_1.0 .*/\1/p' "$d/ctl1/symbols" | sort >"$d/symbols"
sed -n 's/^[[:space:]]*\(sd_[a-z_0-9]*\);$/\1/p' "$root/lib/libsev-donate.map" | sort >"$d/map"
diff "$d/map" "$d/symbols" >"$d/out" && [ -s "$d/map" ] && head -1 "$d/ctl1/symbols" | grep -qx "libsev-donate.so.$major libsev-donate1 #MINVER#"
ok "libsev-donate1's symbols file: libsev-donate.so.$major, the $(wc -l <"$d/map") functions of libsev-donate.map" $?
dpkg-deb -e "$(deb sev-donate-dkms all)" "$d/ctl2"
grep -q '^DKMS_NAME=sev-donate$' "$d/ctl2/postinst" && grep -q "^DKMS_VERSION=$version\$" "$d/ctl2/postinst" &&
	grep -q 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' "$d/ctl2/prerm"
ok "sev-donate-dkms: postinst adds and builds sev-donate/$version, prerm removes it" $?

# ---- installed (extracted into a scratch root) --------------------------------
inst=$d/root
rc=0
for p in sev-donate libsev-donate1 libsev-donate-dev; do dpkg -x "$(deb $p)" "$inst" || rc=1; done
dpkg -x "$(deb sev-donate-dkms all)" "$inst" || rc=1
ok "dpkg -x the four packages into a scratch root" $rc
lib=$inst/usr/lib/$ma
"$inst/usr/bin/sev-donate" --version >"$d/out" 2>&1 && grep -q "^sev-donate $version " "$d/out"
ok "the packaged sev-donate --version: $(head -1 "$d/out")" $?
MANWIDTH=80 man -l "$inst/usr/share/man/man1/sev-donate.1.gz" >"$d/man" 2>"$d/out" &&
	grep -q "SEV-DONATE(1)" "$d/man" && grep -q "sev-donate $version" "$d/man"
ok "man -l renders the packaged sev-donate(1)" $?

img=$d/ram.img
"$inst/usr/bin/sev-donate" make-image --out "$img" --mem-size 1G --pattern fragmented \
	--chunk-pages 1024 >"$d/gpa" 2>"$d/out"
ok "the packaged sev-donate writes an image" $?
gpa=$(cat "$d/gpa")
"$inst/usr/bin/sev-donate" dump --image "$img" --gpa "$gpa" --paused | grep -E '^(shared|transition) ' |
	awk '{ print $1, $2, $3 }' >"$d/runs.dump"
cp -r "$inst/usr/share/doc/libsev-donate-dev/examples" "$d/ex"
export PKG_CONFIG_SYSROOT_DIR="$inst" PKG_CONFIG_LIBDIR="$lib/pkgconfig"
[ "$(pkg-config --modversion sev-donate)" = "$version" ] &&
	[ "$(pkg-config --libs sev-donate | sed 's/ *$//')" = "-L$lib -lsev-donate" ]
ok "pkg-config sev-donate against the root: version $(pkg-config --modversion sev-donate), $(pkg-config --libs sev-donate | sed "s|$d|\$d|")" $?
make -C "$d/ex" >"$d/out" 2>&1
ok "the -dev package's example builds with pkg-config --cflags --libs sev-donate" $?
readelf -d "$d/ex/sd-inspect" 2>&1 | grep -q "(NEEDED).*\[libsev-donate.so.$major\]"
ok "sd-inspect needs libsev-donate.so.$major" $?
LD_LIBRARY_PATH=$lib ldd "$d/ex/sd-inspect" 2>&1 | grep -q "libsev-donate.so.$major => $lib/libsev-donate.so.$major "
ok "it loads the packaged libsev-donate.so.$major" $?
LD_LIBRARY_PATH=$lib "$d/ex/sd-inspect" "$img" "$gpa" >"$d/inspect" 2>"$d/out"
ok "sd-inspect runs on the packaged library" $?
grep -v '^table at' "$d/inspect" >"$d/runs.example"
diff "$d/runs.dump" "$d/runs.example" >"$d/out" && [ -s "$d/runs.example" ]
ok "sd-inspect prints the same $(wc -l <"$d/runs.example") runs as the packaged sev-donate dump" $?
# The static archive: the same program with nothing of ours to load.
cc -O2 -std=c99 -D_POSIX_C_SOURCE=200809L $(pkg-config --cflags sev-donate) "$d/ex/sd-inspect.c" \
	"$lib/libsev-donate.a" -o "$d/sd-inspect-static" >"$d/out" 2>&1 &&
	! readelf -d "$d/sd-inspect-static" | grep -q 'libsev-donate' &&
	"$d/sd-inspect-static" "$img" "$gpa" | grep -v '^table at' | diff "$d/runs.example" - >"$d/out"
ok "linked with the packaged libsev-donate.a, it prints the same runs" $?
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR

# The -dkms package's source, through DKMS.
SD_DKMS_SRC=$inst/usr/src/sev-donate-$version sh "$root/tests/packaging/test-dkms.sh" "$root" "$build" >"$d/dkms" 2>&1
rc=$?
sed 's/^/# /' "$d/dkms"
cp "$d/dkms" "$d/out"
if [ $rc -eq 77 ]; then
	echo "SKIP: the -dkms package through DKMS: $(grep '^SKIP' "$d/dkms")"
else
	ok "the -dkms package's source: dkms add, build, modinfo, remove ($(tail -1 "$d/dkms"))" $rc
fi

tree_state >"$d/state.after"
diff "$d/state.before" "$d/state.after" >"$d/out"
ok "the source tree is as it was (git status, no build products in it or beside it)" $?

checks_end deb

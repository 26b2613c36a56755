#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-install.sh ROOT BUILD [SAN] - `make install` as a packager runs it, and
# the installed tree as a consumer meets it:
#   - DESTDIR, PREFIX and LIBDIR put every file where they say;
#   - examples/ builds against the installed tree only (pkg-config with that
#     sysroot) and prints the same runs as `sev-donate dump`;
#   - every installed header builds alone in C99, C11 and C++11 with
#     -Wall -Wextra -Werror -pedantic, next to a consumer's own u64;
#   - the library's soname, and its exports: exactly the functions the
#     headers declare;
#   - the installed sev-donate --version and man page;
#   - make uninstall removes all of it.
root=$1 build=$2 san=$3
if [ -n "$san" ]; then
	echo "SKIP: a sanitizer build ($san): the installed tree is the plain build's"
	exit 77
fi
. "$root/tests/lib/checks.sh"
checks_begin
version=$(sd_version "$root")
major=${version%%.*}
inst=$d/inst
mk() { make --no-print-directory -C "$root" BUILD="$build" DEPS=0 "$@" >"$d/out" 2>&1; }

mk install DESTDIR="$inst" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu
ok "make install DESTDIR PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu" $?
lib=$inst/usr/lib/x86_64-linux-gnu
missing=
for f in usr/bin/sev-donate usr/lib/x86_64-linux-gnu/libsev-donate.so.$version \
	 usr/lib/x86_64-linux-gnu/libsev-donate.so.$major usr/lib/x86_64-linux-gnu/libsev-donate.so \
	 usr/lib/x86_64-linux-gnu/libsev-donate.a usr/lib/x86_64-linux-gnu/pkgconfig/sev-donate.pc \
	 usr/include/sev-donate/sd_host.h usr/include/sev-donate/sd_guest.h \
	 usr/include/sev-donate/sev_donate.h usr/include/sev-donate/sd_api_types.h \
	 usr/include/sev-donate/sd_version.h usr/share/man/man1/sev-donate.1 \
	 usr/share/doc/sev-donate/SPEC.md usr/share/doc/sev-donate/LICENSE; do
	[ -e "$inst/$f" ] || missing="$missing $f"
done
echo "missing:$missing" >"$d/out"
[ -z "$missing" ]; ok "every file where PREFIX and LIBDIR say" $?
( cd "$inst" && find . -type f | sort ) | grep -v '^\./usr/' >"$d/out"
[ ! -s "$d/out" ]; ok "nothing installed outside PREFIX" $?

# The library.
readelf -d "$lib/libsev-donate.so.$version" 2>&1 | grep -q "Library soname: \[libsev-donate.so.$major\]"
ok "soname libsev-donate.so.$major" $?
nm -D --defined-only "$lib/libsev-donate.so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' |
	sort >"$d/exported"
# gcc -aux-info lists every function the headers declare; the static inline
# ones are not the library's, and sd_env_lock/unlock are hooks it uses.
printf '#include <sev-donate/sd_host.h>\n#include <sev-donate/sd_guest.h>\n' >"$d/decl.c"
gcc -I"$inst/usr/include" -fsyntax-only -aux-info "$d/aux" "$d/decl.c" 2>"$d/out"
grep "/\* $inst/usr/include/sev-donate/" "$d/aux" | grep -v ' static ' |
	grep -oE '\bsd_[a-z0-9_]+ \(' | tr -d ' (' | sort -u |
	grep -vx 'sd_env_lock\|sd_env_unlock' >"$d/declared"
diff "$d/declared" "$d/exported" >"$d/out"
ok "exports exactly the functions the headers declare ($(wc -l <"$d/exported") of them)" $?

# A consumer: the example, against the installed tree only.
img=$d/ram.img
"$inst/usr/bin/sev-donate" make-image --out "$img" --mem-size 1G --pattern fragmented \
	--chunk-pages 1024 >"$d/gpa" 2>"$d/out"
ok "the installed sev-donate writes an image" $?
gpa=$(cat "$d/gpa")
cp -r "$root/examples" "$d/examples"
PKG_CONFIG_SYSROOT_DIR=$inst PKG_CONFIG_LIBDIR=$lib/pkgconfig make -C "$d/examples" >"$d/out" 2>&1
ok "examples/ builds with pkg-config --cflags --libs sev-donate against DESTDIR" $?
LD_LIBRARY_PATH=$lib "$d/examples/sd-inspect" "$img" "$gpa" >"$d/inspect" 2>"$d/out"
ok "sd-inspect runs on the installed library" $?
grep -v '^table at' "$d/inspect" >"$d/runs.example"
"$inst/usr/bin/sev-donate" dump --image "$img" --gpa "$gpa" --paused | grep -E '^(shared|transition) ' |
	awk '{ print $1, $2, $3 }' >"$d/runs.dump"
diff "$d/runs.dump" "$d/runs.example" >"$d/out" && [ -s "$d/runs.example" ]
ok "sd-inspect prints the same $(wc -l <"$d/runs.example") runs as sev-donate dump" $?

# Every header alone, strict, in C and C++, beside a consumer's own short typedefs.
hdr_ok=0
for h in "$inst/usr/include/sev-donate/"*.h; do
	b=$(basename "$h")
	printf '#include <stdint.h>\ntypedef uint64_t u64;\ntypedef uint32_t u32;\ntypedef uint8_t u8;\n#include <sev-donate/%s>\nint main(void) { return 0; }\n' "$b" >"$d/h.c"
	cp "$d/h.c" "$d/h.cpp"
	for std in c99 c11; do
		gcc -std=$std -Wall -Wextra -Werror -pedantic -I"$inst/usr/include" -fsyntax-only \
			"$d/h.c" >>"$d/out" 2>&1 || { hdr_ok=1; echo "  $b in $std" >>"$d/out"; }
	done
	g++ -std=c++11 -Wall -Wextra -Werror -pedantic -I"$inst/usr/include" -fsyntax-only \
		"$d/h.cpp" >>"$d/out" 2>&1 || { hdr_ok=1; echo "  $b in c++11" >>"$d/out"; }
done
ok "every installed header builds alone: C99, C11, C++11, -Wall -Wextra -Werror -pedantic, next to u64" $hdr_ok
printf '#include <sev-donate/sd_host.h>\nint main(void) { SD_HOST_OPTS(sd_host_walk_opts, o, .flags = SD_READ_PAUSED); return sd_host_walk(0, 0, 0, &o) == -SD_ERR_INVAL ? 0 : 1; }\n' >"$d/cxx.cpp"
g++ -std=c++20 -Wall -Wextra -Werror -I"$inst/usr/include" "$d/cxx.cpp" -o "$d/cxx" -L"$lib" -lsev-donate >"$d/out" 2>&1 &&
	LD_LIBRARY_PATH=$lib "$d/cxx" >>"$d/out" 2>&1
ok "a C++ program links the library (extern \"C\") and gets -SD_ERR_INVAL for a NULL registration" $?

# The tool and its manual.
"$inst/usr/bin/sev-donate" --version >"$d/out" 2>&1 && grep -q "^sev-donate $version " "$d/out"
ok "the installed sev-donate --version says $version" $?
MANWIDTH=80 man -l "$inst/usr/share/man/man1/sev-donate.1" >"$d/man" 2>"$d/out" &&
	grep -q "SEV-DONATE(1)" "$d/man" && grep -q "sev-donate $version" "$d/man"
ok "man -l renders the installed page, with the version" $?

mk uninstall DESTDIR="$inst" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu
( cd "$inst" && find . \( -type f -o -type l \) | sort ) >"$d/out"
[ ! -s "$d/out" ]; ok "make uninstall removes every file" $?

checks_end install

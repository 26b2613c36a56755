#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-deps.sh - scripts/deps.sh against a fake dpkg, apt-get and id: what it
# installs as root, what it tells anyone else, and that it stays quiet when
# everything is there.
here=$(cd "$(dirname "$0")/../.." && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
checks=0 failed=0
ok() {
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then echo "ok $checks - $1"; else failed=$((failed + 1)); echo "not ok $checks - $1"; sed 's/^/  | /' "$d/out"; fi
}
mkdir "$d/bin"
# dpkg-query: installed are the packages listed in $d/installed.
cat >"$d/bin/dpkg-query" <<EOT
#!/bin/sh
for p; do :; done
grep -qx "\$p" "$d/installed" && printf 'install ok installed'
exit 0
EOT
printf '#!/bin/sh\necho "apt-get $*" >>"%s/apt.log"\n' "$d" >"$d/bin/apt-get"
printf '#!/bin/sh\nexit 0\n' >"$d/bin/dpkg"
printf '#!/bin/sh\necho "$FAKE_UID"\n' >"$d/bin/id"
chmod +x "$d/bin/"*
run() { PATH="$d/bin:$PATH" FAKE_UID=$1 sh "$here/scripts/deps.sh" $2 >"$d/out" 2>&1; }

printf '%s\n' build-essential pkg-config python3 libcmocka-dev liburcu-dev libsodium-dev >"$d/installed"
: >"$d/apt.log"
run 1000 build; rc=$?
[ $rc -eq 0 ] && [ ! -s "$d/out" ] && [ ! -s "$d/apt.log" ]; ok "everything there: exit 0, silent, nothing installed" $?

printf '%s\n' build-essential pkg-config python3 liburcu-dev >"$d/installed"
run 1000 "build vm"; rc=$?
[ $rc -eq 1 ] && grep -qF "apt-get update && apt-get install -y libcmocka-dev libsodium-dev && apt-get install -y --no-install-recommends linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static" "$d/out" && [ ! -s "$d/apt.log" ]
ok "not root: exit 1 with the exact command, nothing installed" $?

run 0 "build vm"; rc=$?
[ $rc -eq 0 ] && [ "$(cat "$d/apt.log")" = "apt-get update
apt-get install -y libcmocka-dev libsodium-dev
apt-get install -y --no-install-recommends linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static" ]
ok "root: apt-get update, then install -y exactly the missing ones" $?

# linux-headers-amd64 and dkms are in two groups each: named once.
printf '%s\n' build-essential pkg-config python3 libcmocka-dev liburcu-dev libsodium-dev dpkg-dev \
	fakeroot >"$d/installed"
run 1000 "build vm dkms deb"; rc=$?
[ $rc -eq 1 ] && grep -qxF "  apt-get update && apt-get install -y --no-install-recommends linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static dkms debhelper dh-dkms lintian" "$d/out"
ok "a package two groups need is named once (and no empty apt-get install -y)" $?

run 0 bogus; rc=$?
[ $rc -eq 2 ] && grep -q "unknown group 'bogus'" "$d/out"; ok "an unknown group is a usage error (exit $rc)" $?

echo "deps: $checks checks, $failed failed"
[ "$failed" -eq 0 ]

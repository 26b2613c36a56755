#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-keygen.sh SEV_DONATE - platform identities (docs/STREAM.md 8): what
# `sev-donate keygen` writes, and every bad key file `migrate --identity` /
# `--peer-key` refuses, each by its exact SD_ID_ERR_* name with exit 2,
# before anything else (no /dev/kvm needed: the files are read first).
bin=$1
checks=0 failed=0
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

ok() {	# ok NAME STATUS
	checks=$((checks + 1))
	if [ "$2" -eq 0 ]; then echo "ok $checks - $1"
	else failed=$((failed + 1)); echo "not ok $checks - $1"; cat "$d/out" "$d/err" 2>/dev/null; fi
}
# refused NAME WANT-TEXT ARGS...: exit 2 and WANT-TEXT on stderr
refused() {
	name=$1 want=$2; shift 2
	timeout -s KILL 20 "$bin" "$@" >"$d/out" 2>"$d/err"
	rc=$?
	[ "$rc" -eq 2 ] && grep -qF -- "$want" "$d/err"
	ok "$name: exit $rc, '$want'" $?
}

# keygen: the secret key 0600, the public key 0644, one line each, the same key.
"$bin" keygen --out "$d/a" >"$d/out" 2>"$d/err"
ok "keygen --out: exit 0" $?
[ "$(stat -c %a "$d/a")" = 600 ] && [ "$(stat -c %a "$d/a.pub")" = 644 ]
ok "secret key mode 0600, public key (FILE.pub) 0644" $?
pub=$(sed -n 's/^sev-donate-identity 1 public ed25519 \([0-9a-f]\{64\}\)$/\1/p' "$d/a.pub")
[ -n "$pub" ] && [ "$(wc -l <"$d/a.pub")" -eq 1 ]
ok "public key file: one line, magic, version 1, kind, algorithm, 64 hex digits" $?
grep -qx "sev-donate-identity 1 secret ed25519 [0-9a-f]\{64\} $pub" "$d/a"
ok "secret key file: the seed and the same public key" $?
grep -qx "identity: ed25519 $pub" "$d/out"
ok "keygen prints the public key" $?
"$bin" keygen --out "$d/b" --pub "$d/b-public" >/dev/null 2>&1 && [ -f "$d/b-public" ] && [ ! -e "$d/b.pub" ]
ok "keygen --pub names the public key file" $?
cp "$d/a" "$d/a.copy"
refused "keygen over an existing key" "SD_ID_ERR_EXISTS" keygen --out "$d/a"
cmp -s "$d/a" "$d/a.copy"
ok "the existing key is untouched" $?
refused "keygen in a missing directory" "SD_ID_ERR_IO" keygen --out "$d/nodir/k"
refused "keygen without --out" "--out FILE is required" keygen
refused "keygen --pub the same file as --out" "name the same file" keygen --out "$d/c" --pub "$d/c"
[ ! -e "$d/c" ]
ok "nothing written after a usage error" $?

# Bad key files, as migrate reads them (before it needs /dev/kvm).
src() { refused "$1" "$2" migrate --source --connect 127.0.0.1:9 --identity "$3" --peer-key "$4"; }
printf 'hello\n' >"$d/garbage"
sed 's/ 1 / 9 /' "$d/a.pub" >"$d/v9.pub"
printf 'sev-donate-identity 1 public ed25519 %s\n' "$(printf '%064d' 0)" >"$d/zero.pub"
printf 'sev-donate-identity 1 public ed25519 %s\n' "${pub%?}" >"$d/short.pub"
cat "$d/a.pub" "$d/a.pub" >"$d/two.pub"
# The secret's public half changed in its first digit: it no longer matches the seed.
first=$(printf %.1s "$pub"); [ "$first" = 0 ] && other=1 || other=0
sed "s/ $pub\$/ $other${pub#?}/" "$d/a" >"$d/mismatch"; chmod 600 "$d/mismatch"
cp "$d/a" "$d/open"; chmod 644 "$d/open"
src "a missing --peer-key file" "SD_ID_ERR_IO" "$d/a" "$d/none.pub"
src "a missing --identity file" "SD_ID_ERR_IO" "$d/none" "$d/a.pub"
src "not a key file" "SD_ID_ERR_FORMAT" "$d/a" "$d/garbage"
src "a key file of version 9" "SD_ID_ERR_VERSION" "$d/a" "$d/v9.pub"
src "a secret key where the peer's public key is due" "SD_ID_ERR_KIND" "$d/a" "$d/a"
src "a public key where the identity is due" "SD_ID_ERR_KIND" "$d/a.pub" "$d/a.pub"
src "a secret key others may read" "SD_ID_ERR_MODE" "$d/open" "$d/a.pub"
src "a secret key whose public half is not its seed's" "SD_ID_ERR_MISMATCH" "$d/mismatch" "$d/a.pub"
src "a public key that is not an Ed25519 point" "SD_ID_ERR_FORMAT" "$d/a" "$d/zero.pub"
src "a public key of 63 hex digits" "SD_ID_ERR_FORMAT" "$d/a" "$d/short.pub"
src "a key file of two lines" "SD_ID_ERR_FORMAT" "$d/a" "$d/two.pub"
src "a directory" "SD_ID_ERR_IO" "$d/a" "$d"
mkfifo "$d/fifo"
src "a FIFO, which nobody writes (refused, not waited on)" "not a regular file" "$d/fifo" "$d/a.pub"
refused "a source without --peer-key" "--source needs --peer-key" migrate --source --connect 127.0.0.1:9 --identity "$d/a"
refused "a source without --identity" "need --identity" migrate --source --connect 127.0.0.1:9 --peer-key "$d/a.pub"
refused "a destination without --identity" "need --identity" migrate --dest --listen 127.0.0.1:0
refused "the demo with a key file" "--demo makes its own pair" migrate --demo --identity "$d/a"

echo "keygen: $checks checks, $failed failed"
echo "$((checks - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

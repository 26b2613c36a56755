#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-cli.sh - the sev-donate CLI: every subcommand, its exit codes, its
# one-line errors and its JSON (parsed with python3, checked field by field).
#
# usage: test-cli.sh PATH/TO/sev-donate
# Prints "ok N - what" / "not ok N - what" per check, then a summary; exits
# 0 when every check passed, 1 otherwise, 77 when python3 is missing.
SD=${1:?usage: test-cli.sh PATH/TO/sev-donate}
# Debian's python3 first: a version manager's shim on PATH can cost 0.2 s a start.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || {
	echo "SKIP: python3 not available: the CLI's JSON cannot be checked"
	exit 77
}
T=$(mktemp -d "${TMPDIR:-/tmp}/sd-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# run WANT_RC WHAT CMD...: run CMD, stdout to $T/out, stderr to $T/err; check the exit code.
run() {
	want=$1 what=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$what (exit $rc)"
	else
		bad "$what: exit $rc, want $want"
		sed 's/^/#   stderr: /' "$T/err"
	fi
}

# err_is TEXT WHAT: stderr is exactly one line and contains TEXT.
err_is() {
	lines=$(wc -l <"$T/err")
	if [ "$lines" -eq 1 ] && grep -qF -- "$1" "$T/err"; then
		ok "$2: one line with '$1'"
	else
		bad "$2: want one stderr line with '$1', got:"
		sed 's/^/#   /' "$T/err"
	fi
}

# json EXPR WHAT: stdout is one JSON document; the python expression on it (j) is true.
json() {
	if "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1" 2>"$T/jerr"; then
		ok "$2: $1"
	else
		bad "$2: JSON check failed: $1"
		sed 's/^/#   /' "$T/out" "$T/jerr" | head -20
	fi
}

# jget KEY: a top-level field of the JSON on stdout.
jget() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/out" "$1" 2>/dev/null; }

# poke FILE OFFSET WIDTH VALUE: write a little-endian integer into FILE.
poke() {
	"$PY" -c '
import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2], 0))
f.write(int(sys.argv[4], 0).to_bytes(int(sys.argv[3]), "little"))' "$@"
}

# ---- help and usage ------------------------------------------------------
run 0 "--help" "$SD" --help
grep -q "make-image" "$T/out" && ok "--help lists the commands" || bad "--help lists the commands"
for c in make-image check dump; do
	run 0 "$c --help" "$SD" "$c" --help
	grep -q "^usage: sev-donate $c" "$T/out" && ok "$c --help shows its usage" ||
		bad "$c --help shows its usage"
done
run 2 "no command" "$SD"
err_is "no command given" "no command"
run 2 "unknown command" "$SD" frobnicate
err_is "unknown command 'frobnicate'" "unknown command"

# ---- make-image: usage errors ----------------------------------------------
run 2 "make-image without --out" "$SD" make-image --mem-size 1M
err_is "--out FILE is required" "make-image without --out"
run 2 "make-image without --mem-size" "$SD" make-image --out "$T/x.img"
err_is "--mem-size SIZE is required" "make-image without --mem-size"
run 2 "make-image bad size" "$SD" make-image --out "$T/x.img" --mem-size 12Q
err_is "'12Q' is not a size" "make-image bad size"
run 2 "make-image size not page multiple" "$SD" make-image --out "$T/x.img" --mem-size 1000
err_is "not a non-zero multiple of 4 KiB" "make-image size not page multiple"
run 2 "make-image size too small" "$SD" make-image --out "$T/x.img" --mem-size 4K
err_is "too small to hold its own table" "make-image size too small"
run 2 "make-image size overflows" "$SD" make-image --out "$T/x.img" --mem-size 99999999999T
err_is "is not a size" "make-image size overflows"
run 2 "make-image unknown pattern" "$SD" make-image --out "$T/x.img" --mem-size 1M --pattern plaid
err_is "unknown pattern 'plaid'" "make-image unknown pattern"
run 2 "make-image bad chunk size" "$SD" make-image --out "$T/x.img" --mem-size 1M --chunk-pages 100
err_is "--chunk-pages: '100'" "make-image bad chunk size"
run 2 "make-image unknown option" "$SD" make-image --out "$T/x.img" --mem-size 1M --frob
err_is "unknown option '--frob'" "make-image unknown option"
run 2 "make-image missing value" "$SD" make-image --out "$T/x.img" --mem-size
err_is "--mem-size needs a value" "make-image missing value"
run 2 "make-image unwritable" "$SD" make-image --out "$T/no/such/dir/x.img" --mem-size 1M
err_is "cannot create image" "make-image unwritable"
[ ! -e "$T/x.img" ] && ok "no image left behind by failed runs" || bad "no image left behind"

# ---- make-image: every pattern, sizes with suffixes ----------------------------
for p in typical fragmented all-private all-shared random; do
	run 0 "make-image --pattern $p" "$SD" make-image --out "$T/$p.img" --mem-size 256M \
		--pattern $p --seed 7 --json
	json "j['pattern'] == '$p' and j['mem_size'] == 256 << 20 and j['nr_gfns'] == 65536" \
		"make-image $p JSON"
	json "j['table_gpa'] % 4096 == 0 and j['table_bytes'] == 4096 * 3 and j['chunks'] == 8" \
		"make-image $p table"
	eval "gpa_$(echo $p | tr - _)=$(jget table_gpa) shared_$(echo $p | tr - _)=$(jget shared_pages) ext_$(echo $p | tr - _)=$(jget shared_extents)"
	[ "$(stat -c %s "$T/$p.img")" -eq 268435456 ] && ok "$p image is 256 MiB" ||
		bad "$p image is 256 MiB"
done
json "j['shared_pages'] > 20000 and j['shared_extents'] > 10000" "random is random"
[ "$shared_all_private" -eq 3 ] && [ "$ext_all_private" -eq 1 ] &&
	ok "all-private: only the table's 3 pages" || bad "all-private: only the table ($shared_all_private)"
[ "$shared_all_shared" -eq 65536 ] && [ "$ext_all_shared" -eq 1 ] &&
	ok "all-shared: every page" || bad "all-shared: every page ($shared_all_shared)"
# typical at 256 MiB: SWIOTLB 64 MiB (16384 pages), .bss 8 pages, 36 single pages, the table.
[ "$shared_typical" -ge 16384 ] && [ "$shared_typical" -le $((16384 + 8 + 36 + 3)) ] &&
	[ "$ext_typical" -ge 20 ] && [ "$ext_typical" -le 39 ] &&
	ok "typical: SWIOTLB and a few dozen scattered pages ($shared_typical in $ext_typical)" ||
	bad "typical: $shared_typical pages in $ext_typical extents"
blocks=$(stat -c %b "$T/typical.img")
[ "$blocks" -lt 1024 ] && ok "the image is sparse ($blocks blocks)" || bad "image not sparse ($blocks blocks)"

run 0 "make-image prints the GPA" "$SD" make-image --out "$T/t.img" --mem-size 256m --pattern typical --seed 7
[ "$(cat "$T/out")" = "$(printf '0x%x' "$gpa_typical")" ] && ok "text output is the table GPA" ||
	bad "text output $(cat "$T/out") is not 0x$gpa_typical"
cmp -s "$T/t.img" "$T/typical.img" && ok "same seed, same image" || bad "same seed, same image"
run 0 "make-image with K suffix and 64-page chunks" "$SD" make-image --out "$T/k.img" \
	--mem-size 8192K --chunk-pages 64 --pattern fragmented --json
json "j['pages_per_chunk'] == 64 and j['chunks'] == 32" "make-image K suffix"
run 0 "make-image 1T (sparse)" "$SD" make-image --out "$T/big.img" --mem-size 1T --pattern all-private --json
json "j['nr_gfns'] == 1 << 28 and j['table_bytes'] == 34082816 and j['chunks'] == 32768" "make-image 1T"
big_gpa=$(jget table_gpa)

# ---- check and dump on valid images ------------------------------------------
for p in typical fragmented all-private all-shared random; do
	v=$(echo $p | tr - _)
	eval "gpa=\$gpa_$v shared=\$shared_$v ext=\$ext_$v"
	run 0 "check $p" "$SD" check --image "$T/$p.img" --gpa "$gpa"
	grep -q "^shared pages: *$shared\$" "$T/out" && grep -q "^shared extents: *$ext\$" "$T/out" &&
		grep -q "^chunks: *8 of 8192 pages" "$T/out" &&
		ok "check $p text summary" || bad "check $p text summary"
	run 0 "check $p --json" "$SD" check --image "$T/$p.img" --gpa "$gpa" --json
	json "j['verdict'] == 'valid' and j['shared_pages'] == $shared and j['shared_extents'] == $ext and j['chunks'] == 8 and j['table_gpa'] == $gpa and j['transition_pages'] == 0" \
		"check $p JSON"
	run 0 "dump $p" "$SD" dump --image "$T/$p.img" --gpa "$gpa"
	sum=$(awk '$1 == "shared" { s += $3 } END { print s + 0 }' "$T/out")
	[ "$sum" -eq "$shared" ] && [ "$(wc -l <"$T/out")" -eq "$ext" ] &&
		ok "dump $p: $ext extents, $sum pages" || bad "dump $p: $(wc -l <"$T/out") extents, $sum pages"
	run 0 "dump $p --json" "$SD" dump --image "$T/$p.img" --gpa "$gpa" --json
	json "len(j['extents']) == $ext and sum(e['pages'] for e in j['extents']) == $shared and all(e['state'] == 'shared' for e in j['extents']) and all(a['gfn'] + a['pages'] < b['gfn'] for a, b in zip(j['extents'], j['extents'][1:]))" \
		"dump $p JSON"
done
run 0 "check 1T" "$SD" check --image "$T/big.img" --gpa "$big_gpa" --json
json "j['shared_pages'] == 8321 and j['chunks'] == 32768" "check 1T JSON"
run 0 "dump all-shared" "$SD" dump --image "$T/all-shared.img" --gpa "$gpa_all_shared"
[ "$(cat "$T/out")" = "shared 0x0 65536" ] && ok "dump all-shared: one extent" || bad "dump all-shared: $(cat "$T/out")"

# ---- check and dump: usage and I/O errors ---------------------------------------
run 2 "check without --image" "$SD" check --gpa 0
err_is "--image FILE is required" "check without --image"
run 2 "check without --gpa" "$SD" check --image "$T/typical.img"
err_is "--gpa GPA is required" "check without --gpa"
run 2 "check unaligned gpa" "$SD" check --image "$T/typical.img" --gpa 0x1001
err_is "0x1001 is not page-aligned" "check unaligned gpa"
run 2 "check bad gpa" "$SD" check --image "$T/typical.img" --gpa 12z
err_is "'12z' is not a number" "check bad gpa"
run 2 "check bad attempts" "$SD" check --image "$T/typical.img" --gpa 0 --attempts 0
err_is "--attempts: '0'" "check bad attempts"
run 2 "check missing image" "$SD" check --image "$T/none.img" --gpa 0
err_is "cannot open image" "check missing image"
run 2 "dump directory as image" "$SD" dump --image "$T" --gpa 0
err_is "is not a regular file" "dump directory as image"
run 2 "check extra argument" "$SD" check --image "$T/typical.img" --gpa 0 extra
err_is "unexpected argument 'extra'" "check extra argument"

# ---- check and dump: invalid tables, exact error and place ------------------------
run 1 "check at a GPA holding no table" "$SD" check --image "$T/typical.img" --gpa 0
err_is "SD_ERR_HDR_MAGIC (bad table magic) at table offset 0x0" "no table"
run 1 "check --json at a GPA holding no table" "$SD" check --image "$T/typical.img" --gpa 0 --json
json "j['verdict'] == 'invalid' and j['error'] == 'SD_ERR_HDR_MAGIC' and j['errno'] == 64 and j['chunk'] is None and j['offset'] == 0" \
	"no table JSON"
run 1 "check past the end of the image" "$SD" check --image "$T/typical.img" --gpa 0x10000000
err_is "SD_ERR_MEM_UNBACKED" "past the end"

# A bit flipped in chunk 3's bitmap: 256 MiB, 8 chunks: descriptors at 0x80,
# bitmap at 0x100, chunk 3's bits at 0x100 + 3 * 1024 = 0xd00.
cp "$T/all-private.img" "$T/flip.img"
g=$gpa_all_private
poke "$T/flip.img" $((g + 0xd00 + 40)) 1 0x10
run 1 "check a flipped bit" "$SD" check --image "$T/flip.img" --gpa "$g"
err_is "SD_ERR_CHUNK_COUNT (nr_shared differs from the chunk's popcount) in chunk 3 at table offset 0xb4" "flipped bit"
run 1 "dump a flipped bit --json" "$SD" dump --image "$T/flip.img" --gpa "$g" --json
json "j['error'] == 'SD_ERR_CHUNK_COUNT' and j['chunk'] == 3 and j['offset'] == 0xb4" "flipped bit JSON"
[ "$(wc -l <"$T/out")" -eq 1 ] && ok "dump of an invalid table prints no extents" || bad "dump printed extents"

# Unknown incompat bit, then a truncated image.
cp "$T/all-private.img" "$T/inc.img"
poke "$T/inc.img" $((g + 0x18)) 8 0x4
run 1 "check unknown incompat bit" "$SD" check --image "$T/inc.img" --gpa "$g"
err_is "SD_ERR_HDR_INCOMPAT (unknown incompatible feature bits) at table offset 0x18" "incompat"
cp "$T/all-private.img" "$T/trunc.img"
truncate -s $((g + 4096)) "$T/trunc.img"
run 1 "check a truncated image" "$SD" check --image "$T/trunc.img" --gpa "$g" --json
err_is "SD_ERR_MEM_UNBACKED" "truncated"
json "j['error'] == 'SD_ERR_MEM_UNBACKED' and j['errno'] == 32" "truncated JSON"

# ---- --paused: a guest stopped inside an update window ----------------------------
# Chunk 1 of the fragmented image: seq odd, pending pages 100..109 of the chunk.
cp "$T/fragmented.img" "$T/odd.img"
g=$gpa_fragmented
poke "$T/odd.img" $((g + 0x90)) 4 0x7
poke "$T/odd.img" $((g + 0x98)) 4 100
poke "$T/odd.img" $((g + 0x9c)) 4 10
run 1 "live check of a stopped window" "$SD" check --image "$T/odd.img" --gpa "$g" --attempts 3
err_is "SD_ERR_CHUNK_ODD (chunk count stayed odd on every attempt) in chunk 1 at table offset 0x90" "stopped window"
grep -q -- "--paused" "$T/err" && ok "the error suggests --paused" || bad "no --paused hint"
run 0 "paused check of a stopped window" "$SD" check --image "$T/odd.img" --gpa "$g" --paused --json
json "j['mode'] == 'paused' and j['transition_pages'] == 10 and j['transition_extents'] == 1" "paused check JSON"
run 0 "paused dump of a stopped window" "$SD" dump --image "$T/odd.img" --gpa "$g" --paused
grep -qx "transition 0x2064 10" "$T/out" && ok "paused dump lists the pages in transition" ||
	bad "paused dump: no 'transition 0x2064 10'"
run 0 "paused dump --json" "$SD" dump --image "$T/odd.img" --gpa "$g" --paused --json
json "[e for e in j['extents'] if e['state'] == 'transition'] == [{'gfn': 0x2064, 'pages': 10, 'state': 'transition'}]" \
	"paused dump JSON"
# A pending range that leaves its chunk is refused even paused.
poke "$T/odd.img" $((g + 0x9c)) 4 9000
run 1 "paused check of a bad pending range" "$SD" check --image "$T/odd.img" --gpa "$g" --paused
err_is "SD_ERR_CHUNK_PENDING (pending range lies outside its chunk) in chunk 1 at table offset 0x98" "bad pending"

echo "cli: $n checks, $failed failed"
[ "$failed" -eq 0 ]

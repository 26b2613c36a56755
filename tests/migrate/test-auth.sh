#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# test-auth.sh SEV_DONATE - authenticated peers (docs/STREAM.md 3, issue 17):
# a destination with the wrong key, a source the destination does not know,
# an impostor replaying a recorded HELLO, and version-1 peers on either side.
# Each case asserts the exact error on each side, the exit status, that no
# page left the source (its report: passes, pages and record bytes 0, never
# paused; or the fake peer's count of what it received), and that the guest
# went on on the source and checked every page it owns. Over TCP on
# loopback, each process under timeout(1).
#   MIGRATE_SLOW=n   multiply the deadlines by n (default 1)
bin=$1
here=$(dirname "$0")
slow=${MIGRATE_SLOW:-1}
ram=64
checked=$((ram * 256 - 4096))		# the lanes start at 16 MiB (vmm/migrate/demo.h)
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm not available"
	exit 77
fi
checks=0 failed=0
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
for k in src dst other fake; do "$bin" keygen --out "$d/$k" >/dev/null || exit 1; done
src_opts="--json --ram ${ram}M --warmup 100 --after 100 --timeout $((5000 * slow))"
lim=$((120 * slow))

# check NAME FILE PYTHON-EXPR: EXPR over j, the JSON in FILE.
check() {
	checks=$((checks + 1))
	if python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>/dev/null; then
		echo "ok $checks - $1"
	else
		failed=$((failed + 1))
		echo "not ok $checks - $1: $3"
		head -c 2000 "$2"; echo
	fi
}
is() {	# is NAME GOT WANT
	checks=$((checks + 1))
	if [ "$2" = "$3" ]; then echo "ok $checks - $1"
	else failed=$((failed + 1)); echo "not ok $checks - $1: got '$2', want '$3'"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# dest PORT ARGS...: a destination in the background, its report in $d/dst.json
dest() {
	port=$1; shift
	timeout -s KILL "$lim" "$bin" migrate --dest --listen "127.0.0.1:$port" --json \
		--timeout $((5000 * slow)) --accept-timeout $((60000 * slow)) "$@" >"$d/dst.json" 2>"$d/dst.err" &
	dpid=$!
	for i in $(seq 200); do grep -q "listening on" "$d/dst.err" && break; sleep 0.05; done
}
# source PORT ARGS...: the source, its report in $d/src.json, its exit status in $src_rc
source_run() {
	port=$1; shift
	timeout -s KILL "$lim" "$bin" migrate --source --connect "127.0.0.1:$port" $src_opts "$@" \
		>"$d/src.json" 2>"$d/src.err"
	src_rc=$?
}
nothing_sent="j['passes'] == 0 and j['bytes_sent'] == 0 and j['pages_plain'] == 0 and j['pages_encrypted'] == 0 and not j['source']['paused']"
resumed="j['result'] == 'failed' and j['source']['resumed'] and j['source']['verified'] and j['source']['pages_checked'] == $checked and j['source']['bad_content'] == 0 and j['source']['bad_state'] == 0 and not j['source']['committed']"
dest_ran_nothing="j['result'] == 'failed' and j['pages_plain'] == 0 and j['pages_encrypted'] == 0 and j['pages_checked'] == 0"

# 1. The destination holds another key than the one the source expects.
p=$(free_port)
dest "$p" --identity "$d/other"
source_run "$p" --identity "$d/src" --peer-key "$d/dst.pub" --seed 11
wait $dpid; dst_rc=$?
is "wrong destination key: the source exits 1" "$src_rc" 1
check "wrong destination key: SD_MIG_ERR_PEER_KEY at HELLO" "$d/src.json" "j['error'] == 'SD_MIG_ERR_PEER_KEY' and 'HELLO' in j['message'] and 'not the expected' in j['message']"
check "wrong destination key: no page sent, never paused" "$d/src.json" "$nothing_sent"
check "wrong destination key: the guest resumed on the source, intact" "$d/src.json" "$resumed"
is "wrong destination key: the destination exits 1" "$dst_rc" 1
check "wrong destination key: the destination saw the source hang up, ran nothing" "$d/dst.json" "j['error'] == 'SD_MIG_ERR_EOF' and 'HEADER' in j['message'] and $dest_ran_nothing"

# 2. A source the destination does not know (it expects src, other connects).
p=$(free_port)
dest "$p" --identity "$d/dst" --peer-key "$d/src.pub"
source_run "$p" --identity "$d/other" --peer-key "$d/dst.pub" --seed 12
wait $dpid; dst_rc=$?
is "unknown source: the destination exits 1" "$dst_rc" 1
check "unknown source: the destination refuses with SD_MIG_ERR_PEER_KEY at HEADER" "$d/dst.json" "j['error'] == 'SD_MIG_ERR_PEER_KEY' and 'HEADER: the source is' in j['message'] and $dest_ran_nothing"
is "unknown source: the source exits 1" "$src_rc" 1
check "unknown source: the source is refused (RESULT in place of AUTH), with the reason" "$d/src.json" "j['error'] == 'SD_MIG_ERR_REFUSED' and 'SD_MIG_ERR_PEER_KEY' in j['message']"
check "unknown source: no page sent, never paused" "$d/src.json" "$nothing_sent"
check "unknown source: the guest resumed on the source, intact" "$d/src.json" "$resumed"

# 3. An impostor replays the destination's recorded HELLO and AUTH. First a recording:
# the fake peer, as a source with its own key, gets the real destination's HELLO and AUTH.
p=$(free_port)
dest "$p" --identity "$d/dst"
rec=$(timeout -s KILL 60 python3 "$here/fake_peer.py" record "127.0.0.1:$p" "$d/fake" "$d/rec")
wait $dpid
is "replay: a HELLO and an AUTH recorded from the real destination" "$rec" "recorded"
p=$(free_port)
timeout -s KILL "$lim" python3 "$here/fake_peer.py" replay-dest "$p" "$d/rec" >"$d/fake.out" 2>&1 &
fpid=$!
source_run "$p" --identity "$d/src" --peer-key "$d/dst.pub" --seed 13
wait $fpid
is "replayed HELLO: the source exits 1" "$src_rc" 1
check "replayed HELLO: SD_MIG_ERR_PEER_SIG at AUTH (the old signature is not of this transcript)" "$d/src.json" "j['error'] == 'SD_MIG_ERR_PEER_SIG' and 'AUTH' in j['message']"
check "replayed HELLO: no page sent, never paused" "$d/src.json" "$nothing_sent"
is "replayed HELLO: the impostor received 0 bytes after HEADER" "$(cat "$d/fake.out")" 0
check "replayed HELLO: the guest resumed on the source, intact" "$d/src.json" "$resumed"

# 4. A version-1 destination: refused by version, before the source writes a byte.
p=$(free_port)
timeout -s KILL "$lim" python3 "$here/fake_peer.py" v1-dest "$p" >"$d/fake.out" 2>&1 &
fpid=$!
source_run "$p" --identity "$d/src" --peer-key "$d/dst.pub" --seed 14
wait $fpid
is "version-1 destination: the source exits 1" "$src_rc" 1
check "version-1 destination: SD_MIG_ERR_VERSION" "$d/src.json" "j['error'] == 'SD_MIG_ERR_VERSION' and 'version 1.0' in j['message']"
check "version-1 destination: no page sent, never paused" "$d/src.json" "$nothing_sent"
is "version-1 destination: it received 0 bytes (not even HEADER)" "$(cat "$d/fake.out")" 0
check "version-1 destination: the guest resumed on the source, intact" "$d/src.json" "$resumed"

# 5. A version-1 source: the destination refuses by version and says so in a RESULT,
# which a version-1 source can read; a version-1 reader of our HELLO stops at its version.
p=$(free_port)
dest "$p" --identity "$d/dst"
timeout -s KILL 60 python3 "$here/fake_peer.py" v1-source "127.0.0.1:$p" >"$d/fake.out" 2>&1
wait $dpid; dst_rc=$?
is "version-1 source: the destination exits 1" "$dst_rc" 1
check "version-1 source: the destination's SD_MIG_ERR_VERSION, nothing run" "$d/dst.json" "j['error'] == 'SD_MIG_ERR_VERSION' and $dest_ran_nothing"
is "version-1 source: our HELLO passes a version-1 reader's magic and CRC, then its version check" "$(sed -n 1p "$d/fake.out")" "v1-reader: magic SDMIGDST crc ok major 2"
case $(sed -n 2p "$d/fake.out") in "4 SD_MIG_ERR_VERSION: HEADER: version 1.0"*) r=0;; *) r=1;; esac
is "version-1 source: it got RESULT 4 (SD_MIG_ERR_VERSION)" "$r" 0
[ "$r" = 0 ] || cat "$d/fake.out"

echo "auth: $checks checks, $failed failed"
echo "$((checks - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]

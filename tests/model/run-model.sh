#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# run-model.sh - exhaustive spin verification of the protocol models.
#
#   tests/model/run-model.sh OUTDIR [NAME...]
#
# Runs every configuration in the table below (or only the NAMEs given):
# spin -a generates the verifier, gcc compiles it, pan searches the whole
# state space. Each configuration states its expected outcome:
#   pass            no error, and the search completed (not cut by depth or memory)
#   fail:A,B,...    at least one error, and pan's first error is one of A, B, ...:
#                   the property an assertion names first ("assertion violated
#                   (P1_copy_published && ...)" is P1_copy_published), or pan's own
#                   words for other errors ("acceptance cycle", "invalid end state")
# Mutants remove a barrier, swap writer steps or break the reader; they must
# fail, which shows the models can fail. Probes assert that an interesting
# situation never happens; they must fail too, which shows the situation is
# reached (the passing runs are not vacuous).
#
# Prints one line per configuration and a summary; exits 1 on any outcome
# other than the expected one. Each configuration's files (pan.out, and for
# failures the counterexample replayed by spin -t, trail.txt) stay in
# OUTDIR/NAME. MODEL_JOBS (default: the number of CPUs) runs that many at once.
# MODEL_DEEP=1 adds larger instances of the passing configurations (deep-*:
# about 5 minutes of CPU, and 4 GB for one of them); a NAME may also be one
# of those.
set -u

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run-model.sh OUTDIR [NAME...]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)

command -v spin >/dev/null 2>&1 || { echo "model: FAIL: spin not found (Debian package: spin)"; exit 1; }
CC=${CC:-cc}

# name | model | search | expect | spin -D options
configs() {
	cat <<'EOF'
protocol-live        | sd_protocol | safety   | pass | -DNO_PAUSE
protocol-paused      | sd_protocol | safety   | pass | -DNO_LIVE -DNUPD=2
hostile              | sd_hostile  | safety   | pass |
hostile-terminates   | sd_hostile  | liveness | pass |
mut-no-w1-live       | sd_protocol | safety   | fail:P1_copy_published | -DNO_PAUSE -DNO_W1
mut-no-w2-live       | sd_protocol | safety   | fail:P1_copy_published | -DNO_PAUSE -DNO_W2
mut-no-r1-live       | sd_protocol | safety   | fail:P1_copy_published | -DNO_PAUSE -DNO_R1
mut-no-r2-live       | sd_protocol | safety   | fail:P1_copy_published | -DNO_PAUSE -DNO_R2
mut-no-w1-paused     | sd_protocol | safety   | pass | -DNO_LIVE -DNUPD=2 -DNO_W1
mut-no-w2-paused     | sd_protocol | safety   | pass | -DNO_LIVE -DNUPD=2 -DNO_W2
mut-no-w0-paused     | sd_protocol | safety   | pass | -DNO_LIVE -DNUPD=2 -DNO_W0
mut-swap-range-odd   | sd_protocol | safety   | fail:P3_paused_read_ok,P4_verdict_right | -DNO_LIVE -DNUPD=2 -DSWAP_RANGE_ODD
mut-swap-even-bits-live   | sd_protocol | safety | fail:P1_copy_published | -DNO_PAUSE -DSWAP_EVEN_BITS
mut-swap-even-bits-paused | sd_protocol | safety | fail:P4_verdict_right | -DNO_LIVE -DNUPD=2 -DSWAP_EVEN_BITS
mut-convert-before-begin  | sd_protocol | safety | fail:P4_verdict_right | -DNO_LIVE -DNUPD=2 -DCONVERT_BEFORE_BEGIN
mut-convert-after-commit  | sd_protocol | safety | fail:P4_verdict_right | -DNO_LIVE -DNUPD=2 -DCONVERT_AFTER_COMMIT
mut-transient-outside-bits | sd_protocol | safety | fail:P4_verdict_right | -DNO_LIVE -DNUPD=2 -DTRANSIENT_OUTSIDE_BITS
mut-no-lock-live     | sd_protocol | safety   | fail:P1_copy_published,P5_table_final | -DNO_PAUSE -DNO_LOCK
mut-no-lock-paused   | sd_protocol | safety   | fail:P3_paused_read_ok,P4_verdict_right,P5_table_final | -DNO_LIVE -DNO_LOCK
mut-live-accept-odd  | sd_protocol | safety   | fail:P1_copy_published | -DNO_PAUSE -DLIVE_ACCEPT_ODD
mut-paused-ignore-range | sd_protocol | safety | fail:P4_verdict_right | -DNO_LIVE -DNUPD=2 -DPAUSED_IGNORE_RANGE
probe-live-accept-new | sd_protocol | safety  | fail:probe | -DNO_PAUSE -DPROBE_LIVE_ACCEPT_NEW
probe-live-retry     | sd_protocol | safety   | fail:probe | -DNO_PAUSE -DPROBE_LIVE_RETRY
probe-live-odd       | sd_protocol | safety   | fail:probe | -DNO_PAUSE -DPROBE_LIVE_ODD
probe-live-retries   | sd_protocol | safety   | fail:probe | -DNO_PAUSE -DPROBE_LIVE_RETRIES
probe-paused-mid-bits | sd_protocol | safety  | fail:probe | -DNO_LIVE -DNUPD=2 -DPROBE_PAUSED_MID_BITS
probe-paused-converting | sd_protocol | safety | fail:probe | -DNO_LIVE -DNUPD=2 -DPROBE_PAUSED_CONVERTING
hmut-no-bound        | sd_hostile  | safety   | fail:H1_bounded | -DNO_BOUND
hmut-no-bound-term   | sd_hostile  | liveness | fail:acceptance cycle | -DNO_BOUND
hmut-no-pad-check    | sd_hostile  | safety   | fail:H4_validated_copy | -DNO_PAD_CHECK
hmut-no-count-check  | sd_hostile  | safety   | fail:H4_validated_copy | -DNO_COUNT_CHECK
hmut-no-pending-check | sd_hostile | safety   | fail:H4_validated_copy | -DNO_PENDING_CHECK
hmut-no-table-check  | sd_hostile  | safety   | fail:H4_validated_copy | -DNO_TABLE_CHECK
hmut-double-fetch    | sd_hostile  | safety   | fail:H4_validated_copy | -DDOUBLE_FETCH
hmut-live-accept-odd | sd_hostile  | safety   | fail:H2_named_result,H4_validated_copy | -DLIVE_ACCEPT_ODD
hprobe-ok-odd        | sd_hostile  | safety   | fail:probe | -DPROBE_OK_ODD
hprobe-retries       | sd_hostile  | safety   | fail:probe | -DPROBE_RETRIES
EOF
	# Larger instances of the passing configurations: minutes and up to 4 GB.
	[ "${MODEL_DEEP:-0}" = 1 ] || [ "$#" -gt 0 ] || return 0
	cat <<'EOF'
deep-protocol-both   | sd_protocol | safety   | pass |
deep-protocol-live-att3   | sd_protocol | safety | pass | -DNO_PAUSE -DATT=3
deep-protocol-live-nupd4  | sd_protocol | safety | pass | -DNO_PAUSE -DNW=1 -DNUPD=4
deep-protocol-paused-nupd4 | sd_protocol | safety | pass | -DNO_LIVE -DNUPD=4
deep-hostile-att5    | sd_hostile  | safety   | pass | -DATT=5
EOF
}

field() { echo "$1" | cut -d'|' -f"$2" | sed 's/^ *//; s/ *$//'; }

# Run one configuration; writes OUTDIR/NAME/result (one line).
run_one() {
	line=$1
	name=$(field "$line" 1); model=$(field "$line" 2); search=$(field "$line" 3)
	expect=$(field "$line" 4); defs=$(field "$line" 5)
	d=$out/$name
	rm -rf "$d" && mkdir -p "$d" && cp "$here/$model.pml" "$d/"
	cd "$d" || return
	case $search in
	safety)   panflags="-DSAFETY -DNOCLAIM"; runflags="" ;;
	liveness) panflags=""; runflags="-a -A" ;;	# -A: assertions are the safety run's job
	esac
	start=$(date +%s)
	# shellcheck disable=SC2086
	if ! spin -a $defs "$model.pml" >spin.log 2>&1; then
		echo "UNEXPECTED $name: spin -a failed (see $d/spin.log)" >result; return
	fi
	# Complete searches are long: optimise. Failing ones stop early: compile fast.
	case $expect in pass) opt=-O2 ;; *) opt=-O0 ;; esac
	# shellcheck disable=SC2086
	if ! $CC -w $opt -DCOLLAPSE -DMEMLIM=12288 $panflags -o pan pan.c >cc.log 2>&1; then
		echo "UNEXPECTED $name: cc pan.c failed (see $d/cc.log)" >result; return
	fi
	# shellcheck disable=SC2086
	./pan -m100000 $runflags >pan.out 2>&1
	end=$(date +%s)

	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | head -n1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.out | head -n1)
	trans=$(sed -n 's/^ *\([0-9.e+]*\) transitions.*/\1/p' pan.out | head -n1)
	mem=$(sed -n 's/^ *\([0-9.]*\).*total actual memory usage.*/\1/p' pan.out | head -n1)
	ptime=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\) seconds.*/\1/p' pan.out | head -n1)
	depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.out | head -n1)
	first=$(grep -m1 '^pan:1:' pan.out | sed 's/^pan:1: //')
	incomplete=$(grep -m1 -E 'max search depth too small|Search not completed|MEMLIM|out of memory' pan.out)
	why=$(echo "$first" | sed -n 's/^assertion violated (\{1,\}\([A-Za-z0-9_]*\).*/assertion \1/p')
	[ -n "$why" ] || why=$(echo "$first" | sed 's/ (at depth.*//')
	stats="states=${states:-?} transitions=${trans:-?} depth=${depth:-?} mem=${mem:-?}MB pan=${ptime:-?}s total=$((end - start))s"

	verdict=UNEXPECTED
	case $expect in
	pass)
		if [ "${errors:-x}" = 0 ] && [ -z "$incomplete" ]; then
			verdict=ok; got="no errors, search complete"
		else
			got="errors=${errors:-?} ${first:-$incomplete}"
		fi ;;
	fail:*)
		re=$(echo "${expect#fail:}" | tr ',' '|')
		if [ -n "$errors" ] && [ "$errors" -gt 0 ] && echo "$why" | grep -Eq "^(assertion )?($re)\$"; then
			verdict=ok
		fi
		got=${why:-no error}
		# the counterexample, replayed
		# shellcheck disable=SC2086
		[ -n "$first" ] && spin -t -p -g -l $defs "$model.pml" >trail.txt 2>&1 ;;
	esac
	printf '%-10s %-28s %-9s expect=%-s  got: %s  %s\n' \
		"$verdict" "$name" "$search" "$expect" "$got" "$stats" >result
}

if [ "${MODEL_ONE:-}" ]; then
	run_one "$MODEL_ONE"
	exit 0
fi

list=$(configs "$@" | grep -v '^ *$')
if [ $# -gt 0 ]; then
	sel=""
	for n in "$@"; do
		l=$(echo "$list" | awk -F'|' -v n="$n" '{ x = $1; gsub(/ /, "", x); if (x == n) print }')
		[ -n "$l" ] || { echo "model: no configuration named $n"; exit 1; }
		sel="$sel$l
"
	done
	list=$(printf '%s' "$sel")
fi

jobs=${MODEL_JOBS:-$(nproc 2>/dev/null || echo 1)}
echo "model: $(echo "$list" | wc -l) configurations, $jobs at a time, in $out ($(spin -V))"
t0=$(date +%s)
echo "$list" | tr '\n' '\0' | xargs -0 -P "$jobs" -I{} env MODEL_ONE={} "$0" "$out"
t1=$(date +%s)

ok=0 bad=0
for name in $(echo "$list" | cut -d'|' -f1); do
	if [ -f "$out/$name/result" ]; then
		cat "$out/$name/result"
		case $(cat "$out/$name/result") in ok*) ok=$((ok + 1)) ;; *) bad=$((bad + 1)) ;; esac
	else
		echo "UNEXPECTED $name: no result"; bad=$((bad + 1))
	fi
done
echo "model: $ok as expected, $bad unexpected ($((t1 - t0))s)"
[ "$bad" -eq 0 ]

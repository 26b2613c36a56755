#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""run-tests.py - run test programs under a deadline each, as kselftest does.

    run-tests.py [--timeout SECONDS] PROGRAM...

Every program runs in its own session (so its own process group), with its
output passed straight through. Exit status 77 means "skipped" (the automake
convention; the program prints its own loud SKIP: line). A program still
running at its deadline is killed with its whole process group and reported
as `TIMEOUT: PROGRAM (after N s)`; it counts as failed. Whatever a program
leaves behind in its group when it exits is killed too.

Deadlines: --timeout (default 120 s, or SD_TEST_TIMEOUT), and per program
SD_TEST_TIMEOUTS="PROGRAM=SECONDS ...". The Makefile builds that list from
the CHECK_TIMEOUTS lines that sit next to each test in its module.mk.

The run ends with `test programs: N passed, N failed, N skipped`.
"""
import os
import signal
import subprocess
import sys
import time

SKIP = 77


def parse_timeouts(text):
    table = {}
    for item in text.split():
        name, sep, secs = item.rpartition("=")
        if not sep or not name:
            sys.exit(f"run-tests: bad SD_TEST_TIMEOUTS entry '{item}' (want PROGRAM=SECONDS)")
        try:
            table[name] = float(secs)
        except ValueError:
            sys.exit(f"run-tests: bad deadline in '{item}'")
        if table[name] <= 0:
            sys.exit(f"run-tests: deadline in '{item}' must be positive")
    return table


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_one(prog, deadline):
    """Returns 'pass', 'skip', 'fail' or 'timeout', and a note."""
    try:
        p = subprocess.Popen([prog], start_new_session=True)
    except OSError as e:
        return "fail", f"cannot run: {e.strerror}"
    try:
        rc = p.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        kill_group(p.pid)
        p.wait()
        return "timeout", f"after {deadline:g} s"
    except KeyboardInterrupt:
        kill_group(p.pid)
        p.wait()
        raise
    kill_group(p.pid)	# stragglers a test left in its group
    if rc == 0:
        return "pass", ""
    if rc == SKIP:
        return "skip", ""
    if rc < 0:
        return "fail", f"signal {-rc} ({signal.Signals(-rc).name})"
    return "fail", f"exit {rc}"


def main(argv):
    default = float(os.environ.get("SD_TEST_TIMEOUT", "120"))
    args = argv[1:]
    if len(args) >= 2 and args[0] == "--timeout":
        default = float(args[1])
        args = args[2:]
    table = parse_timeouts(os.environ.get("SD_TEST_TIMEOUTS", ""))
    passed = failed = skipped = 0
    failures = []
    for prog in args:
        deadline = table.get(prog, default)
        print(f"==> {prog}", flush=True)
        t0 = time.monotonic()
        verdict, note = run_one(prog, deadline)
        secs = time.monotonic() - t0
        sys.stdout.flush()
        if verdict == "pass":
            passed += 1
        elif verdict == "skip":
            skipped += 1
            print(f"SKIP: {prog}")
        elif verdict == "timeout":
            failed += 1
            failures.append(prog)
            print(f"TIMEOUT: {prog} ({note})")
        else:
            failed += 1
            failures.append(prog)
            print(f"FAIL: {prog} ({note})")
        print(f"<== {prog}: {verdict} in {secs:.1f} s", flush=True)
    print(f"test programs: {passed} passed, {failed} failed, {skipped} skipped")
    if failures:
        print("failed: " + " ".join(failures))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

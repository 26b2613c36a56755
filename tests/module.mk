# SPDX-License-Identifier: GPL-2.0 OR MIT
# tests/: checks that are scripts rather than CMocka programs.
CHECK_BINS += tests/check-spec.py tests/check-stream.py tests/conformance/check-vectors.sh

# The runner's own deadlines: a program past its deadline is a TIMEOUT.
CHECK_BINS += tests/runner/test-runner.sh
# scripts/deps.sh against a fake dpkg and apt-get.
CHECK_BINS += tests/scripts/test-deps.sh
# The version in one place (sd_version.h): debian/changelog agrees.
CHECK_BINS += tests/scripts/test-version.sh
# Every installed function has a kernel-doc comment that kernel-doc -v reads cleanly.
CHECK_BINS += tests/scripts/test-kernel-doc.sh

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Regenerate the conformance vectors from SPEC.md's model and compare them
# byte for byte with the committed ones.
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not available: conformance vectors not regenerated"
	exit 77
fi
exec python3 "$(dirname "$0")/gen_vectors.py" --check

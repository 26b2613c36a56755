# tests/: checks that are scripts rather than CMocka programs.
CHECK_BINS += tests/check-spec.py tests/conformance/check-vectors.sh

#!/usr/bin/env bash
# run-all.sh — the whole suite as `make check` runs it, after the builds:
#   1. C unit tests (cmocka) under AddressSanitizer and UndefinedBehaviorSanitizer;
#   2. every libFuzzer target for a bounded number of runs;
#   3. integration tests: the real (ASan-built) daemon driven by openid-client;
#   4. the browser test: headless Chromium through playwright-core;
#   5. the Debian package: make deb, dpkg -i, a login as the idhub user, purge (root only).
# It prints each runner's own output, then one closing line "N passed, N failed" counting tests.
set -u
cd "$(dirname "$0")/.."

pass=0
fail=0
failed=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # $1 name, $2 exit code, $3 passed, $4 failed
	pass=$((pass + $3))
	fail=$((fail + $4))
	if [ "$2" -ne 0 ] || [ "$4" -ne 0 ]; then
		failed+=("$1")
		[ "$4" -eq 0 ] && fail=$((fail + 1))
	fi
}

echo "== C unit tests (ASan + UBSan)"
for t in build/asan/tests/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	# summed: a binary may run several groups (test_store: one per store backend)
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	count "$(basename "$t")" "$rc" "${p:-0}" "${f:-0}"
done

echo "== fuzz targets (bounded)"
for f in build/fuzz/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	"$f" -runs="${FUZZ_RUNS:-200000}" -max_total_time="${FUZZ_SECONDS:-45}" -rss_limit_mb=2048 \
		-artifact_prefix="$work/" "$work" >"$log" 2>&1
	rc=$?
	tail -3 "$log"
	if [ $rc -eq 0 ]; then count "$name" 0 1 0; else cat "$log"; count "$name" 1 0 1; fi
	rm -rf "$work"
done

node_suite() { # $1 name, $2 directory under tests/
	# bounded: a suite that hangs (a test waiting on a process that never answers) is killed and
	# counted as failed, instead of running CI past its limit
	echo "== $1"
	(cd tests && timeout --kill-after=10 "${SUITE_TIMEOUT:-1200}" node --test --test-reporter=tap --test-reporter-destination=stdout "$2"/) >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
	count "$1" "$rc" "${p:-0}" "${f:-0}"
}
node_suite "integration tests (openid-client against the ASan daemon)" integration
node_suite "fault tests (kill -9, full map, full disk, killed backup, hostile clients, slow IdP)" faults
node_suite "browser test (headless Chromium)" browser
node_suite "Debian package (make deb, install, sign-in as idhub, purge; skipped unless root)" package

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

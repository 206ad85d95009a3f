#!/usr/bin/env bash
# bench/profile.sh [login|warm|token] — where the hub's time goes: starts the release hub with the bench
# config, warms it up, records a bounded run with `perf record --call-graph dwarf` and prints the
# hottest functions (self and with children) and the split between shared objects. Not part of
# `make bench`; needs linux-perf (deploy/deps/bench.test). BENCH_KEEP=1 keeps perf.data.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
MODE=${1:-login}
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
make --no-print-directory build/idhub build/adapters/idhub-adapter-sandbox.so >/dev/null
make --no-print-directory -C bench >/dev/null
bench_tmp
trap bench_cleanup EXIT
: >"$BENCH_TMP/results"
start_hub prof 2
case $MODE in
login) ARGS=(--warmup 1000 --logins 4000 --user-prefix pr) ;;
warm) ARGS=(--warmup 1000 --repeat-users 1000 --logins 6000 --user-prefix pw) ;;
token) ARGS=(--mode token --logins 10000 --user-prefix pt) ;;
*) echo "usage: bench/profile.sh [login|warm|token]" >&2; exit 2 ;;
esac
if [ "$MODE" = token ]; then
	# minting takes a while: record only the token phase, which starts when minting ends
	bench/build/loadgen --port "$HUB_PORT" --pid "$HUB_PID" --client-id "$BENCH_CLIENT" \
		--secret "$BENCH_SECRET" --redirect-uri "$BENCH_REDIRECT" --vus 16 "${ARGS[@]}" \
		2>"$BENCH_TMP/lg.err" >"$BENCH_TMP/lg.out" &
	LG=$!
	until grep -q minted "$BENCH_TMP/lg.err" 2>/dev/null; do sleep 0.05; done
	perf record -q -F 1999 --call-graph dwarf,16384 -p "$HUB_PID" -o "$BENCH_TMP/perf.data" &
	PERF=$!
	wait "$LG" || true
	kill -INT "$PERF"
	wait "$PERF" || true
	cat "$BENCH_TMP/lg.err"
else
	bench/build/loadgen --port "$HUB_PORT" --pid "$HUB_PID" --client-id "$BENCH_CLIENT" \
		--secret "$BENCH_SECRET" --redirect-uri "$BENCH_REDIRECT" --vus 16 --warmup 1000 \
		--logins 1 --user-prefix pre >/dev/null 2>&1 || true
	perf record -q -F 999 --call-graph dwarf,16384 -p "$HUB_PID" -o "$BENCH_TMP/perf.data" &
	PERF=$!
	sleep 0.3
	bench/build/loadgen --port "$HUB_PORT" --pid "$HUB_PID" --client-id "$BENCH_CLIENT" \
		--secret "$BENCH_SECRET" --redirect-uri "$BENCH_REDIRECT" --vus 16 "${ARGS[@]}" >/dev/null || true
	kill -INT "$PERF"
	wait "$PERF" || true
fi
R=(perf report -i "$BENCH_TMP/perf.data" --stdio -g none)
echo "== shared objects (self)"
"${R[@]}" --no-children --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -10 || true
echo "== hottest functions (self)"
"${R[@]}" --no-children --sort dso,sym 2>/dev/null | grep -E '^ +[0-9]' | head -30 || true
echo "== hub functions with their callees (children)"
"${R[@]}" --children --sort sym 2>/dev/null | grep -E '^ +[0-9]' | grep -v '\[k\]' |
	grep -vE '0x0000|clone3|start_thread' | head -60 || true
if [ -n "${BENCH_KEEP:-}" ]; then echo "perf data: $BENCH_TMP/perf.data"; fi

#!/usr/bin/env bash
# bench/instructions.sh [TREE] [LOGINS] — user-space instructions the release hub executes per full
# login (valgrind's callgrind, "Ir"), a figure that does not move with the load of a shared machine,
# unlike CPU time. TREE: a built source tree (default: this one; another checkout, for a before and
# after comparison, needs `make build/idhub build/adapters/idhub-adapter-sandbox.so` there). The hub
# runs uninstrumented through a warm-up of 200 logins, then LOGINS (default 500) logins by
# bench/build/loadgen (4 virtual users) are counted. Not part of `make bench`; needs valgrind
# (deploy/deps/bench.test). Prints "instructions/login=N".
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD
TREE=$(cd "${1:-.}" && pwd)
LOGINS=${2:-500}
command -v valgrind >/dev/null || { echo "instructions: valgrind is missing" >&2; exit 1; }
make --no-print-directory -C bench >/dev/null
. bench/lib.sh
bench_tmp
trap bench_cleanup EXIT
dir="$BENCH_TMP/hub"
hub_conf "$dir" "$TREE/build/adapters" 2
# an older tree may not know metrics_listen or journeys_per_minute: drop what it refuses
if "$TREE/build/idhub" --check-config "$dir/hub.conf" 2>&1 | grep -q 'metrics_listen\|journeys_per_minute'; then
	sed -i '/metrics_listen\|journeys_per_minute/d' "$dir/hub.conf"
fi
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/cg.%p" \
	"$TREE/build/idhub" --config "$dir/hub.conf" 2>"$dir/hub.log" &
HUB_PID=$!
BENCH_PIDS+=("$HUB_PID")
for _ in $(seq 1 600); do
	curl -fs -o /dev/null "http://127.0.0.1:$HUB_PORT/healthz" && break
	sleep 0.1
done
LG=(bench/build/loadgen --port "$HUB_PORT" --client-id "$BENCH_CLIENT" --secret "$BENCH_SECRET"
	--redirect-uri "$BENCH_REDIRECT" --vus 4)
"${LG[@]}" --warmup 0 --logins 200 --user-prefix iw >/dev/null 2>&1
callgrind_control -i on "$HUB_PID" >/dev/null
"${LG[@]}" --warmup 0 --logins "$LOGINS" --user-prefix im >"$dir/lg.out" 2>"$dir/lg.err"
callgrind_control -d "$HUB_PID" >/dev/null
callgrind_control -i off "$HUB_PID" >/dev/null
stop_pid "$HUB_PID"
out=$(ls "$dir"/cg.*.1 2>/dev/null | head -1)
[ -n "$out" ] || { cat "$dir/hub.log" >&2; exit 1; }
ok=$(sed -n 's/.*done=\([0-9]*\).*/\1/p' "$dir/lg.out" | head -1)
ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out" | head -1)
[ -z "$ir" ] && ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out" | head -1)
echo "tree=$TREE logins=$LOGINS completed=${ok:-?} instructions=$ir instructions/login=$((ir / LOGINS))"
if [ -n "${BENCH_KEEP:-}" ]; then
	cp "$out" "$HERE/callgrind.out.$(basename "$TREE")"
	echo "profile: $HERE/callgrind.out.$(basename "$TREE") (callgrind_annotate)"
fi

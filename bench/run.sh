#!/usr/bin/env bash
# bench/run.sh — `make bench`: idhub and node's oidc-provider side by side, in one run, on this
# machine. Builds the load generator, starts the hub (build/idhub, the release build, sandbox mode,
# a bench config in a temp dir) and the peer on free loopback ports, runs every measurement with a
# bounded count and time, stops what it started, and writes bench/results/latest.md.
#
# The deciding figure is server CPU per complete login (utime+stime of the server process from
# /proc/PID/stat, read by the load generator just before and after the measured phase); logins/s and
# latency are bounded by the 2 cores the server and the load generator share.
#
# Environment: BENCH_VUS (16), BENCH_SECONDS (15: the cap of each whole-login run), BENCH_KEEP=1
# keeps the temp dir (configs, logs, raw results).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

VUS=${BENCH_VUS:-16}
SECS=${BENCH_SECONDS:-15}
OUT=bench/results/latest.md
START=$(date +%s)

for t in node openssl curl wrk; do
	command -v "$t" >/dev/null || {
		echo "bench: $t is missing (apt-get install $(cat deploy/deps/bench.test | grep -v '^#' | tr '\n' ' '))" >&2
		exit 1
	}
done
[ -d tests/node_modules/oidc-provider ] || {
	echo "bench: tests/node_modules/oidc-provider is missing: run deploy/install-deps.sh --with-tests" >&2
	exit 1
}
# adapters are built from their .c only: rebuild any that is older than the ABI header
for so in build/adapters/*.so; do
	if [ -f "$so" ] && [ include/idhub/adapter.h -nt "$so" ]; then
		echo "bench: $so is older than include/idhub/adapter.h: rebuilding it"
		rm -f "$so"
	fi
done
make --no-print-directory build/idhub build/adapters/idhub-adapter-sandbox.so >/dev/null
make --no-print-directory -C bench >/dev/null
[ -x build/idhub ] || { echo "bench: build/idhub is missing" >&2; exit 1; }

bench_tmp
trap bench_cleanup EXIT
: >"$BENCH_TMP/results"
echo "bench: temp dir $BENCH_TMP; $VUS virtual users; whole-login runs capped at $SECS s"

# ---- the raw signing rate of this machine
SIGN=$(openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/nistp256/ {print $(NF-1); exit}')
record openssl sign_per_s="$SIGN"
echo "bench: openssl speed ecdsap256: $SIGN ES256 signatures/s on one core"

# wrk_run LABEL URL PID: 5 s, 1 thread, 16 connections; req/s, p99, server CPU per request
wrk_run() {
	local label=$1 url=$2 pid=$3 t0 t1 out
	t0=$(cpu_ticks "$pid")
	out=$(wrk -t1 -c"$VUS" -d5s --latency "$url")
	t1=$(cpu_ticks "$pid")
	local rps p99 n
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; print v}' <<<"$out")
	local cpu_us
	cpu_us=$(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", d / hz * 1e6 / n}')
	record "$label" rate="$rps" p99_ms="$p99" server_cpu_us="$cpu_us"
	echo "bench: $label: $rps req/s, p99 $p99 ms, server CPU $cpu_us us/request"
}

LG_IDHUB=(--target idhub --vus "$VUS")
LG_PEER=(--target peer --vus "$VUS")

# ---- idhub, 2 threads
start_hub hub2 2
echo "bench: idhub (threads = 2) on port $HUB_PORT, pid $HUB_PID"
loadgen smoke "$HUB_PORT" "$HUB_PID" --target idhub --vus 1 --logins 5 --verify-every 1 --user-prefix smoke
if [ "$(val smoke errors)" != 0 ] || [ "$(val smoke verified)" != 5 ]; then
	echo "bench: a single login against the hub fails; see above" >&2
	exit 1
fi
loadgen hub_login "$HUB_PORT" "$HUB_PID" "${LG_IDHUB[@]}" --warmup 500 --user-prefix wa \
	--logins 30000 --seconds "$SECS" --verify-every 50
loadgen hub_warm "$HUB_PORT" "$HUB_PID" "${LG_IDHUB[@]}" --warmup 1000 --repeat-users 1000 \
	--user-prefix rp --logins 30000 --seconds 10 --verify-every 50
loadgen hub_token "$HUB_PORT" "$HUB_PID" "${LG_IDHUB[@]}" --mode token --user-prefix tk \
	--logins 12000 --seconds 20 --verify-every 50
# single sign-on: each virtual user has a hub session; every timed login is a second service's
# /authorize answered at once with a code, and its redemption (issue 11's target: 0.10 ms CPU)
loadgen hub_sso "$HUB_PORT" "$HUB_PID" "${LG_IDHUB[@]}" --mode sso --sso-client "${BENCH_CLIENT}2" \
	--user-prefix ss --logins 30000 --seconds 10 --verify-every 50
wrk_run hub_discovery "http://127.0.0.1:$HUB_PORT/.well-known/openid-configuration" "$HUB_PID"
wrk_run hub_jwks "http://127.0.0.1:$HUB_PORT/jwks" "$HUB_PID"

# ---- syscalls per login (fsync pattern), under strace on a small bounded run
if command -v strace >/dev/null; then
	strace -f -c -o "$BENCH_TMP/strace.txt" -p "$HUB_PID" 2>/dev/null &
	STRACE_PID=$!
	sleep 1
	loadgen hub_strace "$HUB_PORT" "$HUB_PID" --target idhub --vus 4 --logins 500 --user-prefix st \
		--verify-every 0
	sleep 0.5
	kill -INT "$STRACE_PID" 2>/dev/null || true
	wait "$STRACE_PID" 2>/dev/null || true
	n=$(val hub_strace done)
	sc() { awk -v s="$1" -v n="$n" '$NF == s {printf "%.2f", $4 / n; f = 1} END {if (!f) print 0}' "$BENCH_TMP/strace.txt"; }
	total=$(awk -v n="$n" '$NF == "total" {printf "%.1f", $4 / n}' "$BENCH_TMP/strace.txt")
	top=$(awk -v n="$n" 'NF >= 5 && $1 ~ /^[0-9.]+$/ && $NF != "total" {printf "%s %s:%.1f\n", $4, $NF, $4 / n}' \
		"$BENCH_TMP/strace.txt" | sort -rn | head -8 | awk '{printf "%s%s", (NR > 1 ? "," : ""), $2}')
	record strace top="$top" fsync="$(sc fsync)" fdatasync="$(sc fdatasync)" msync="$(sc msync)" \
		pwrite64="$(sc pwrite64)" total="$total"
	echo "bench: per login: fdatasync $(sc fdatasync), fsync $(sc fsync), msync $(sc msync), pwrite64 $(sc pwrite64), $total syscalls"
fi
HWM_HUB=$(status_kb "$HUB_PID" VmHWM)
record hub_mem hwm_mb="$(awk -v k="$HWM_HUB" 'BEGIN {printf "%.1f", k / 1024}')"
stop_pid "$HUB_PID"

# ---- idhub, 1 thread: how throughput scales with server threads
start_hub hub1 1
loadgen hub1_login "$HUB_PORT" "$HUB_PID" "${LG_IDHUB[@]}" --warmup 300 --user-prefix o1 \
	--logins 30000 --seconds 10 --verify-every 50
stop_pid "$HUB_PID"

# ---- idhub with 100,000 live journeys: memory
start_hub hubmem 2
loadgen hub_journeys "$HUB_PORT" "$HUB_PID" --target idhub --vus "$VUS" --mode authorize \
	--logins 100000 --seconds 90
record hub_journeys_mem rss_mb="$(awk -v k="$(status_kb "$HUB_PID" VmRSS)" 'BEGIN {printf "%.1f", k / 1024}')" \
	hwm_mb="$(awk -v k="$(status_kb "$HUB_PID" VmHWM)" 'BEGIN {printf "%.1f", k / 1024}')" \
	anon_mb="$(awk -v k="$(status_kb "$HUB_PID" RssAnon)" 'BEGIN {printf "%.1f", k / 1024}')" \
	file_mb="$(awk -v k="$(status_kb "$HUB_PID" RssFile)" 'BEGIN {printf "%.1f", k / 1024}')" \
	store_mb="$(du -sm "$BENCH_TMP/hubmem/state" | awk '{print $1}')"
stop_pid "$HUB_PID"

# ---- two nodes on PostgreSQL behind HAProxy (issue 10): the same logins through the balancer;
# server CPU = the two daemons + every postgres process; statements per login from
# pg_stat_statements (each is one round trip: prepared, one per verb, BEGIN/COMMIT around batches)
pg_row() {
	# its own directory under /tmp: the server runs as nobody when we are root, and cannot enter
	# the 0700 temp dir
	local conninfo lbport a b ticks0 ticks1 calls
	PG_BENCH_DIR=$(mktemp -d /tmp/idhub-bench-pg.XXXXXX)
	local pgdir=$PG_BENCH_DIR
	command -v haproxy >/dev/null || { echo "bench: haproxy missing: several-node row skipped"; return 0; }
	conninfo=$(IDHUB_PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on" \
		sh tests/pg/cluster.sh start "$pgdir") || { echo "bench: no PostgreSQL 15: several-node row skipped"; return 0; }
	psql "$conninfo" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
	lbport=$(free_port)
	BENCH_ISSUER="http://127.0.0.1:$lbport"
	BENCH_HUB_EXTRA="store = \"postgresql\"; store_conninfo = \"$conninfo\";"
	local pa pb
	if ! start_hub pgA 2; then echo "bench: node A did not start: several-node row skipped"; return 0; fi
	a=$HUB_PID pa=$HUB_PORT
	if ! start_hub pgB 2; then echo "bench: node B did not start: several-node row skipped"; return 0; fi
	b=$HUB_PID pb=$HUB_PORT
	unset BENCH_ISSUER BENCH_HUB_EXTRA
	printf 'defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\nfrontend f\n  bind 127.0.0.1:%s\n  default_backend n\nbackend n\n  balance roundrobin\n  server a 127.0.0.1:%s\n  server b 127.0.0.1:%s\n' \
		"$lbport" "$pa" "$pb" >"$BENCH_TMP/haproxy.cfg"
	haproxy -db -f "$BENCH_TMP/haproxy.cfg" 2>"$BENCH_TMP/haproxy.log" &
	BENCH_PIDS+=("$!")
	local hp=$!
	wait_http "http://127.0.0.1:$lbport/healthz"
	loadgen pg_warm "$lbport" "$a" "${LG_IDHUB[@]}" --warmup 0 --logins 300 --seconds 10 --user-prefix pw
	psql "$conninfo" -qc "SELECT pg_stat_statements_reset()" >/dev/null
	local pm
	pm=$(head -1 "$pgdir/data/postmaster.pid")
	pg_ticks() { local t=0 p; for p in "$a" "$b" "$pm" $(pgrep -P "$pm"); do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo "$t"; }
	ticks0=$(pg_ticks)
	loadgen pg_login "$lbport" "$a" "${LG_IDHUB[@]}" --warmup 0 --user-prefix pn \
		--logins 30000 --seconds "$SECS" --verify-every 50
	ticks1=$(pg_ticks)
	calls=$(psql "$conninfo" -Atc "SELECT sum(calls) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'")
	local n
	n=$(val pg_login done)
	record pg_row cpu_ms="$(awk -v d=$((ticks1 - ticks0)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {if (n > 0) printf "%.3f", d / hz * 1000 / n; else print "n/a"}')" \
		stmts="$(awk -v c="${calls:-0}" -v n="$n" 'BEGIN {if (n > 0) printf "%.1f", c / n; else print "n/a"}')"
	stop_pid "$hp"
	stop_pid "$a"
	stop_pid "$b"
	sh tests/pg/cluster.sh stop "$pgdir"
	rm -rf "$pgdir"
}
pg_row || {
	echo "bench: the several-node row failed (see $BENCH_TMP)"
	sh tests/pg/cluster.sh stop "$PG_BENCH_DIR" 2>/dev/null || true
	rm -rf "$PG_BENCH_DIR"
}

# ---- the peer: node's oidc-provider
start_peer
echo "bench: oidc-provider on port $PEER_PORT, pid $PEER_PID"
loadgen peer_login "$PEER_PORT" "$PEER_PID" "${LG_PEER[@]}" --warmup 500 --user-prefix pa \
	--logins 30000 --seconds "$SECS" --verify-every 50
wrk_run peer_discovery "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" "$PEER_PID"
wrk_run peer_jwks "http://127.0.0.1:$PEER_PORT/jwks" "$PEER_PID"
record peer_mem hwm_mb="$(awk -v k="$(status_kb "$PEER_PID" VmHWM)" 'BEGIN {printf "%.1f", k / 1024}')"
stop_pid "$PEER_PID"

# ---- the report
f() { local v; v=$(val "$1" "$2"); echo "${v:-n/a}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b + 0 > 0 && a != "n/a") printf "%.2f", a / b; else print "n/a"}'; }
meets() { # VALUE OP LIMIT
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {if (v == "n/a" || v == "") {print "n/a"; exit}
		ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0); print ok ? "**met**" : "missed"}'
}
CPU_H=$(f hub_login server_cpu_ms)
CPU_P=$(f peer_login server_cpu_ms)
RATE_H=$(f hub_login rate)
RATE_P=$(f peer_login rate)
P99_H=$(f hub_login p99_ms)
P99_P=$(f peer_login p99_ms)
CPU_RATIO=$(ratio "$CPU_P" "$CPU_H")
RATE_RATIO=$(ratio "$RATE_H" "$RATE_P")
TOK=$(f hub_token rate)
TOK_PCT=$(awk -v t="$TOK" -v s="$SIGN" 'BEGIN {if (s > 0) printf "%.1f", 100 * t / s; else print "n/a"}')
ELAPSED=$(($(date +%s) - START))

mkdir -p bench/results
{
	echo "# idhub benchmark: latest run"
	echo
	echo "Written by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'), in ${ELAPSED} s."
	echo
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, Linux $(uname -r). Server and load generator share these CPUs."
	echo
	echo "Versions: idhub $(git describe --always --dirty 2>/dev/null || echo '?') (build/idhub, -O2), $(gcc --version | head -1), OpenSSL $(openssl version | awk '{print $2}'), libmicrohttpd $(pkg-config --modversion libmicrohttpd), LMDB $(pkg-config --modversion lmdb), jansson $(pkg-config --modversion jansson); node $(node --version), oidc-provider $(node -p "require('./tests/node_modules/oidc-provider/package.json').version"); $(wrk --version 2>&1 | head -1 | awk '{print "wrk", $2}')."
	echo
	echo "## Full federated logins, side by side ($VUS concurrent users, distinct users: each login creates a pairwise record)"
	echo
	echo "| per complete login | idhub | oidc-provider | idhub/peer |"
	echo "| --- | ---: | ---: | ---: |"
	echo "| logins/s | $RATE_H | $RATE_P | $RATE_RATIO× |"
	echo "| p50 / p95 / p99 (ms) | $(f hub_login p50_ms) / $(f hub_login p95_ms) / $P99_H | $(f peer_login p50_ms) / $(f peer_login p95_ms) / $P99_P | p99 $(ratio "$P99_H" "$P99_P") |"
	echo "| **server CPU (ms)** | **$CPU_H** | **$CPU_P** | $(ratio "$CPU_H" "$CPU_P") ($CPU_RATIO× less) |"
	echo "| load-generator CPU (ms) | $(f hub_login gen_cpu_ms) | $(f peer_login gen_cpu_ms) | |"
	echo "| HTTP requests | $(f hub_login req_per_item) | $(f peer_login req_per_item) | |"
	echo "| logins measured / errors | $(f hub_login done) / $(f hub_login errors) | $(f peer_login done) / $(f peer_login errors) | |"
	echo "| ID-token signatures verified (ES256, OpenSSL) | $(f hub_login verified) | $(f peer_login verified) | |"
	echo "| server peak RSS after this run (MB) | $(f hub_login hwm_mb) | $(f peer_login hwm_mb) | |"
	echo
	echo "idhub journey: authorize → picker page → picker POST → sandbox IdP POST → its 303 answer page (GET, POST/redirect/GET) → callback POST → token (the sandbox IdP's login form is not fetched). oidc-provider journey: authorize → interaction page → one POST completing login and consent → resume → token. idhub signs two JWTs per login (RFC 9068 access token and ID token), oidc-provider one (opaque access token); oidc-provider derives pairwise subs statelessly and keeps everything in its in-memory LRU adapter, idhub records each new pairwise sub in its durable LMDB environment (group-committed: one fsync per 10 ms at most)."
	echo
	echo "## idhub alone"
	echo
	echo "| measure | result | server CPU | command |"
	echo "| --- | ---: | ---: | --- |"
	echo "| full logins, warm pairwise (1,000 users repeating) | $(f hub_warm rate)/s, p99 $(f hub_warm p99_ms) ms | $(f hub_warm server_cpu_ms) ms/login | \`loadgen --repeat-users 1000 --vus $VUS\` |"
	echo "| full logins, threads = 1 | $(f hub1_login rate)/s, p99 $(f hub1_login p99_ms) ms | $(f hub1_login server_cpu_ms) ms/login | \`loadgen --vus $VUS\` |"
	echo "| full logins, threads = 2 | $RATE_H/s, p99 $P99_H ms | $CPU_H ms/login | \`loadgen --vus $VUS\` |"
	echo "| single sign-on login, session present, second service (authorize + token) | $(f hub_sso rate)/s, p99 $(f hub_sso p99_ms) ms | $(f hub_sso server_cpu_ms) ms/login (target ≤ 0.10) | \`loadgen --mode sso --sso-client bench2\` |"
	echo "| token endpoint alone (codes minted first) | $TOK/s, p99 $(f hub_token p99_ms) ms | $(f hub_token server_cpu_ms) ms/request | \`loadgen --mode token --logins 12000\` |"
	echo "| raw ES256 signing, one core | $SIGN/s; token endpoint = $TOK_PCT % of it (2 signatures per token response) | | \`openssl speed -seconds 2 ecdsap256\` |"
	echo "| discovery | $(f hub_discovery rate) req/s, p99 $(f hub_discovery p99_ms) ms | $(f hub_discovery server_cpu_us) µs/request | \`wrk -t1 -c$VUS -d5s\` |"
	echo "| JWKS | $(f hub_jwks rate) req/s, p99 $(f hub_jwks p99_ms) ms | $(f hub_jwks server_cpu_us) µs/request | \`wrk -t1 -c$VUS -d5s\` |"
	echo "| hub peak RSS after all the runs above | $(f hub_mem hwm_mb) MB | | |"
	echo "| full logins, two nodes on PostgreSQL 15 behind HAProxy (round robin) | $(f pg_login rate)/s, p99 $(f pg_login p99_ms) ms; $(f pg_row stmts) database statements (round trips) per login | $(f pg_row cpu_ms) ms/login (both daemons + every postgres process) vs $CPU_H single-node LMDB: $(ratio "$(f pg_row cpu_ms)" "$CPU_H")× | \`loadgen --vus $VUS\` against HAProxy |"
	echo "| oidc-provider discovery / JWKS | $(f peer_discovery rate) / $(f peer_jwks rate) req/s | $(f peer_discovery server_cpu_us) / $(f peer_jwks server_cpu_us) µs/request | \`wrk -t1 -c$VUS -d5s\` |"
	echo "| 100,000 live journeys in the store (authorize, picker, IdP chosen) | $(f hub_journeys rate)/s; RSS $(f hub_journeys_mem rss_mb) MB (anonymous $(f hub_journeys_mem anon_mb) MB, LMDB map and other file pages $(f hub_journeys_mem file_mb) MB; peak $(f hub_journeys_mem hwm_mb) MB); store $(f hub_journeys_mem store_mb) MB on disk | $(f hub_journeys server_cpu_ms) ms/request | \`loadgen --mode authorize --logins 100000\` |"
	echo "| syscalls per login (strace -f -c, 500 logins) | fdatasync $(f strace fdatasync), fsync $(f strace fsync), msync $(f strace msync), pwrite64 $(f strace pwrite64); $(f strace total) syscalls in all; most frequent: $(f strace top | tr ',' ' ') | | \`strace -f -c -p PID\` |"
	echo
	echo "## Targets (issue 6; 2 cores, ES256)"
	echo
	echo "| target | measured | |"
	echo "| --- | ---: | --- |"
	echo "| server CPU per full login ≤ 0.25 ms | $CPU_H ms | $(meets "$CPU_H" '<=' 0.25) |"
	echo "| ≥ 6× less server CPU than oidc-provider | $CPU_RATIO× | $(meets "$CPU_RATIO" '>=' 6) |"
	echo "| full logins/s ≥ 5× oidc-provider's | $RATE_RATIO× | $(meets "$RATE_RATIO" '>=' 5) |"
	echo "| p99 of a full login ≤ 5 ms at 16 users | $P99_H ms | $(meets "$P99_H" '<=' 5) |"
	echo "| token endpoint ≥ 10,000/s | $TOK/s | $(meets "$TOK" '>=' 10000) |"
	echo "| discovery ≥ 15,000 req/s | $(f hub_discovery rate) | $(meets "$(f hub_discovery rate)" '>=' 15000) |"
	echo "| JWKS ≥ 15,000 req/s | $(f hub_jwks rate) | $(meets "$(f hub_jwks rate)" '>=' 15000) |"
	echo "| RSS ≤ 30 MB with 100,000 live journeys | $(f hub_journeys_mem rss_mb) MB | $(meets "$(f hub_journeys_mem rss_mb)" '<=' 30) |"
	echo
	echo "Commands: \`make bench\` (= \`bench/run.sh\` after \`make all\`); the load generator is \`bench/build/loadgen --port P --pid SERVER_PID --client-id bench --secret S --redirect-uri $BENCH_REDIRECT [--target idhub|peer] [--mode login|token|authorize] --vus $VUS --warmup N --logins N --seconds T [--repeat-users K] --verify-every 50\`; the peer is \`node bench/peer/server.mjs PORT CLIENT_ID SECRET REDIRECT_URI\`."
} >"$OUT"
echo
cat "$OUT"
echo
echo "bench: wrote $OUT in ${ELAPSED} s"

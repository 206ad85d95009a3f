# bench/lib.sh — shell helpers shared by bench/run.sh and bench/profile.sh (sourced, not run):
# free loopback ports, a hub with a bench config in a temp dir, the oidc-provider peer, /proc reads,
# and cleanup of exactly the processes these helpers started.

BENCH_CLIENT=bench
BENCH_SECRET=bench-secret-not-for-production-0123
BENCH_REDIRECT=http://127.0.0.1:9/cb
BENCH_PIDS=()

bench_tmp() {
	BENCH_TMP=$(mktemp -d /tmp/idhub-bench.XXXXXX)
}

bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${BENCH_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	BENCH_PIDS=()
	# the two-node row's PostgreSQL cluster, if a failure left it running
	if [ -n "${PG_BENCH_DIR:-}" ] && [ -d "$PG_BENCH_DIR" ]; then
		sh tests/pg/cluster.sh stop "$PG_BENCH_DIR" >/dev/null 2>&1 || true
		rm -rf "$PG_BENCH_DIR"
	fi
	[ -n "${BENCH_TMP:-}" ] && [ -z "${BENCH_KEEP:-}" ] && rm -rf "$BENCH_TMP"
	return 0
}

# A loopback TCP port nothing listens on.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "bench: no free port" >&2
	return 1
}

wait_http() { # URL: until it answers 200, at most 10 s
	for _ in $(seq 1 100); do
		curl -fs -o /dev/null "$1" && return 0
		sleep 0.1
	done
	echo "bench: $1 did not come up" >&2
	return 1
}

# hub_conf DIR ADAPTER_DIR THREADS: writes DIR/hub.conf, the hub as the benchmark runs it (sandbox
# mode, two client_secret_basic services, the second for the single-sign-on row, demo off), on a
# free port it sets in HUB_PORT. BENCH_ISSUER (default the hub's own address) and BENCH_HUB_EXTRA
# (more settings of the hub group) serve the several-node row.
hub_conf() {
	local dir=$1 adapters=$2 threads=$3
	HUB_PORT=$(free_port)
	mkdir -p "$dir/state"
	chmod 700 "$dir/state"
	local hash
	hash=$(printf %s "$BENCH_SECRET" | openssl dgst -sha256 -binary | basenc --base64url | tr -d '=')
	cat >"$dir/hub.conf" <<EOF
# written by bench/lib.sh: the hub as the benchmark runs it
hub: {
  issuer = "${BENCH_ISSUER:-http://127.0.0.1:$HUB_PORT}";
  port = $HUB_PORT;
  state_dir = "$dir/state";
  ${BENCH_HUB_EXTRA:-}
  adapter_dir = "$adapters";
  threads = $threads;
  demo = false;
  log_level = "warning";
  # every simulated citizen comes from 127.0.0.1: no per-address journey budget
  journeys_per_minute = 0;
  # counted as in production, on a port of its own (several hubs run at once in the PG row)
  metrics_listen = "127.0.0.1:$(free_port)";
};
idps = (
  { id = "sandbox"; adapter = "sandbox"; display_name = "Sandbox identity provider";
    max_loa = "http://eidas.europa.eu/LoA/substantial"; }
);
services = (
  { client_id = "$BENCH_CLIENT"; name = "Bench service"; auth_method = "client_secret_basic";
    secret_hash = "sha256:$hash"; redirect_uris = [ "$BENCH_REDIRECT" ];
    scopes = [ "openid", "profile" ];
    id_token_alg = "ES256"; },  # explicit (the default is RS256): keeps runs comparable
  # the single-sign-on row: a second service in another sector, signed in to from the session
  { client_id = "${BENCH_CLIENT}2"; name = "Second bench service"; auth_method = "client_secret_basic";
    secret_hash = "sha256:$hash"; redirect_uris = [ "$BENCH_REDIRECT" ];
    sector = "bench-second"; scopes = [ "openid", "profile" ]; id_token_alg = "ES256"; }
);
EOF
}

# start_hub NAME THREADS: the release build with hub_conf's configuration; sets HUB_PID and
# HUB_PORT.
start_hub() {
	local name=$1 threads=$2 dir="$BENCH_TMP/$1"
	hub_conf "$dir" "$PWD/build/adapters" "$threads"
	build/idhub --config "$dir/hub.conf" 2>"$dir/hub.log" &
	HUB_PID=$!
	BENCH_PIDS+=("$HUB_PID")
	wait_http "http://127.0.0.1:$HUB_PORT/healthz" || { cat "$dir/hub.log" >&2; return 1; }
}

# stop_pid PID: SIGTERM one process this script started, and wait for it.
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	BENCH_PIDS=("${keep[@]}")
}

# start_peer: node's oidc-provider (bench/peer/server.mjs); sets PEER_PID and PEER_PORT.
start_peer() {
	PEER_PORT=$(free_port)
	node bench/peer/server.mjs "$PEER_PORT" "$BENCH_CLIENT" "$BENCH_SECRET" "$BENCH_REDIRECT" \
		2>"$BENCH_TMP/peer.log" &
	PEER_PID=$!
	BENCH_PIDS+=("$PEER_PID")
	wait_http "http://127.0.0.1:$PEER_PORT/.well-known/openid-configuration" ||
		{ cat "$BENCH_TMP/peer.log" >&2; return 1; }
}

# cpu_ticks PID: utime+stime in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# status_kb PID FIELD (VmHWM, VmRSS)
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# loadgen LABEL PORT PID ARGS...: one loadgen run; its key=value line goes to $BENCH_TMP/results.
loadgen() {
	local label=$1 port=$2 pid=$3
	shift 3
	local line
	line=$(bench/build/loadgen --label "$label" --port "$port" --pid "$pid" \
		--client-id "$BENCH_CLIENT" --secret "$BENCH_SECRET" --redirect-uri "$BENCH_REDIRECT" "$@") ||
		true
	echo "$line" >>"$BENCH_TMP/results"
}

# val LABEL KEY: a figure from a loadgen run (or one we recorded with record).
val() {
	awk -v l="label=$1" -v k="$2" '$1 == l { for (i = 2; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == k) { print kv[2]; exit } } }' "$BENCH_TMP/results"
}

# record LABEL key=value...: adds figures measured by the script itself.
record() {
	local label=$1
	shift
	echo "label=$label $*" >>"$BENCH_TMP/results"
}

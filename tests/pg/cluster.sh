#!/bin/sh
# cluster.sh — a private PostgreSQL 15 cluster for the tests, in a directory of their own,
# listening only on a Unix socket in that directory (no TCP port), with trust auth for the
# superuser "idhub". Run as root (CI), the server runs as nobody: PostgreSQL refuses root.
#
#   cluster.sh start DIR    initdb (once) and start; prints the libpq conninfo on stdout
#   cluster.sh stop DIR     fast stop
#   cluster.sh crash DIR    immediate stop (as a crash: UNLOGGED tables are emptied) and start
#   cluster.sh kill DIR     immediate stop only (the database is down)
# Exit 77 when PostgreSQL 15 is not installed (the caller skips). IDHUB_PG_OPTS adds server options
# (the bench: -c shared_preload_libraries=pg_stat_statements).
set -eu
BIN=${IDHUB_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=$1
dir=$2
[ -x "$BIN/initdb" ] && [ -x "$BIN/pg_ctl" ] || exit 77

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

start() {
	as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
		-o "-k $dir -c listen_addresses= -c fsync=off -c full_page_writes=off \
-c max_connections=80 -c shared_buffers=16MB ${IDHUB_PG_OPTS:-}" start >/dev/null
}

case $cmd in
start)
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir"
	chmod 0700 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$BIN/initdb" -D "$dir/data" -U idhub --auth=trust -E UTF8 --no-sync \
			>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	fi
	start
	echo "host=$dir user=idhub dbname=postgres"
	;;
stop) as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
kill) as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
crash)
	as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
	start
	;;
*) echo "usage: $0 start|stop|crash|kill DIR" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# include-graph.sh — the include graph between the folders of broker/: every `#include "..."` in
# broker/ resolved as the compiler does (beside the including file, then -Ibroker), printed as
# folder -> folder edges with their count, then every circle (folders that reach each other,
# directly or through others). Files directly in broker/ are the folder "broker".
#   tools/include-graph.sh          edges and circles; exit 1 when there is a circle
#   tools/include-graph.sh --check  circles only; exit 1 when there is one (make lint)
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0
[ "${1:-}" = --check ] && quiet=1
# the tracked files; outside a git checkout (an exported tree), every file
sources() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files 'broker/*.c' 'broker/*.h'
	else
		find broker -name '*.[ch]' | sort
	fi
}
{
	sources | sed 's/^/F\t/'
	sources | while read -r f; do
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
			sed "s|^|I\t$f\t|"
	done
} | awk -F'\t' -v quiet="$quiet" '
function norm(p,   n, i, k, out, parts, st) {
	n = split(p, parts, "/"); k = 0
	for (i = 1; i <= n; i++) {
		if (parts[i] == "." || parts[i] == "") continue
		if (parts[i] == "..") { if (k > 0) k--; continue }
		st[++k] = parts[i]
	}
	out = st[1]; for (i = 2; i <= k; i++) out = out "/" st[i]
	return out
}
function dir(p,   d) { d = p; sub(/\/[^\/]*$/, "", d); return d }
function folder(p,   d) { d = dir(p); sub(/^broker\/?/, "", d); return d == "" ? "broker" : d }
$1 == "F" { exists[$2] = 1; next }
$1 == "I" {
	t = norm(dir($2) "/" $3)
	if (!(t in exists)) t = norm("broker/" $3)
	if (!(t in exists)) next
	a = folder($2); b = folder(t)
	nodes[a] = 1; nodes[b] = 1
	if (a == b) next
	e[a SUBSEP b]++; reach[a, b] = 1
	via[a, b] = via[a, b] ? via[a, b] : ($2 " -> " $3)
}
END {
	if (!quiet) {
		for (k in e) { split(k, p, SUBSEP); printf "%-10s -> %-10s %3d  (e.g. %s)\n", p[1], p[2], e[k], via[k] | "sort" }
		close("sort")
	}
	# transitive closure (a few dozen folders)
	for (m in nodes) for (a in nodes) if (reach[a, m]) for (b in nodes) if (reach[m, b]) reach[a, b] = 1
	ncirc = 0
	for (a in nodes) {
		if (a in done || !reach[a, a]) continue
		scc = a; done[a] = 1
		for (b in nodes) if (b != a && reach[a, b] && reach[b, a]) { scc = scc " " b; done[b] = 1 }
		circles[++ncirc] = scc
	}
	if (ncirc == 0) { if (!quiet) print "no circle between folders"; exit 0 }
	for (i = 1; i <= ncirc; i++) print "circle: " circles[i] > "/dev/stderr"
	for (k in e) { split(k, p, SUBSEP); if (p[1] < p[2] && e[p[2], p[1]]) print "  2-cycle: " p[1] " <-> " p[2] > "/dev/stderr" }
	exit 1
}'

#!/usr/bin/env bash
# check-function-length.sh — fails when a C function under broker/, idp-adapters/ or bench/ is
# longer than the project's limit (80 lines, from the line naming the function to its closing
# brace). Uses universal-ctags (deploy/deps/core.test), which reports each function's end line.
#   tools/check-function-length.sh [--all] [--max N] [FILE...]
# --all prints every function over the limit's half too, longest first (for reports).
set -euo pipefail
cd "$(dirname "$0")/.."
max=80
all=0
while [ $# -gt 0 ]; do
	case "$1" in
	--max) max=$2; shift 2 ;;
	--all) all=1; shift ;;
	*) break ;;
	esac
done
if ! ctags --version 2>/dev/null | grep -q 'Universal Ctags'; then
	echo "check-function-length: universal-ctags is required (deploy/deps/core.test)" >&2
	exit 2
fi
if [ $# -eq 0 ]; then
	mapfile -t files < <(git ls-files 'broker/*.c' 'idp-adapters/*.c' 'bench/*.c')
else
	files=("$@")
fi
[ ${#files[@]} -gt 0 ] || exit 0
# %e is the end line (the closing brace); functions without one (prototypes) are not listed.
ctags -x --languages=C --kinds-C=f --fields=+ne --_xformat='%F %N %n %e' "${files[@]}" |
	awk -v max="$max" -v all="$all" '
	$4 != "" { n = $4 - $3 + 1; if (n > max || (all && n > max / 2)) printf "%5d %s:%d %s\n", n, $1, $3, $2 }' |
	sort -rn >"${TMPDIR:-/tmp}/fnlen.$$" || true
over=$(awk -v max="$max" '$1 > max' "${TMPDIR:-/tmp}/fnlen.$$" | wc -l)
if [ "$all" = 1 ]; then
	cat "${TMPDIR:-/tmp}/fnlen.$$"
elif [ "$over" -gt 0 ]; then
	echo "functions longer than $max lines (lines, file:line, name):" >&2
	cat "${TMPDIR:-/tmp}/fnlen.$$" >&2
fi
rm -f "${TMPDIR:-/tmp}/fnlen.$$"
[ "$over" -eq 0 ]

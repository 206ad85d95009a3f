#!/usr/bin/env bash
# install-deps.sh [--with-tests] — installs the Debian 12 packages idhub builds and runs with; with
# --with-tests also what the test suite needs (clang/libFuzzer, cmocka, node, Chromium) and the npm
# packages pinned by tests/package-lock.json. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Package lists, one file per concern: deploy/deps/*.build (to build and run) and
# deploy/deps/*.test (for the test suite and benchmarks); one package per line, # comments.
read_list() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$@"; }
with_tests=0
[ "${1:-}" = "--with-tests" ] && with_tests=1
mapfile -t PKGS < <(read_list deploy/deps/*.build)
if [ $with_tests -eq 1 ]; then
	mapfile -t -O "${#PKGS[@]}" PKGS < <(read_list deploy/deps/*.test)
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ $with_tests -eq 1 ] || exit 0

# npm ships with nodesource's nodejs; Debian's nodejs needs the separate npm package.
if ! command -v npm >/dev/null; then
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm
fi

# Test dependencies, pinned by the lock file; reinstalled only when the lock file changes.
if [ -f tests/package-lock.json ]; then
	stamp=tests/node_modules/.lock-stamp
	if [ ! -f "$stamp" ] || ! cmp -s tests/package-lock.json "$stamp"; then
		(cd tests && npm ci --no-audit --no-fund --loglevel=error)
		cp tests/package-lock.json "$stamp"
	fi
fi

#!/usr/bin/env bash
# make-test-cert.sh NAME [DIR] — makes a self-signed test certificate and key (RSA 3072, 2 years)
# for development and tests: NAME.crt and NAME.key in DIR (default: ./var/certs, mode 0700).
# Never use its output in production; production keys are never made or kept in this repository.
set -euo pipefail
name=${1:?usage: make-test-cert.sh NAME [DIR]}
dir=${2:-./var/certs}
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
openssl req -x509 -newkey rsa:3072 -sha256 -days 730 -nodes -subj "/CN=$name (idhub test)" \
	-keyout "$dir/$name.key" -out "$dir/$name.crt" 2>/dev/null
echo "$dir/$name.crt"

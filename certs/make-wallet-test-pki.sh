#!/usr/bin/env bash
# make-wallet-test-pki.sh DIR [VERIFIER_DNS] — makes the test PKI of the wallet adapter (EC P-256,
# 1 day) in DIR: the verifier's key and certificate (DNS name VERIFIER_DNS, default
# verifier.idhub.test, for the x509_san_dns client_id), a PID issuer CA with an issuer
# certificate under it (naming the iss https://pid-issuer.test as its URI subjectAltName), a rogue CA with its own issuer, and a self-signed issuer. For tests and
# development only: production keys are never made or kept in this repository.
set -euo pipefail
dir=${1:?usage: make-wallet-test-pki.sh DIR [VERIFIER_DNS]}
dns=${2:-verifier.idhub.test}
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
cd "$dir"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
selfsigned() { # name subject extensions...
	local n=$1 subj=$2
	shift 2
	ec "$n"
	openssl req -x509 -new -key "$n.key" -sha256 -days 1 -subj "$subj" "$@" -out "$n.crt" 2>/dev/null
}
leaf() { # name subject ca: an issuer certificate naming the PID issuer's iss, https://pid-issuer.test
	ec "$1"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >"$1.ext"
	printf 'subjectAltName=URI:https://pid-issuer.test\n' >>"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 1 -sha256 \
		-extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
ca_ext=(-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign)
selfsigned verifier "/CN=$dns (idhub test verifier)" -addext "subjectAltName=DNS:$dns"
selfsigned issuer-ca "/CN=idhub test PID issuer CA" "${ca_ext[@]}"
leaf issuer "/CN=idhub test PID issuer" issuer-ca
selfsigned rogue-ca "/CN=rogue PID issuer CA" "${ca_ext[@]}"
leaf rogue-issuer "/CN=rogue PID issuer" rogue-ca
selfsigned selfsigned-issuer "/CN=self-signed PID issuer" -addext "subjectAltName=URI:https://pid-issuer.test"
echo "$dir"

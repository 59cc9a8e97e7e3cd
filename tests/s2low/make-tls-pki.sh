#!/bin/sh
# make-tls-pki.sh DIR - the TLS PKI of the S²LOW test rig, in DIR (created if needed).
# Runs tests/fixtures/make-pki.sh DIR (root.pem, ca.pem = the RGS-like intermediate, server.pem
# for localhost/127.0.0.1, user-auth.pem with clientAuth, ...) and adds, without touching its
# database or outputs:
#   rgs-roots.pem          the "RGS CA list" nginx verifies against: ONLY root.pem
#   server-chain.pem       server.pem + ca.pem (what nginx sends)
#   client.pem/key         = user-auth (Jean DUPONT, under ca.pem), leaf only
#   client-chain.pem       client.pem + ca.pem (a client that sends its intermediate)
#   shared.pem/key         "Secretariat PARTAGE" under ca.pem (several S²LOW accounts), + shared-chain.pem
#   stranger.pem/key       "Inconnu SANSCOMPTE" under ca.pem, no S²LOW account, + stranger-chain.pem
#   other-root.pem, other-ca.pem  another CA hierarchy; other-client.pem/key + other-client-chain.pem
#   *.hash                 base64(SHA-1(DER)) of each client certificate (S²LOW's certificate_hash)
set -eu
D=${1:?usage: make-tls-pki.sh DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
sh "$HERE/../fixtures/make-pki.sh" "$D" >/dev/null
cd "$D"
q() { "$@" >/dev/null 2>&1 || { echo "make-tls-pki: failed: $*" >&2; "$@"; exit 1; }; }

cp root.pem rgs-roots.pem
cat server.pem ca.pem > server-chain.pem
cp user-auth.pem client.pem
cp user-auth.key client.key
cat client.pem ca.pem > client-chain.pem

# leaf NAME SUBJECT CA_PEM CA_KEY SERIAL
leaf() {
	q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key"
	q openssl req -new -config openssl.cnf -key "$1.key" -out "$1.csr" -utf8 -subj "$2"
	q openssl x509 -req -in "$1.csr" -CA "$3" -CAkey "$4" -set_serial "$5" -days 1095 -sha256 \
		-extfile openssl.cnf -extensions auth -out "$1.pem"
	cat "$1.pem" "$3" > "$1-chain.pem"
	rm -f "$1.csr"
}
ORG="/C=FR/O=COMMUNE DE PLOUGASTEL-DAOULAS/OU=0002 212901789"
leaf shared "$ORG/CN=Secretariat PARTAGE" ca.pem ca.key 0x5A0001
leaf stranger "$ORG/CN=Inconnu SANSCOMPTE" ca.pem ca.key 0x5A0002

# another hierarchy, unknown to the service
q openssl req -x509 -config openssl.cnf -extensions root -newkey rsa:2048 -nodes \
	-keyout other-root.key -out other-root.pem -days 3650 -sha256 \
	-subj "/C=FR/O=Autre AC TEST/CN=AC Racine Autre TEST"
q openssl req -new -config openssl.cnf -newkey rsa:2048 -nodes -keyout other-ca.key \
	-out other-ca.csr -subj "/C=FR/O=Autre AC TEST/CN=AC Autre TEST Authentification"
q openssl x509 -req -in other-ca.csr -CA other-root.pem -CAkey other-root.key -set_serial 0x6B0001 \
	-days 3000 -sha256 -extfile openssl.cnf -extensions subca -out other-ca.pem
rm -f other-ca.csr
leaf other-client "/C=FR/O=Autre AC TEST/CN=Pierre AUTRE" other-ca.pem other-ca.key 0x6B0002

for c in client shared stranger other-client; do
	openssl x509 -in "$c.pem" -outform DER | openssl sha1 -binary | openssl base64 -A > "$c.hash"
done
echo "$D"

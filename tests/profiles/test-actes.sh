#!/bin/sh
# ACTES: detached CMS in PEM, checked with S²LOW's own command.
set -eu
command -v openssl >/dev/null 2>&1 || exit 77
. "${SINADUR_SOURCE_ROOT:?}/tests/fixtures/lib.sh"
sdr_tmpdir
W=$T
# the certificates name the PKI's OCSP responder and CRL: our verifier asks them
PORT=$(sdr_free_port)
sdr_make_pki "$W/pki" "$PORT"
sdr_start_responder "$W/pki" "$PORT"
P="$W/pki"
fail() { echo "FAIL: $*"; exit 1; }
printf '%%PDF-1.4\n%% délibération n°2026-042\n' >"$W/acte.pdf"
head -c 300000 /dev/urandom >>"$W/acte.pdf"
printf 'annexe\n' >"$W/annexe 1.pdf"
for f in acte.pdf "annexe 1.pdf"; do
	"$PES_TOOL" actes "$P/user-rsa.key" "$P/user-rsa.pem" "$W/$f" "$W/$f.sig"
	head -1 "$W/$f.sig" | grep -qx -- '-----BEGIN PKCS7-----' || fail "PEM armour"
	openssl smime -verify -inform PEM -noverify -in "$W/$f.sig" -content "$W/$f" \
		-out /dev/null 2>"$W/err" || { cat "$W/err"; fail "openssl smime rejects $f"; }
done
# EC key too.
"$PES_TOOL" actes "$P/user-ec.key" "$P/user-ec.pem" "$W/acte.pdf" "$W/ec.sig"
openssl smime -verify -inform PEM -noverify -in "$W/ec.sig" -content "$W/acte.pdf" -out /dev/null 2>/dev/null ||
	fail "EC signature rejected"
# With the chain (not -noverify) it verifies too.
openssl smime -verify -inform PEM -CAfile "$P/chain.pem" -purpose any -in "$W/acte.pdf.sig" \
	-content "$W/acte.pdf" -out /dev/null 2>/dev/null || fail "chain verification"
# Altered content fails.
printf 'x' >>"$W/acte.pdf"
if openssl smime -verify -inform PEM -noverify -in "$W/acte.pdf.sig" -content "$W/acte.pdf" \
	-out /dev/null 2>/dev/null; then
	fail "altered acte accepted"
fi
# Missing input: error, no output.
if "$PES_TOOL" actes "$P/user-rsa.key" "$P/user-rsa.pem" "$W/none.pdf" "$W/none.sig" 2>/dev/null; then
	fail "missing file accepted"
fi
[ ! -e "$W/none.sig" ] || fail "output written for a missing file"
# --pades: a PAdES signature inside the PDF (S²LOW checks those too).
sdr_minimal_pdf "$W/deliberation.pdf"
"$PES_TOOL" actes "$P/user-rsa.key" "$P/user-rsa.pem" "$W/deliberation.pdf" "$W/deliberation-signe.pdf" --pades ||
	fail "ACTES --pades"
"$PES_TOOL" verify-any "$W/deliberation-signe.pdf" "$P/chain.pem" --online >"$W/pv" 2>&1 || true
grep -q ' VALID' "$W/pv" || { cat "$W/pv"; fail "PAdES ACTES signature not valid"; }
echo "ACTES openssl smime: OK"

#!/bin/sh
# Public tenders: PAdES for a PDF, XAdES jeton "NAME - Signature 1.xml" for others,
# CAdES .p7s with --cades; certificate checked first; the HTML report over all.
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
sdr_minimal_pdf "$W/offre.pdf"
printf 'Mémoire technique\n' >"$W/memoire technique.odt"
printf 'DC1\n' >"$W/dc1.docx"
"$PES_TOOL" marche "$P/user-rsa.key" "$P/user-rsa.pem" "$W/offre.pdf" "$W/memoire technique.odt" >"$W/o1" ||
	{ cat "$W/o1"; fail "marche sign"; }
[ -f "$W/offre-signe.pdf" ] || fail "PAdES output"
[ -f "$W/memoire technique.odt - Signature 1.xml" ] || fail "XAdES jeton name"
"$PES_TOOL" marche "$P/user-rsa.key" "$P/user-rsa.pem" --cades "$W/dc1.docx" >/dev/null || fail "cades"
openssl cms -verify -inform DER -in "$W/dc1.docx.p7s" -content "$W/dc1.docx" -binary \
	-CAfile "$P/chain.pem" -purpose any -out /dev/null 2>/dev/null || fail "openssl cms rejects p7s"
# Certificate checked first: authentication certificate and expired certificate refused.
printf 'x\n' >"$W/autre.txt"
if "$PES_TOOL" marche "$P/user-auth.key" "$P/user-auth.pem" "$W/autre.txt" 2>"$W/e1"; then
	fail "authentication certificate accepted"
fi
grep -q SDR_ERROR_CERT_USAGE "$W/e1" || fail "usage error expected"
if "$PES_TOOL" marche "$P/user-expired.key" "$P/user-expired.pem" "$W/autre.txt" 2>"$W/e2"; then
	fail "expired certificate accepted"
fi
grep -q SDR_ERROR_CERT_EXPIRED "$W/e2" || fail "expiry error expected"
ls "$W" | grep -q 'autre.txt - Signature' && fail "output written despite refusal"
# The buyer's report over the three outputs.
env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$PES_TOOL" report "$W/rapport.html" "$P/chain.pem" --online "$W/offre-signe.pdf" \
	"$W/memoire technique.odt - Signature 1.xml" "$W/dc1.docx.p7s" 2>"$W/rep.err" || { cat "$W/rep.err"; fail "report"; }
grep -q '<html lang="fr">' "$W/rapport.html" || fail "report html"
n=$(grep -c 'class="sig ok"' "$W/rapport.html" || true)
[ "$n" = 3 ] || { grep -o 'class="sig [a-z]*"' "$W/rapport.html"; cat "$W/rep.err"; fail "3 valid signatures expected in the report, got $n"; }
grep -q 'Jean DUPONT' "$W/rapport.html" || fail "signer name missing from report"
# In French (no locale chosen: French), escaped, with the verdicts.
LANG= LC_ALL= LC_MESSAGES= LANGUAGE= "$PES_TOOL" report "$W/rapport-fr.html" "$P/chain.pem" --online \
	"$W/offre-signe.pdf" "$W/dc1.docx.p7s" 2>/dev/null || fail "French report"
grep -q 'Rapport de vérification de signature' "$W/rapport-fr.html" || fail "report not in French"
[ "$(grep -c 'Signature valide' "$W/rapport-fr.html")" -ge 2 ] || fail "French verdicts"
grep -q 'Certificat valide à la date de signature' "$W/rapport-fr.html" || fail "French rows"
echo "marchés: OK"

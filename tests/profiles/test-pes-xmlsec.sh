#!/bin/sh
# PES V2 end to end: generated PES_Aller signed by pes-tool, each signature checked
# alone exactly as S²LOW does (xmlsec1 --verify --node-xpath <that signature>
# --id-attr:Id Bordereau), our verify, tampering, and refused inputs left untouched.
set -eu
for t in xmlsec1 openssl /usr/bin/python3 sha256sum; do
	command -v "$t" >/dev/null 2>&1 || { echo "missing $t"; exit 77; }
done
. "${SINADUR_SOURCE_ROOT:?}/tests/fixtures/lib.sh"
sdr_tmpdir
W=$T
# the certificates name the PKI's OCSP responder and CRL: our verifier asks them
PORT=$(sdr_free_port)
sdr_make_pki "$W/pki" "$PORT"
sdr_start_responder "$W/pki" "$PORT"
P="$W/pki"
fail() { echo "FAIL: $*"; exit 1; }

s2low_check() { # FILE SIGID ELEMENT
	xmlsec1 --verify \
		--node-xpath "//*[namespace-uri()='http://www.w3.org/2000/09/xmldsig#'][local-name()='Signature'][@Id='$2']" \
		--id-attr:Id "$3" --trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" "$1" >"$W/xmlsec.out" 2>&1
}

# 1. Mixed dépenses/recettes, 6 bordereaux, accents, PES_PJ.
/usr/bin/python3 "$GEN_PES" "$W/a.xml" --bordereaux 6 --pieces 3 --pj 2 --pj-size 30000 --mixed
"$PES_TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$W/a.xml" "$W/s.xml" \
	--city "Plouézec" --postal 22470 --country France >"$W/sign.out"
[ "$(grep -c '^SIGNED' "$W/sign.out")" = 6 ] || fail "6 bordereaux expected signed"
head -c 50 "$W/s.xml" | grep -q 'ISO-8859-1' || fail "encoding declaration lost"
ids=$(grep -o '<ds:Signature xmlns:ds="[^"]*" Id="[^"]*"' "$W/s.xml" | sed 's/.*Id="//; s/"$//')
n=0
for id in $ids; do
	s2low_check "$W/s.xml" "$id" Bordereau || { cat "$W/xmlsec.out"; fail "xmlsec1 rejects $id"; }
	n=$((n + 1))
done
[ "$n" = 6 ] || fail "6 signatures expected, got $n"
"$PES_TOOL" verify "$W/s.xml" "$P/chain.pem" --online >"$W/v.out" || { cat "$W/v.out"; fail "our verify"; }
[ "$(grep -c ' VALID$' "$W/v.out")" = 6 ] || fail "6 VALID expected"
# Bytes outside the signatures untouched (PES_PJ included).
/usr/bin/python3 - "$W/a.xml" "$W/s.xml" <<'PY' || fail "bytes outside signatures changed"
import re, sys
a = open(sys.argv[1], 'rb').read(); s = open(sys.argv[2], 'rb').read()
sys.exit(0 if re.sub(rb'<ds:Signature .*?</ds:Signature>', b'', s, flags=re.S) == a else 1)
PY

# 2. One byte changed in one bordereau: only that signature fails, for xmlsec1 and us.
/usr/bin/python3 - "$W/s.xml" "$W/t.xml" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
start = d.index(b'<Bordereau Id="D0000002">')
i = d.index(b'MtHT V="', start) + 8
d[i] = ord('9') if d[i] != ord('9') else ord('8')
open(sys.argv[2], 'wb').write(d)
PY
for id in $ids; do
	if s2low_check "$W/t.xml" "$id" Bordereau; then ok=1; else ok=0; fi
	if [ "$id" = D0000002_SIG ]; then
		[ $ok = 0 ] || fail "xmlsec1 accepts the altered bordereau"
	else
		[ $ok = 1 ] || fail "xmlsec1 rejects untouched $id"
	fi
done
"$PES_TOOL" verify "$W/t.xml" "$P/chain.pem" --online >"$W/v2.out" && fail "verify should fail"
grep -q '^D0000002_SIG D0000002 INVALID DIGEST_MISMATCH' "$W/v2.out" || { cat "$W/v2.out"; fail "D2 not INVALID"; }
[ "$(grep -c ' VALID$' "$W/v2.out")" = 5 ] || fail "the 5 others must stay VALID"

# The buyer/treasurer HTML report: one section per bordereau signature, the altered one red.
"$PES_TOOL" report "$W/r.html" "$P/chain.pem" --online "$W/s.xml" "$W/t.xml" 2>/dev/null || fail "report"
[ "$(grep -c 'class="sig ok"' "$W/r.html")" = 11 ] || fail "11 valid signatures expected in the report"
[ "$(grep -c 'class="sig ko"' "$W/r.html")" = 1 ] || fail "1 invalid signature expected in the report"
grep -q 'D0000002' "$W/r.html" || fail "bordereau Id missing from the report"

# 3. --bordereau, then the rest (already signed ones reported), EC key.
/usr/bin/python3 "$GEN_PES" "$W/b.xml" --bordereaux 3 --recette --pj 0 --seed 7
"$PES_TOOL" sign "$P/user-ec.key" "$P/user-ec.pem" "$W/b.xml" "$W/b1.xml" --bordereau R0000002 >"$W/o1"
grep -qx 'SIGNED R0000002' "$W/o1" || fail "--bordereau"
"$PES_TOOL" sign "$P/user-ec.key" "$P/user-ec.pem" "$W/b1.xml" "$W/b2.xml" >"$W/o2"
grep -qx 'SKIPPED R0000002' "$W/o2" || fail "already signed not reported"
for id in R0000001_SIG R0000002_SIG R0000003_SIG; do
	s2low_check "$W/b2.xml" "$id" Bordereau || { cat "$W/xmlsec.out"; fail "EC $id"; }
done

# 4. Bordereaux without Id: one signature over PES_Aller/@Id.
/usr/bin/python3 "$GEN_PES" "$W/c.xml" --bordereaux 2 --no-ids --seed 3
"$PES_TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$W/c.xml" "$W/c1.xml" >/dev/null
s2low_check "$W/c1.xml" PES000003_SIG PES_Aller || { cat "$W/xmlsec.out"; fail "root signature"; }
"$PES_TOOL" verify "$W/c1.xml" "$P/chain.pem" --online >/dev/null || fail "root verify"

# 5. Refused inputs are left untouched (signing in place).
refuse() { # NAME: the file is signed in place and must not change
	before=$(sha256sum "$W/$1" | cut -d' ' -f1)
	if "$PES_TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$W/$1" "$W/$1" >"$W/r.out" 2>&1; then
		fail "$1 accepted"
	fi
	[ "$(sha256sum "$W/$1" | cut -d' ' -f1)" = "$before" ] || fail "$1 modified"
	grep -q 'error:' "$W/r.out" || fail "$1: no message"
	[ -z "$(ls "$W" | grep -v -e '\.xml$' -e '\.html$' -e '\.out$' -e '^o[12]$' -e '^pki$' -e '^home$' -e '^config$' -e '^responder.log$')" ] ||
		fail "temporary file left behind: $(ls "$W")"
}
printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n<facture Id="a"><x/></facture>\n' >"$W/r1.xml"
refuse r1.xml
head -c 4000 "$W/a.xml" >"$W/r2.xml"; refuse r2.xml
sed 's/ISO-8859-1/UTF-8/' "$W/a.xml" >"$W/r3.xml"; refuse r3.xml
sed 's/Id="D0000002"/Id="D0000001"/' "$W/a.xml" >"$W/r4.xml"; refuse r4.xml
sed 's/<n:PES_Aller /<!DOCTYPE n:PES_Aller [<!ENTITY x SYSTEM "file:\/\/\/etc\/passwd">]>\n<n:PES_Aller /' "$W/a.xml" >"$W/r5.xml"; refuse r5.xml
/usr/bin/python3 - "$W/a.xml" "$W/r6.xml" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d.replace(b'<Exer V="2026"/>', b'<Exer V="' + b'A' * 5000000 + b'"/>', 1))
PY
refuse r6.xml
sed 's/NomFic/NomFichier/g' "$W/a.xml" >"$W/r7.xml"; refuse r7.xml
sed 's/<CodCol V="012"/<CodCol V="0123"/' "$W/a.xml" >"$W/r8.xml"; refuse r8.xml
sed 's/<IdColl V="21290001200011"/<IdColl V="212900012000119"/' "$W/a.xml" >"$W/r9.xml"; refuse r9.xml
# A signed file signed again: nothing to do, untouched.
cp "$W/s.xml" "$W/r10.xml"; refuse r10.xml
echo "PES xmlsec1/S²LOW checks: OK ($n signatures + tampering + EC + root + 10 refusals)"

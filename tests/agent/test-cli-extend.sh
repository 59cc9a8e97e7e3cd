#!/bin/sh
# sinadur extend FILE --level LT|LTA (issue 15): B-B signatures of every format raised to
# B-LT and B-LTA against the loopback TSA/OCSP/CRL responder of the test PKI, checked by
# openssl cms -verify (CAdES), xmlsec1 --verify (XAdES), pdfsig + qpdf --check + a
# byte-for-byte prefix check (PAdES), ades-lint (no ERROR) and our verify at the new
# level, now and (CAdES) at a time after the signer's certificate expired (--at); refusals:
# already at the level (0, nothing written), not a signature (8), revoked signer (6),
# TSA down (10, nothing written, input untouched), existing -o (12).
set -u
SRC=${SINADUR_SOURCE_ROOT:?}
BUILD=${SINADUR_BUILD_ROOT:?}
SHARED=${SINADUR_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
for t in openssl xmlsec1 qpdf pdfsig; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
$PY -c 'import asn1crypto' 2>/dev/null || { echo "skip: python3-asn1crypto missing"; exit 77; }
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir sdr-extend
PORT=$(sdr_free_port)
P=$T/pki
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
LINT="$SHARED/tools/ades-lint.py"
CONF=$T/sinadur.conf
printf '[signature]\ntrust_anchors=%s\ntsa_url=%s\n' "$P/root.pem" "$TSA" >"$CONF"
S() { env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$BUILD/agent/sinadur" --config "$CONF" "$@"; }
KEY="--key $P/user-soon.key --cert-file $P/user-soon.pem --chain-file $P/chain.pem"
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1
printf 'Délibération 2026-42\n' >doc.txt
printf '<?xml version="1.0"?>\n<acte><objet>voirie</objet></acte>\n' >acte.xml
$PY "$SRC/tests/pades/mkpdf.py" plain doc.pdf
# After the signer's certificate (20 days) expired, before the TSA's (3 years).
LATER=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)

lint() { # FILE [ARGS]
	_lf=$1
	shift
	if $PY "$LINT" "$_lf" "$@" >"$T/lint.out" 2>&1 && ! grep -q '^ERROR' "$T/lint.out"; then
		ok "$_lf: ades-lint no ERROR"
	else
		ko "$_lf: ades-lint"
		grep '^ERROR' "$T/lint.out" | head -5
	fi
}
level() { # FILE LEVEL [verify args]
	_vf=$1 _vl=$2
	shift 2
	S verify "$@" "$_vf" >"$T/v.out" 2>&1
	if grep -q "VALIDE, niveau $_vl\$" "$T/v.out" && ! grep -q 'INVALIDE\|INDÉTERMINÉ' "$T/v.out"; then
		ok "$_vf: verify $* VALID $_vl"
	else
		ko "$_vf: verify $* not VALID $_vl"
		cat "$T/v.out"
	fi
}

# ---- CAdES detached and attached ----
S sign -f cades $KEY doc.txt >/dev/null 2>&1 || ko "sign cades"
S sign -f cades --attached $KEY -o att.p7m doc.txt >/dev/null 2>&1 || ko "sign cades attached"
for lv in LT LTA; do
	S extend --level $lv doc.txt.p7s >"$T/out" 2>&1 && grep -q "B-B → B-$lv" "$T/out" &&
		ok "cades detached -> $lv" || { ko "cades detached -> $lv"; cat "$T/out"; }
	openssl cms -verify -inform DER -in "doc.txt-$lv.p7s" -content doc.txt -binary \
		-CAfile "$P/root.pem" -purpose any -out /dev/null 2>"$T/o.err" &&
		ok "openssl cms -verify doc.txt-$lv.p7s" || { ko "openssl cms doc.txt-$lv.p7s"; cat "$T/o.err"; }
	lint "doc.txt-$lv.p7s" --content doc.txt
	level "doc.txt-$lv.p7s" "B-$lv" --content doc.txt
	S extend --level $lv att.p7m >/dev/null 2>&1 || ko "cades attached -> $lv"
	openssl cms -verify -inform DER -in "att-$lv.p7m" -binary -CAfile "$P/root.pem" \
		-purpose any -out /dev/null 2>/dev/null && ok "openssl cms -verify att-$lv.p7m" ||
		ko "openssl cms att-$lv.p7m"
	level "att-$lv.p7m" "B-$lv"
done
openssl cms -cmsout -print -inform DER -in doc.txt-LTA.p7s >"$T/p.txt" 2>&1
grep -q '0.4.0.1733.2.4' "$T/p.txt" && grep -q '0.4.0.19122.1.5' "$T/p.txt" &&
	ok "LTA CMS carries archive-time-stamp-v3 and ats-hash-index-v3" || ko "no ATSv3 in the CMS"
level doc.txt-LTA.p7s B-LTA --content doc.txt --at "$LATER"
level doc.txt-LT.p7s B-LT --content doc.txt --at "$LATER"
# A B-B signature checked at that date: the certificate had expired, no timestamp proves more.
S verify --content doc.txt --at "$LATER" doc.txt.p7s >"$T/v.out" 2>&1
grep -q 'INDÉTERMINÉ' "$T/v.out" && ok "B-B at a date after expiry: INDETERMINATE" ||
	{ ko "B-B after expiry"; cat "$T/v.out"; }
# a tampered archive timestamp: no longer B-LTA
$PY - doc.txt-LTA.p7s "$T/bad.p7s" <<'PYEOF'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.rfind(bytes.fromhex('0604008e1f0201'))  # the last certificate hash is covered by the index...
# flip one byte of the last OCTET STRING of the signer's signature value region instead:
from asn1crypto import cms
ci = cms.ContentInfo.load(bytes(d))
si = ci['content']['signer_infos'][0]
ats = [a for a in si['unsigned_attrs'] if a['type'].dotted == '0.4.0.1733.2.4'][0]
tok = ats['values'][0].dump()
j = bytes(d).find(tok)
d[j + len(tok) - 40] ^= 1
open(sys.argv[2], 'wb').write(d)
PYEOF
S verify --content doc.txt "$T/bad.p7s" >"$T/v.out" 2>&1
grep -q 'niveau B-LTA$' "$T/v.out" && { ko "tampered ATS still B-LTA"; cat "$T/v.out"; } ||
	ok "tampered archive timestamp: not B-LTA"

# ---- XAdES detached, enveloped, enveloping ----
S sign -f xades $KEY doc.txt >/dev/null 2>&1 || ko "sign xades"
S sign -f xades --enveloped $KEY acte.xml >/dev/null 2>&1 || ko "sign xades enveloped"
S sign -f xades --enveloping $KEY -o env.xml doc.txt >/dev/null 2>&1 || ko "sign xades enveloping"
for lv in LT LTA; do
	for f in "doc.txt - Signature 1.xml" acte-signe.xml env.xml; do
		S extend --level $lv "$f" >"$T/out" 2>&1 || { ko "xades $f -> $lv"; cat "$T/out"; continue; }
		o=$(sed -n "s/^+ [^:]* : .* → \\(.*\\) (XAdES.*/\\1/p" "$T/out")
		xmlsec1 --verify --trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" \
			--url-map:doc.txt doc.txt --id-attr:Id SignedProperties "$o" >"$T/x.out" 2>&1 &&
			ok "xmlsec1 --verify $o" || { ko "xmlsec1 $o"; tail -3 "$T/x.out"; }
		lint "$o"
		level "$o" "B-$lv"
	done
done
grep -q 'xadesv141:ArchiveTimeStamp' "doc.txt - Signature 1-LTA.xml" &&
	grep -q 'RevocationValues' "doc.txt - Signature 1-LTA.xml" &&
	ok "XAdES LTA: RevocationValues and xadesv141:ArchiveTimeStamp" || ko "XAdES LTA content"

# ---- PAdES ----
S sign -f pades $KEY doc.pdf >/dev/null 2>&1 || ko "sign pades"
for lv in LT LTA; do
	S extend --level $lv doc-signe.pdf >/dev/null 2>&1 || ko "pades -> $lv"
	f=doc-signe-$lv.pdf
	cmp -n "$(stat -c %s doc-signe.pdf)" doc-signe.pdf "$f" && ok "$f: the signed PDF is its prefix" ||
		ko "$f: prefix changed"
	qpdf --check "$f" >/dev/null 2>&1 && ok "qpdf --check $f" || ko "qpdf --check $f"
	[ "$(pdfsig "$f" 2>/dev/null | grep -c 'Signature is Valid')" -ge 1 ] && ok "pdfsig $f" ||
		ko "pdfsig $f"
	lint "$f" --pades
	S verify "$f" >"$T/v.out" 2>&1
	grep -q "Signature 1 : VALIDE, niveau B-$lv\$\|Signature 1: VALIDE, niveau B-$lv\$" "$T/v.out" ||
		grep -q "VALIDE, niveau B-$lv" "$T/v.out" && ok "$f: verify B-$lv" || { ko "$f verify"; cat "$T/v.out"; }
done
# PAdES, XAdES and the TSA's own expiry at a date after the signer's: test-cli-extend-time.sh.

# ---- refusals ----
S extend --level LTA doc.txt-LTA.p7s --content doc.txt >"$T/out" 2>&1
[ $? -eq 0 ] && grep -q 'déjà au niveau' "$T/out" && [ ! -e doc.txt-LTA-LTA.p7s ] &&
	ok "already at LTA: 0, nothing written" || { ko "already"; cat "$T/out"; }
S extend --level LT doc.txt >"$T/out" 2>&1
[ $? -eq 8 ] && ok "not a signature: 8 ($(cat "$T/out"))" || { ko "not a signature"; cat "$T/out"; }
S sign -f cades --key "$P/user-revoked.key" --cert-file "$P/user-revoked.pem" \
	--chain-file "$P/chain.pem" -o rev.p7s doc.txt >/dev/null 2>&1
S extend --level LT rev.p7s --content doc.txt >"$T/out" 2>&1
[ $? -eq 6 ] && grep -q 'révoqué' "$T/out" && [ ! -e rev-LT.p7s ] && ok "revoked signer: refused (6)" ||
	{ ko "revoked signer"; cat "$T/out"; }
DOWN=$($PY "$SDR_RESPONDER" --free-port)
cp doc.txt.p7s keep.p7s
S extend --level LT --tsa "http://127.0.0.1:$DOWN/" doc.txt.p7s -o down.p7s >"$T/out" 2>&1
rc=$?
[ $rc -eq 10 ] && [ ! -e down.p7s ] && cmp -s keep.p7s doc.txt.p7s && ! ls .sinadur-* >/dev/null 2>&1 &&
	ok "TSA down: 10, nothing written, input untouched" || { ko "TSA down (rc $rc)"; cat "$T/out"; }
S extend --level LT -o doc.txt-LT.p7s doc.txt.p7s >"$T/out" 2>&1
[ $? -eq 12 ] && ok "existing -o refused (12)" || { ko "existing -o"; cat "$T/out"; }
# Never the inputs, even with --overwrite: the signature, nor its detached document.
cp doc.txt keep.txt
S extend --level LT --overwrite -o doc.txt.p7s doc.txt.p7s >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && cmp -s keep.p7s doc.txt.p7s && ok "-o = the signature: refused (2), untouched" ||
	{ ko "-o = the signature (rc $rc)"; cat "$T/out"; }
S extend --level LT --overwrite --content doc.txt -o doc.txt doc.txt.p7s >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && cmp -s keep.txt doc.txt && ! ls .sinadur-* >/dev/null 2>&1 &&
	ok "-o = the signed document: refused (2), untouched" ||
	{ ko "-o = the signed document (rc $rc)"; cat "$T/out"; }
S extend --level LT doc.txt.p7s >"$T/out" 2>&1 && [ -e "doc.txt-LT (2).p7s" ] &&
	ok "default name taken: numbered" || { ko "numbered"; cat "$T/out"; }
sdr_summary

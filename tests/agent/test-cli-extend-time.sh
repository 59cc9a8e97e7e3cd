#!/bin/sh
# Validation time of extended signatures (issue 15, `sinadur extend`): what proves a
# signature existed while its certificates were valid, checked with `sinadur verify --at`.
#
# Two TSAs of the test PKI, made here: SHORT (certificate valid 40 days) and LONG (the
# PKI's own TSA, 3 years). The signer's certificate (user-soon) expires in 20 days.
#   LT  = B-B extended with SHORT (signature timestamp / PAdES document timestamp + data)
#   LTA = that LT extended with LONG (XAdES/CAdES archive timestamp, PAdES document
#         timestamp after the DSS)
# At +30 days (signer expired, SHORT valid) LT is VALID; at +60 days (SHORT expired too) LT
# is INDETERMINATE with the French reason (TSA not trusted), LTA stays VALID B-LTA (the
# archive / document timestamp judges the earlier timestamp at its own time), for CAdES,
# XAdES and PAdES. Control: an LT made with LONG stays VALID at +60 days (the change
# comes from SHORT's expiry, not from the date). Tampered XAdES archive timestamps (token
# changed, a covered unsigned property changed) are not B-LTA and do not rescue the
# signature at +60 days. PAdES B-B -> LTA in one call is VALID after the signer's expiry.
# Renewal (--renew): LT and LTA made with SHORT, renewed with LONG: the unrenewed LTA is not
# VALID at +60 days, the renewed one is VALID B-LTA with no earlier timestamp reported
# untrusted (each judged at the next archive timestamp's time); CAdES renewed twice holds
# three archive timestamps; --level LTA alone on LTA writes nothing; --renew with LT refused.
# Outputs checked by xmlsec1, openssl cms, pdfsig, qpdf --check and ades-lint.
set -u
SRC=${SINADUR_SOURCE_ROOT:?}
BUILD=${SINADUR_BUILD_ROOT:?}
SHARED=${SINADUR_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
for t in openssl xmlsec1 qpdf pdfsig; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir sdr-extend-time
PORT=$(sdr_free_port)
P=$T/pki
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
LONG=$TSA

# SHORT: a second TSA certificate of the same CA, 40 days, served by a second responder
# over a copy of the PKI whose tsa.pem/tsa.key are SHORT's.
(
	cd "$P" || exit 1
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out tsa-short.key 2>/dev/null &&
		openssl req -new -config openssl.cnf -key tsa-short.key -out tsa-short.csr \
			-subj "/C=FR/O=Sinadur TEST/CN=Horodatage court Sinadur TEST" 2>/dev/null &&
		openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key -extensions tsa \
			-days 40 -in tsa-short.csr -out tsa-short.pem -notext >/dev/null 2>&1
) || { echo "cannot issue the short TSA certificate"; exit 1; }
cp -r "$P" "$T/pki-short"
cp "$P/tsa-short.pem" "$T/pki-short/tsa.pem"
cp "$P/tsa-short.key" "$T/pki-short/tsa.key"
PORT2=$(sdr_free_port)
$PY "$SDR_RESPONDER" "$T/pki-short" "$PORT2" 2>"$T/responder2.log" &
sdr_kill_on_exit $!
i=0
while ! $PY -c "import socket; socket.create_connection(('127.0.0.1',$PORT2),1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "second responder did not start"; exit 1; }
	sleep 0.1
done
SHORT=http://127.0.0.1:$PORT2/tsa
openssl x509 -in "$P/tsa-short.pem" -noout -enddate >"$T/end.txt" &&
	openssl x509 -in "$P/tsa-short.pem" -noout -checkend $((35 * 86400)) >/dev/null &&
	! openssl x509 -in "$P/tsa-short.pem" -noout -checkend $((45 * 86400)) >/dev/null &&
	ok "short TSA certificate: $(cat "$T/end.txt")" || ko "short TSA certificate validity"

LINT="$SHARED/tools/ades-lint.py"
CONF=$T/sinadur.conf
printf '[signature]\ntrust_anchors=%s\ntsa_url=%s\n' "$P/root.pem" "$LONG" >"$CONF"
S() { env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$BUILD/agent/sinadur" --config "$CONF" "$@"; }
KEY="--key $P/user-soon.key --cert-file $P/user-soon.pem --chain-file $P/chain.pem"
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1
printf 'Délibération 2026-43\n' >doc.txt
printf '<?xml version="1.0"?>\n<acte><objet>voirie</objet></acte>\n' >acte.xml
$PY "$SRC/tests/pades/mkpdf.py" plain doc.pdf
D30=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ) # signer expired, SHORT valid
D60=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ) # signer and SHORT expired, LONG valid
TRUST_FR='autorité d’horodatage n’est pas de confiance'

# valid FILE LEVEL [verify args]: every signature VALID, the first one at LEVEL
valid() {
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
# not_valid FILE REGEX [verify args]: INDETERMINATE (or INVALID) and the output matches REGEX
not_valid() {
	_vf=$1 _re=$2
	shift 2
	S verify "$@" "$_vf" >"$T/v.out" 2>&1
	if grep -q 'INDÉTERMINÉ\|INVALIDE' "$T/v.out" && grep -q "$_re" "$T/v.out" &&
		! grep -q ': VALIDE' "$T/v.out"; then
		ok "$_vf: verify $* not VALID ($_re)"
	else
		ko "$_vf: verify $* should not be VALID with « $_re »"
		cat "$T/v.out"
	fi
}
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
ext() { # FILE LEVEL TSA OUT [args]
	_ef=$1 _el=$2 _et=$3 _eo=$4
	shift 4
	S extend --level "$_el" --tsa "$_et" -o "$_eo" "$@" "$_ef" >"$T/out" 2>&1 && [ -s "$_eo" ] ||
		{ ko "extend $_ef -> $_el"; cat "$T/out"; }
}

# ---- CAdES ----
S sign -f cades $KEY doc.txt >/dev/null 2>&1 || ko "sign cades"
ext doc.txt.p7s LT "$SHORT" c-lt.p7s --content doc.txt
ext c-lt.p7s LTA "$LONG" c-lta.p7s --content doc.txt
ext doc.txt.p7s LT "$LONG" c-ltlong.p7s --content doc.txt
openssl cms -verify -inform DER -in c-lta.p7s -content doc.txt -binary -CAfile "$P/root.pem" \
	-purpose any -out /dev/null 2>"$T/o.err" && ok "openssl cms -verify c-lta.p7s" ||
	{ ko "openssl cms c-lta.p7s"; cat "$T/o.err"; }
lint c-lta.p7s --content doc.txt
valid c-lt.p7s B-LT --content doc.txt --at "$D30"
not_valid c-lt.p7s "$TRUST_FR" --content doc.txt --at "$D60"
valid c-lta.p7s B-LTA --content doc.txt --at "$D60"
valid c-ltlong.p7s B-LT --content doc.txt --at "$D60"

# ---- XAdES: detached and enveloped ----
S sign -f xades $KEY doc.txt >/dev/null 2>&1 || ko "sign xades"
S sign -f xades --enveloped $KEY acte.xml >/dev/null 2>&1 || ko "sign xades enveloped"
for f in "doc.txt - Signature 1.xml" acte-signe.xml; do
	case $f in acte*) b=x-env ;; *) b=x-det ;; esac
	ext "$f" LT "$SHORT" "$b-lt.xml"
	ext "$b-lt.xml" LTA "$LONG" "$b-lta.xml"
	ext "$f" LT "$LONG" "$b-ltlong.xml"
	xmlsec1 --verify --trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" \
		--url-map:doc.txt doc.txt --id-attr:Id SignedProperties "$b-lta.xml" >"$T/x.out" 2>&1 &&
		ok "xmlsec1 --verify $b-lta.xml" || { ko "xmlsec1 $b-lta.xml"; tail -3 "$T/x.out"; }
	lint "$b-lta.xml"
	[ "$(grep -c 'xadesv141:ArchiveTimeStamp ' "$b-lta.xml")" -eq 1 ] &&
		ok "$b-lta.xml: one archive timestamp" || ko "$b-lta.xml: archive timestamp count"
	valid "$b-lta.xml" B-LTA
	grep -q 'horodatages d’archivage sont présents mais' "$T/v.out" &&
		ko "$b-lta.xml: archive timestamp still reported unchecked" ||
		ok "$b-lta.xml: archive timestamp checked (no 'not checked' warning)"
	valid "$b-lt.xml" B-LT --at "$D30"
	not_valid "$b-lt.xml" "$TRUST_FR" --at "$D60"
	valid "$b-lta.xml" B-LTA --at "$D60"
	valid "$b-ltlong.xml" B-LT --at "$D60"
done
# Tampering with the archive timestamp of the detached one (the token's imprint; a covered
# unsigned property): no longer B-LTA, and no longer a proof at +60 days.
$PY - x-det-lta.xml <<'PYEOF'
import base64, re, sys
s = open(sys.argv[1], encoding='utf-8').read()
m = re.search(r'(<xadesv141:ArchiveTimeStamp.*?EncapsulatedTimeStamp[^>]*>)([^<]+)(<)', s, re.S)
tok = bytearray(base64.b64decode(re.sub(r'\s', '', m.group(2))))
# the TSTInfo messageImprint: the hash bytes follow the OCTET STRING header of 32 bytes
i = tok.find(b'\x04\x20', tok.find(b'\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01'))
tok[i + 2] ^= 1
bad = s[:m.start(2)] + base64.b64encode(bytes(tok)).decode() + s[m.end(2):]
open('x-bad-imprint.xml', 'w', encoding='utf-8').write(bad)
# a covered unsigned property: the signature timestamp's Id attribute
t = re.sub(r'(<xades:SignatureTimeStamp Id=")([^"]*)"', r'\1\2-changed"', s, count=1)
assert t != s
open('x-bad-property.xml', 'w', encoding='utf-8').write(t)
PYEOF
for f in x-bad-imprint.xml x-bad-property.xml; do
	S verify "$f" >"$T/v.out" 2>&1
	if grep -q 'niveau B-LTA' "$T/v.out" || ! grep -q 'horodatage d’archive' "$T/v.out"; then
		ko "$f: still B-LTA or the archive timestamp not blamed"
		cat "$T/v.out"
	else
		ok "$f: not B-LTA ($(grep -o 'L’horodatage d’archive[^(]*' "$T/v.out" | head -1))"
	fi
	not_valid "$f" "$TRUST_FR" --at "$D60"
done
# the property change breaks nothing else: same file with the Id restored is B-LTA again
sed 's/-changed"/"/' x-bad-property.xml >x-restored.xml
valid x-restored.xml B-LTA --at "$D60"

# ---- PAdES ----
S sign -f pades $KEY doc.pdf >/dev/null 2>&1 || ko "sign pades"
ext doc-signe.pdf LT "$SHORT" p-lt.pdf
ext p-lt.pdf LTA "$LONG" p-lta.pdf
ext doc-signe.pdf LT "$LONG" p-ltlong.pdf
ext doc-signe.pdf LTA "$LONG" p-lta1.pdf
for f in p-lta.pdf p-lta1.pdf; do
	cmp -n "$(stat -c %s doc-signe.pdf)" doc-signe.pdf "$f" && ok "$f: the signed PDF is its prefix" ||
		ko "$f: prefix changed"
	qpdf --check "$f" >/dev/null 2>&1 && ok "qpdf --check $f" || ko "qpdf --check $f"
	[ "$(pdfsig "$f" 2>/dev/null | grep -c 'Signature is Valid')" -ge 1 ] && ok "pdfsig $f" ||
		ko "pdfsig $f"
	lint "$f" --pades
done
valid p-lt.pdf B-LT --at "$D30"
not_valid p-lt.pdf "$TRUST_FR" --at "$D60"
valid p-lta.pdf B-LTA --at "$D60"
valid p-ltlong.pdf B-LT --at "$D60"
valid p-lta1.pdf B-LTA --at "$D60"
valid p-lta1.pdf B-LTA
# B-B with no document timestamp at that date: the certificate had expired, nothing proves more
not_valid doc-signe.pdf 'n’est pas valide au' --at "$D30"
# ---- Renewal (--renew): LT and LTA both made with SHORT, renewed with LONG ----
# At +60 days SHORT has expired: the unrenewed LTA proves nothing any more; the renewed
# one is VALID B-LTA (the first archive timestamp judged at the time of the second, whose
# validation data it carries). --level LTA alone on an LTA file writes nothing.
S extend --level LTA --tsa "$LONG" -o c-noop.p7s --content doc.txt c-lta.p7s >"$T/out" 2>&1 &&
	grep -q 'déjà au niveau' "$T/out" && [ ! -e c-noop.p7s ] &&
	ok "LTA on LTA without --renew: nothing written" || { ko "LTA on LTA"; cat "$T/out"; }
ext c-lt.p7s LTA "$SHORT" c-ltas.p7s --content doc.txt
ext c-ltas.p7s LTA "$LONG" c-ren.p7s --content doc.txt --renew
grep -q 'horodatage d’archive renouvelé' "$T/out" && ok "c-ren.p7s: renewed" || { ko "c-ren.p7s: not renewed"; cat "$T/out"; }
ext c-ren.p7s LTA "$LONG" c-ren2.p7s --content doc.txt --renew
openssl cms -verify -inform DER -in c-ren2.p7s -content doc.txt -binary -CAfile "$P/root.pem" \
	-purpose any -out /dev/null 2>"$T/o.err" && ok "openssl cms -verify c-ren2.p7s" ||
	{ ko "openssl cms c-ren2.p7s"; cat "$T/o.err"; }
n=$(openssl asn1parse -inform DER -in c-ren2.p7s 2>/dev/null | grep -c ':0\.4\.0\.1733\.2\.4$\|:id-aa-ets-archiveTimestampV3$')
[ "$n" -eq 3 ] && ok "c-ren2.p7s: three archive timestamps" || ko "c-ren2.p7s: $n archive timestamps"
lint c-ren2.p7s --content doc.txt
not_valid c-ltas.p7s "$TRUST_FR" --content doc.txt --at "$D60"
# every earlier timestamp (SHORT, expired at +60 days) is judged at the time of the next
# archive timestamp: no "not trusted" warning in the renewed file's report
judged() { # FILE (after valid)
	grep -q 'pas de confiance\|pas reconnue' "$T/v.out" &&
		{ ko "$1: an earlier timestamp reported untrusted"; cat "$T/v.out"; } ||
		ok "$1: earlier timestamps judged at the next archive timestamp"
}
valid c-ren.p7s B-LTA --content doc.txt --at "$D60"
judged c-ren.p7s
valid c-ren2.p7s B-LTA --content doc.txt --at "$D60"
valid c-ren2.p7s B-LTA --content doc.txt
# --renew is for --level LTA only
S extend --level LT --renew -o c-bad.p7s --content doc.txt c-lta.p7s >"$T/out" 2>&1 &&
	ko "--renew with --level LT accepted" || ok "--renew with --level LT refused"

for b in x-det x-env; do
	ext "$b-lt.xml" LTA "$SHORT" "$b-ltas.xml"
	ext "$b-ltas.xml" LTA "$LONG" "$b-ren.xml" --renew
	[ "$(grep -o '<xadesv141:ArchiveTimeStamp ' "$b-ren.xml" | wc -l)" -eq 2 ] &&
		grep -q 'xadesv141:TimeStampValidationData' "$b-ren.xml" &&
		tr -d '\n' <"$b-ren.xml" | grep -o '<xadesv141:TimeStampValidationData.*</xadesv141:TimeStampValidationData>' |
		grep -q 'EncapsulatedOCSPValue' &&
		ok "$b-ren.xml: TimeStampValidationData (with OCSP) and a second archive timestamp" ||
		ko "$b-ren.xml: renewal structure"
	xmlsec1 --verify --trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" \
		--url-map:doc.txt doc.txt --id-attr:Id SignedProperties "$b-ren.xml" >"$T/x.out" 2>&1 &&
		ok "xmlsec1 --verify $b-ren.xml" || { ko "xmlsec1 $b-ren.xml"; tail -3 "$T/x.out"; }
	lint "$b-ren.xml"
	not_valid "$b-ltas.xml" "$TRUST_FR" --at "$D60"
	valid "$b-ren.xml" B-LTA --at "$D60"
	judged "$b-ren.xml"
	valid "$b-ren.xml" B-LTA
done

ext p-lt.pdf LTA "$SHORT" p-ltas.pdf
ext p-ltas.pdf LTA "$LONG" p-ren.pdf --renew
cmp -n "$(stat -c %s p-ltas.pdf)" p-ltas.pdf p-ren.pdf && ok "p-ren.pdf: p-ltas.pdf is its prefix" ||
	ko "p-ren.pdf: prefix changed"
qpdf --check p-ren.pdf >/dev/null 2>&1 && ok "qpdf --check p-ren.pdf" || ko "qpdf --check p-ren.pdf"
[ "$(pdfsig p-ren.pdf 2>/dev/null | grep -c 'Signature is Valid')" -ge 1 ] && ok "pdfsig p-ren.pdf" ||
	ko "pdfsig p-ren.pdf"
lint p-ren.pdf --pades
not_valid p-ltas.pdf "$TRUST_FR" --at "$D60"
valid p-ren.pdf B-LTA --at "$D60"
judged p-ren.pdf
valid p-ren.pdf B-LTA
sdr_summary

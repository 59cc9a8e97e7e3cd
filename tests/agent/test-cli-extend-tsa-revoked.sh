#!/bin/sh
# The revocation of timestamp authorities' certificates (issue 15, `sinadur extend`).
#
# BAD: a second TSA certificate of the test CA (no OCSP URL of its own: the CA's OCSP
# service answers for it, as for the signer), served by a second responder.
#   1. B-LT made by `extend` and by `sign --level LT` carries an OCSP response for the
#      signature timestamp's TSA certificate (CAdES, XAdES, PAdES).
#   2. BAD is revoked (keyCompromise) in the OCSP index: `extend --level LT` over a
#      timestamp by BAD is refused (nothing written), and so is `sign --level LT`; the
#      renewal (--renew) of an archive timestamp by BAD is refused too (CAdES, XAdES, PAdES).
#   3. The verifier judges a TSA's revocation from what the signature carries: a B-T
#      signature timestamped by BAD after its revocation, with the "revoked" OCSP response
#      added to its data (CAdES: SignedData.crls, XAdES: RevocationValues), is no longer
#      trusted (French reason names the revocation); without that response (nothing
#      carried, nothing fetched for the TSA) the timestamp stays trusted. Control: a B-LT
#      signature timestamped before the revocation, with the same response added, stays
#      VALID B-LT (revoked after its timestamp). PAdES: the response added to the /DSS (an
#      incremental update) of a file whose last document timestamp by BAD follows the
#      revocation and whose first one precedes it: only the last one is not trusted.
set -u
SRC=${SINADUR_SOURCE_ROOT:?}
BUILD=${SINADUR_BUILD_ROOT:?}
PY=/usr/bin/python3
for t in openssl qpdf; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
$PY -c 'import asn1crypto' 2>/dev/null || { echo "skip: python3-asn1crypto missing"; exit 77; }
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir sdr-extend-tsarev
PORT=$(sdr_free_port)
P=$T/pki
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
GOOD=$TSA

(
	cd "$P" || exit 1
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out tsa-bad.key 2>/dev/null &&
		openssl req -new -config openssl.cnf -key tsa-bad.key -out tsa-bad.csr \
			-subj "/C=FR/O=Sinadur TEST/CN=Horodatage compromis Sinadur TEST" 2>/dev/null &&
		openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key -extensions tsa \
			-days 365 -in tsa-bad.csr -out tsa-bad.pem -notext >/dev/null 2>&1
) || { echo "cannot issue the BAD TSA certificate"; exit 1; }
cp -r "$P" "$T/pki-bad"
cp "$P/tsa-bad.pem" "$T/pki-bad/tsa.pem"
cp "$P/tsa-bad.key" "$T/pki-bad/tsa.key"
PORT2=$(sdr_free_port)
$PY "$SDR_RESPONDER" "$T/pki-bad" "$PORT2" 2>"$T/responder2.log" &
sdr_kill_on_exit $!
i=0
while ! $PY -c "import socket; socket.create_connection(('127.0.0.1',$PORT2),1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "second responder did not start"; exit 1; }
	sleep 0.1
done
BAD=http://127.0.0.1:$PORT2/tsa
SERIAL=$(openssl x509 -in "$P/tsa-bad.pem" -noout -serial | cut -d= -f2)

CONF=$T/sinadur.conf
CONF_BAD=$T/sinadur-bad.conf
printf '[signature]\ntrust_anchors=%s\ntsa_url=%s\n' "$P/root.pem" "$GOOD" >"$CONF"
printf '[signature]\ntrust_anchors=%s\ntsa_url=%s\n' "$P/root.pem" "$BAD" >"$CONF_BAD"
S() { env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$BUILD/agent/sinadur" --config "$CONF" "$@"; }
SB() { env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$BUILD/agent/sinadur" --config "$CONF_BAD" "$@"; }
KEY="--key $P/user-rsa.key --cert-file $P/user-rsa.pem --chain-file $P/chain.pem"
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1
printf 'Délibération 2026-44\n' >doc.txt
$PY "$SRC/tests/pades/mkpdf.py" plain doc.pdf

# ocsp_for FILE: the serials (hex) of the certificates that OCSP responses in FILE answer for
cat >"$T/ocsp_for.py" <<'PYEOF'
import base64, re, sys
from asn1crypto import cms, ocsp
path = sys.argv[1]
data = open(path, 'rb').read()
found = []
def responses(der):
    try:
        r = ocsp.OCSPResponse.load(der)
        for s in r['response_bytes']['response'].parsed['tbs_response_data']['responses']:
            found.append('%X' % s['cert_id']['serial_number'].native)
    except Exception:
        pass
if path.endswith('.p7s'):
    sd = cms.ContentInfo.load(data)['content']
    for c in sd['crls'] or []:
        if c.name == 'other':
            responses(c.chosen['other_rev_info'].dump())
elif path.endswith('.xml'):
    for b in re.findall(rb'EncapsulatedOCSPValue[^>]*>([^<]+)<', data):
        responses(base64.b64decode(re.sub(rb'\s', b'', b)))
else:
    for m in re.finditer(rb'stream\r?\n', data):
        end = data.find(b'endstream', m.end())
        responses(data[m.end():end].rstrip(b'\r\n'))
print(' '.join(found))
PYEOF
carries() { # FILE: an OCSP response for BAD's certificate is in FILE
	if $PY "$T/ocsp_for.py" "$1" | tr ' ' '\n' | grep -qix "$SERIAL"; then
		ok "$1: OCSP response for the TSA certificate carried"
	else
		ko "$1: no OCSP response for the TSA certificate ($SERIAL; has: $($PY "$T/ocsp_for.py" "$1"))"
	fi
}

# ---- 1. LT carries the TSA's revocation data ----
S sign -f cades $KEY doc.txt >/dev/null 2>&1 || ko "sign cades"
S sign -f xades $KEY doc.txt >/dev/null 2>&1 || ko "sign xades"
S sign -f pades $KEY doc.pdf >/dev/null 2>&1 || ko "sign pades"
for f in doc.txt.p7s "doc.txt - Signature 1.xml" doc-signe.pdf; do
	case $f in *.p7s) o=c-lt.p7s ;; *.xml) o=x-lt.xml ;; *) o=p-lt.pdf ;; esac
	S extend --level LT --tsa "$BAD" -o "$o" --content doc.txt "$f" >"$T/out" 2>&1 ||
		{ ko "extend $f -> LT with BAD"; cat "$T/out"; }
	carries "$o"
done
SB sign -f xades --level LT $KEY -o xs-lt.xml doc.txt >"$T/out" 2>&1 || { ko "sign xades LT"; cat "$T/out"; }
carries xs-lt.xml
SB sign -f pades --level LT $KEY -o ps-lt.pdf doc.pdf >"$T/out" 2>&1 || { ko "sign pades LT"; cat "$T/out"; }
carries ps-lt.pdf
SB sign -f cades --level LT $KEY -o cs-lt.p7s doc.txt >"$T/out" 2>&1 || { ko "sign cades LT"; cat "$T/out"; }
carries cs-lt.p7s

# ---- 2. BAD revoked: no LT over its timestamps ----
sleep 1 # the revocation time (seconds) strictly after the timestamps made above
(cd "$P" && openssl ca -batch -config openssl.cnf -cert ca.pem -keyfile ca.key -revoke tsa-bad.pem \
	-crl_reason keyCompromise >/dev/null 2>&1) || ko "revoke BAD"
sleep 1 # the revocation time (seconds) strictly before the next timestamps
openssl ocsp -issuer "$P/ca.pem" -cert "$P/tsa-bad.pem" -url "http://127.0.0.1:$PORT/" \
	-respout bad-revoked.der -noverify >"$T/ocsp.out" 2>&1 && grep -q ': revoked' "$T/ocsp.out" &&
	ok "OCSP says BAD is revoked" || { ko "OCSP for BAD"; cat "$T/ocsp.out"; }
for f in doc.txt.p7s "doc.txt - Signature 1.xml" doc-signe.pdf; do
	S extend --level LT --tsa "$BAD" -o refused.out --content doc.txt "$f" >"$T/out" 2>&1
	rc=$?
	[ $rc -ne 0 ] && [ ! -e refused.out ] && grep -q 'révoqu' "$T/out" &&
		ok "$f: LT over a revoked TSA refused ($rc)" || { ko "$f: LT over a revoked TSA"; cat "$T/out"; }
done
# An archive timestamp by the revoked TSA (nothing in the file says so yet) cannot be
# renewed: its TSA's revocation data is what the renewal adds, and it says "revoked".
for f in c-lt.p7s x-lt.xml p-lt.pdf; do
	S extend --level LTA --tsa "$BAD" -o "lta-$f" --content doc.txt "$f" >"$T/out" 2>&1 ||
		{ ko "$f: LTA by BAD"; cat "$T/out"; }
	S extend --renew --tsa "$GOOD" -o "ren-$f" --content doc.txt "lta-$f" >"$T/out" 2>&1
	rc=$?
	[ $rc -eq 10 ] && [ ! -e "ren-$f" ] && grep -q 'révoqu' "$T/out" &&
		ok "lta-$f: renewal over a revoked archive TSA refused ($rc)" ||
		{ ko "lta-$f: renewal over a revoked archive TSA (rc $rc)"; cat "$T/out"; }
done
SB sign -f xades --level LT $KEY -o refused.xml doc.txt >"$T/out" 2>&1
[ $? -ne 0 ] && [ ! -e refused.xml ] && ok "sign --level LT with a revoked TSA refused" ||
	{ ko "sign LT with a revoked TSA"; cat "$T/out"; }

# ---- 3. The verifier reads the TSA's revocation in the signature ----
SB sign -f cades --level T $KEY -o c-t.p7s doc.txt >"$T/out" 2>&1 || { ko "sign cades T"; cat "$T/out"; }
SB sign -f xades --level T $KEY -o x-t.xml doc.txt >"$T/out" 2>&1 || { ko "sign xades T"; cat "$T/out"; }
cat >"$T/inject.py" <<'PYEOF'
import base64, sys
from asn1crypto import cms, ocsp
src, resp, out = sys.argv[1:4]
r = open(resp, 'rb').read()
if src.endswith('.p7s'):
    ci = cms.ContentInfo.load(open(src, 'rb').read())
    sd = ci['content']
    crls = list(sd['crls']) if sd['crls'] else []
    crls.append(cms.RevocationInfoChoice(name='other', value=cms.OtherRevocationInfoFormat({
        'other_rev_info_format': '1.3.6.1.5.5.7.16.2',
        'other_rev_info': ocsp.OCSPResponse.load(r)})))
    sd['crls'] = crls
    open(out, 'wb').write(ci.dump(force=False))
else:
    s = open(src, encoding='utf-8').read()
    b64 = base64.b64encode(r).decode()
    if '<xades:OCSPValues>' in s:
        s = s.replace('<xades:OCSPValues>', '<xades:OCSPValues><xades:EncapsulatedOCSPValue>%s'
                      '</xades:EncapsulatedOCSPValue>' % b64, 1)
    else:
        s = s.replace('</xades:UnsignedSignatureProperties>', '<xades:RevocationValues>'
                      '<xades:OCSPValues><xades:EncapsulatedOCSPValue>%s</xades:EncapsulatedOCSPValue>'
                      '</xades:OCSPValues></xades:RevocationValues>'
                      '</xades:UnsignedSignatureProperties>' % b64, 1)
    open(out, 'w', encoding='utf-8').write(s)
PYEOF
REVOKED_FR='autorité d’horodatage (Horodatage compromis Sinadur TEST) a été révoqué'
# PAdES: the "revoked" response added to the /DSS of lta-p-lt.pdf (a document timestamp by
# BAD after its revocation over an LT whose document timestamp by BAD came before it) in an
# incremental update (classic xref section).
cat >"$T/inject-dss.py" <<'PYEOF'
import re, sys
src, resp, out = sys.argv[1:4]
data = open(src, 'rb').read()
r = open(resp, 'rb').read()
prev = int(re.findall(rb'startxref\s+(\d+)', data)[-1])
size = int(re.findall(rb'/Size\s+(\d+)', data)[-1])
root = re.findall(rb'/Root\s+(\d+\s+\d+\s+R)', data)[-1]
dnum = int(re.findall(rb'/DSS\s+(\d+)\s+0\s+R', data)[-1])
m = list(re.finditer(rb'(?<![0-9])%d 0 obj\s*(<<.*?>>)\s*endobj' % dnum, data, re.S))[-1]
dss = m.group(1)
ref = b'%d 0 R' % size
if b'/OCSPs' in dss:
    dss = re.sub(rb'/OCSPs\s*\[', b'/OCSPs [' + ref + b' ', dss, count=1)
else:
    dss = dss[:-2] + b' /OCSPs [' + ref + b'] >>'
body = b'\n'
off_s = len(data) + len(body)
body += b'%d 0 obj\n<< /Length %d >>\nstream\n' % (size, len(r)) + r + b'\nendstream\nendobj\n'
off_d = len(data) + len(body)
body += b'%d 0 obj\n' % dnum + dss + b'\nendobj\n'
xref = len(data) + len(body)
body += b'xref\n%d 1\n%010d 00000 n \n%d 1\n%010d 00000 n \n' % (dnum, off_d, size, off_s)
body += b'trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (
    size + 1, root, prev, xref)
open(out, 'wb').write(data + body)
PYEOF
$PY "$T/inject-dss.py" lta-p-lt.pdf bad-revoked.der rev-p-lta.pdf || ko "inject into the DSS"
qpdf --check rev-p-lta.pdf >/dev/null 2>&1 && ok "qpdf --check rev-p-lta.pdf" || ko "qpdf --check rev-p-lta.pdf"
S verify lta-p-lt.pdf >"$T/v0.out" 2>&1
grep -q 'révoqué' "$T/v0.out" && { ko "lta-p-lt.pdf: TSA revoked without the response"; cat "$T/v0.out"; } ||
	ok "lta-p-lt.pdf: nothing carried, nothing said about the TSA's revocation"
S verify rev-p-lta.pdf >"$T/v.out" 2>&1
[ "$(grep -c "$REVOKED_FR" "$T/v.out")" -eq 1 ] &&
	ok "rev-p-lta.pdf: the document timestamp after the revocation is not trusted, the one before is" ||
	{ ko "rev-p-lta.pdf: revoked TSA in the DSS"; cat "$T/v.out"; }
for f in c-t.p7s x-t.xml c-lt.p7s x-lt.xml; do
	$PY "$T/inject.py" "$f" bad-revoked.der "rev-$f" || ko "inject into $f"
	S verify --content doc.txt "$f" >"$T/v0.out" 2>&1
	S verify --content doc.txt "rev-$f" >"$T/v.out" 2>&1
	case $f in
	*-t.*)
		grep -q 'révoqué' "$T/v0.out" && { ko "$f: TSA revoked without the response"; cat "$T/v0.out"; } ||
			ok "$f: nothing carried, nothing said about the TSA's revocation"
		grep -q "$REVOKED_FR" "$T/v.out" && ! grep -q ': VALIDE' "$T/v.out" &&
			ok "rev-$f: TSA revoked before the timestamp: not trusted" ||
			{ ko "rev-$f: revoked TSA still trusted"; cat "$T/v.out"; }
		;;
	*)
		grep -q 'VALIDE, niveau B-LT$' "$T/v.out" && ! grep -q "$REVOKED_FR" "$T/v.out" &&
			ok "rev-$f: TSA revoked after the timestamp: still VALID B-LT" ||
			{ ko "rev-$f: revoked-later TSA"; cat "$T/v.out"; }
		;;
	esac
done
sdr_summary

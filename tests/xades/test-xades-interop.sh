#!/bin/sh
# test-xades-interop.sh XADES_TOOL - XAdES end to end with real components: file
# keys of a fresh test PKI, the loopback TSA/OCSP/CRL responder of tests/cades
# (pki-responder.py), the independent checkers xmlsec1 and ades-lint.py, and our
# own verifier.
set -u
TOOL=${1:?usage: test-xades-interop.sh XADES_TOOL}
SRC=${SINADUR_SOURCE_ROOT:?}
SHARED=${SINADUR_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
LINT=$SHARED/tools/ades-lint.py
RESPONDER=$SRC/tests/cades/pki-responder.py
for t in openssl xmlsec1 $PY; do
	command -v "$t" >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
[ -f "$LINT" ] || { echo "skip: ades-lint.py missing"; exit 77; }
[ -f "$RESPONDER" ] || { echo "skip: pki-responder.py missing"; exit 77; }
$PY -c 'import lxml, asn1crypto' 2>/dev/null || { echo "skip: python3-lxml missing"; exit 77; }

. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir
PORT=$(sdr_free_port)
P=$T/pki
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
DOWN_PORT=$(sdr_free_port)

W=$T/work
mkdir -p "$W"
printf 'Délibération n° 2026-042 du conseil municipal\n' >"$W/délib 42.txt"
printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n<!-- facture -->\n<Facture xmlns="urn:facture" Id="f1">\n  <Montant devise="EUR">42.00</Montant>\n  <Libell\351>caf\351</Libell\351>\n</Facture>\n' >"$W/facture.xml"

XADES_ID='http://uri.etsi.org/01903/v1.3.2#:SignedProperties'

# xmlsec FILE: xmlsec1 1.2.37 verifies references and SignatureValue (from the
# signature's folder, where a detached reference resolves).
xmlsec() {
	(cd "$(dirname "$1")" && xmlsec1 --verify --id-attr:Id "$XADES_ID" \
		--trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" "$(basename "$1")") \
		>"$T/xmlsec.out" 2>&1
}
lint() {
	out=$($PY "$LINT" "$1" 2>&1)
	if echo "$out" | grep -q '^ERROR'; then
		echo "$out" | grep '^ERROR'
		return 1
	fi
	return 0
}
# ours FILE EXPECTED_VERDICT [EXPECTED_LEVEL] [args]
ours() {
	f=$1
	want=$2
	shift 2
	lvl=${1:-}
	[ $# -gt 0 ] && shift
	res=$("$TOOL" verify "$f" --trust "$P/root.pem" --online "$@" 2>"$T/verify.err")
	case "$res" in
	"$want${lvl:+ $lvl}"*) return 0 ;;
	*)
		echo "    got: $res"
		sed 's/^/    /' "$T/verify.err"
		return 1
		;;
	esac
}

# check NAME FILE [LEVEL]: xmlsec1 OK, ades-lint no ERROR, our verify VALID
check() {
	name=$1
	f=$2
	lvl=${3:-B-B}
	if xmlsec "$f" && grep -q '^OK' "$T/xmlsec.out"; then ok "$name: xmlsec1 OK"; else
		ko "$name: xmlsec1"
		sed 's/^/    /' "$T/xmlsec.out" | head -5
	fi
	if lint "$f"; then ok "$name: ades-lint no ERROR"; else ko "$name: ades-lint"; fi
	if ours "$f" VALID "$lvl"; then ok "$name: our verify VALID $lvl"; else ko "$name: our verify"; fi
}

sign() {
	"$TOOL" sign "$@" 2>"$T/sign.err" || {
		sed 's/^/    /' "$T/sign.err"
		return 1
	}
}

# ---- detached, enveloped, enveloping with RSA and EC ----
for k in rsa ec; do
	f=$(sign "$P/user-$k.key" "$P/user-$k.pem" "$P/chain.pem" detached "$W/délib 42.txt") &&
		check "detached $k" "$f" || ko "detached $k: sign"
	rm -f "$f"
	f=$(sign "$P/user-$k.key" "$P/user-$k.pem" "$P/chain.pem" enveloped "$W/facture.xml" \
		"$W/env-$k.xml") && check "enveloped $k" "$f" || ko "enveloped $k: sign"
	f=$(sign "$P/user-$k.key" "$P/user-$k.pem" "$P/chain.pem" enveloping "$W/facture.xml" \
		"$W/envg-xml-$k.xml") && check "enveloping xml $k" "$f" || ko "enveloping xml $k: sign"
	f=$(sign "$P/user-$k.key" "$P/user-$k.pem" "$P/chain.pem" enveloping "$W/délib 42.txt" \
		"$W/envg-bin-$k.xml") && check "enveloping binary $k" "$f" || ko "enveloping binary $k: sign"
done

# SHA-384 / SHA-512 (references, SignedInfo, CertDigest)
for h in sha384 sha512; do
	f=$(sign "$P/user-ec.key" "$P/user-ec.pem" "$P/chain.pem" enveloped "$W/facture.xml" \
		"$W/env-$h.xml" --hash $h) && check "enveloped ec $h" "$f" || ko "enveloped ec $h: sign"
done

# every optional signed property
f=$(sign "$P/user-ec.key" "$P/user-ec.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/props.xml" --role Maire --city Plougastel-Daoulas \
	--policy urn:oid:1.2.250.1.131.1.5.18.21.1.7 \
	--policy-hash roF9+cfRHNPtVJolhdqfIqGMVuUXX8aR4rpiquf0u5E= \
	--commitment 'http://uri.etsi.org/01903/v1.2.2#ProofOfApproval') &&
	check "optional properties" "$f" || ko "optional properties: sign"

# default names: "NAME - Signature 1.xml", then 2
f1=$(sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/délib 42.txt")
f2=$(sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/délib 42.txt")
[ "$f1" = "$W/délib 42.txt - Signature 1.xml" ] && [ "$f2" = "$W/délib 42.txt - Signature 2.xml" ] &&
	ok "detached names: Signature 1, Signature 2" || ko "detached names: $f1 / $f2"
grep -q 'URI="d%C3%A9lib%2042.txt"' "$f1" && ok "reference URI is the escaped file name" ||
	ko "reference URI"
printf 'deux points\n' >"$W/PV: séance.txt"
f=$(sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/PV: séance.txt") &&
	check "file name with ':'" "$f" || ko "file name with ':': sign"

# RSA-PSS (xmlsec1 1.2.37 has no RSA-PSS: our verifier only)
f=$(sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/pss.xml" --pss) && grep -q 'sha256-rsa-MGF1' "$f" && ours "$f" VALID B-B &&
	ok "RSA-PSS detached: our verify VALID" || ko "RSA-PSS"
lint "$W/pss.xml" && ok "RSA-PSS: ades-lint no ERROR" || ko "RSA-PSS: ades-lint"

# ---- element signatures (the PES way: sdr_xades_sign_node, XAdES 1.1.1) ----
printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n<n:PES_Aller xmlns:n="http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller" Id="ALL">\n<PES_DepenseAller><Bordereau Id="BD1"><Piece>caf\351 1</Piece></Bordereau><Bordereau Id="BD2"><Piece>2</Piece></Bordereau></PES_DepenseAller></n:PES_Aller>\n' >"$W/pes.xml"
if sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" enveloped "$W/pes.xml" "$W/pes1.xml" \
	--element BD1 --v111 --sig-id SIG-BD1 --role Ordonnateur >/dev/null &&
	(cd "$W" && xmlsec1 --verify --id-attr:Id Bordereau --trusted-pem "$P/root.pem" \
		--untrusted-pem "$P/ca.pem" pes1.xml >"$T/xmlsec.out" 2>&1) &&
	grep -q '^OK' "$T/xmlsec.out"; then
	ok "element signature: xmlsec1 --id-attr:Id Bordereau OK"
else
	ko "element signature: xmlsec1"
fi
head -c 45 "$W/pes1.xml" | grep -q 'encoding="ISO-8859-1"' && ok "element signature: ISO-8859-1 kept" ||
	ko "element signature: encoding"
sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" enveloped "$W/pes1.xml" "$W/pes2.xml" \
	--element BD2 --v111 --sig-id SIG-BD2 >/dev/null
res=$("$TOOL" verify "$W/pes2.xml" --trust "$P/root.pem" --online 2>/dev/null | tr '\n' '|')
[ "$res" = "VALID none - XAdES|VALID none - XAdES|" ] && ok "two bordereau signatures VALID" ||
	ko "two bordereau signatures: $res"
sed 's|<Piece>2</Piece>|<Piece>3</Piece>|' "$W/pes2.xml" >"$W/pes2-bad.xml"
res=$("$TOOL" verify "$W/pes2-bad.xml" --trust "$P/root.pem" --online 2>/dev/null | tr '\n' '|')
case "$res" in "VALID none - XAdES|INVALID none DIGEST_MISMATCH XAdES|") ok "byte changed in BD2: only its signature INVALID" ;;
*) ko "BD2 tamper: $res" ;; esac

# ---- a XAdES 1.2.2 signature made by xmlsec1 from a template: our verifier on
# someone else's output (not baseline: level none, but cryptographically VALID) ----
D=$(openssl x509 -in "$P/user-rsa.pem" -outform DER | openssl dgst -sha256 -binary | base64)
SER=$(openssl x509 -in "$P/user-rsa.pem" -noout -serial | cut -d= -f2)
SERDEC=$($PY -c "print(int('$SER', 16))")
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
NS122='http://uri.etsi.org/01903/v1.2.2#'
cat >"$W/tmpl122.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Doc Id="doc1"><Data>Bonjour</Data><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="S122"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference Id="r1" URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference><ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#SP122"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo><ds:Object><xades:QualifyingProperties xmlns:xades="$NS122" Target="#S122"><xades:SignedProperties Id="SP122"><xades:SignedSignatureProperties><xades:SigningTime>$NOW</xades:SigningTime><xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>$D</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName><ds:X509SerialNumber>$SERDEC</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate></xades:SignedSignatureProperties><xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference="#r1"><xades:MimeType>text/xml</xades:MimeType></xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object></ds:Signature></Doc>
EOF
if xmlsec1 --sign --privkey-pem "$P/user-rsa.key,$P/user-rsa.pem,$P/ca.pem" \
	--id-attr:Id "${NS122}:SignedProperties" --output "$W/x122.xml" "$W/tmpl122.xml" \
	>"$T/xmlsec.out" 2>&1; then
	ours "$W/x122.xml" VALID none && ok "xmlsec1-made XAdES 1.2.2: our verify VALID (level none)" ||
		ko "xmlsec1-made XAdES 1.2.2"
	sed 's/Bonjour/Bonsoir/' "$W/x122.xml" >"$W/x122-bad.xml"
	res=$("$TOOL" verify "$W/x122-bad.xml" --trust "$P/root.pem" --online 2>/dev/null)
	case "$res" in INVALID*DIGEST_MISMATCH*) ok "xmlsec1-made 1.2.2, data changed -> INVALID" ;;
	*) ko "xmlsec1-made 1.2.2 tamper: $res" ;; esac
else
	ko "xmlsec1 --sign of the 1.2.2 template"
	sed 's/^/    /' "$T/xmlsec.out" | head -5
fi

# ---- tampering ----
cp "$W/délib 42.txt" "$T/orig.txt"
printf 'X' | dd of="$W/délib 42.txt" bs=1 seek=3 conv=notrunc 2>/dev/null
res=$("$TOOL" verify "$f1" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*DIGEST_MISMATCH*) ok "detached: byte changed -> INVALID DIGEST_MISMATCH" ;;
*) ko "detached tamper: $res" ;; esac
xmlsec "$f1" && ko "xmlsec1 accepted tampered data" || ok "xmlsec1 refuses tampered data too"
cp "$T/orig.txt" "$W/délib 42.txt"
sed 's/42\.00/43.00/' "$W/env-rsa.xml" >"$W/env-bad.xml"
res=$("$TOOL" verify "$W/env-bad.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*DIGEST_MISMATCH*) ok "enveloped: byte changed -> INVALID DIGEST_MISMATCH" ;;
*) ko "enveloped tamper: $res" ;; esac

# ---- detached content missing / given elsewhere ----
mkdir -p "$T/alone"
cp "$f1" "$T/alone/sig.xml"
res=$("$TOOL" verify "$T/alone/sig.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INDETERMINATE*DATA_NOT_FOUND*) ok "missing content -> INDETERMINATE DATA_NOT_FOUND" ;;
*) ko "missing content: $res" ;; esac
ours "$T/alone/sig.xml" VALID B-B --content "$W/délib 42.txt" && ok "--content finds the data" ||
	ko "--content"

# ---- B-T and B-LT with the local TSA / OCSP ----
f=$(sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/bt.xml" --level T --tsa "$TSA") && check "B-T rsa" "$f" B-T || ko "B-T rsa: sign"
f=$(sign "$P/user-ec.key" "$P/user-ec.pem" "$P/chain.pem" enveloped "$W/facture.xml" \
	"$W/blt.xml" --level LT --tsa "$TSA" --trust "$P/root.pem") && check "B-LT ec" "$f" B-LT &&
	grep -q EncapsulatedOCSPValue "$f" && grep -q EncapsulatedX509Certificate "$f" &&
	ok "B-LT: OCSP response and certificates embedded" || ko "B-LT ec"
# unknown revocation is reported as CAdES does (REVOCATION_UNKNOWN, same words): the
# certificate names an OCSP responder and a CRL, so offline is INDETERMINATE (DSS's
# default policy), never VALID; online the responder answers; B-LT carries the OCSP
# response, so no such reason there
res=$("$TOOL" verify "$W/env-rsa.xml" --trust "$P/root.pem" 2>"$T/offline.err")
case "$res" in INDETERMINATE*REVOCATION_UNKNOWN*)
	grep -q "reason: No revocation information for Jean DUPONT.*offline" "$T/offline.err" &&
		ok "B-B offline, certificate with AIA/CDP: INDETERMINATE REVOCATION_UNKNOWN (offline)" ||
		ko "B-B offline: wording $(cat "$T/offline.err")" ;;
*) ko "B-B offline, certificate with AIA/CDP: $res" ;; esac
"$TOOL" verify "$W/env-rsa.xml" --trust "$P/root.pem" --online 2>&1 >/dev/null |
	grep -q "No revocation information" &&
	ko "B-B online: revocation unknown although the responder runs" ||
	ok "B-B online: the responder answers, no unknown revocation"
"$TOOL" verify "$W/blt.xml" --trust "$P/root.pem" --online 2>&1 >/dev/null | grep -q "No revocation information" &&
	ko "B-LT: revocation reported unknown although embedded" ||
	ok "B-LT: embedded OCSP response, no unknown-revocation warning"
# timestamp token replaced by garbage -> the (unsigned) timestamp proves nothing:
# INDETERMINATE TIMESTAMP_INVALID, not INVALID (DSS ignores unreadable tokens)
sed 's|<xades:EncapsulatedTimeStamp>MII|<xades:EncapsulatedTimeStamp>AAA|' "$W/bt.xml" >"$W/bt-bad.xml"
res=$("$TOOL" verify "$W/bt-bad.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INDETERMINATE*TIMESTAMP_INVALID*) ok "broken timestamp -> INDETERMINATE TIMESTAMP_INVALID" ;;
*) ko "broken timestamp: $res" ;; esac
# a genuine token of another signature (imprint mismatch) -> INVALID TIMESTAMP_INVALID
f2=$(sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/bt2.xml" --level T --tsa "$TSA") || ko "B-T rsa (2): sign"
/usr/bin/python3 - "$W/bt.xml" "$W/bt2.xml" "$W/bt-other.xml" <<'PY'
import re, sys
pat = re.compile(r'(<xades:EncapsulatedTimeStamp>)([^<]*)(<)')
a = open(sys.argv[1], encoding='utf-8').read()
b = open(sys.argv[2], encoding='utf-8').read()
tok = pat.search(b).group(2)
open(sys.argv[3], 'w', encoding='utf-8').write(pat.sub(lambda m: m.group(1) + tok + m.group(3), a, count=1))
PY
res=$("$TOOL" verify "$W/bt-other.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*TIMESTAMP_INVALID*) ok "timestamp of another signature -> INVALID TIMESTAMP_INVALID" ;;
*) ko "timestamp of another signature: $res" ;; esac
# a token whose certificates SET also holds an "other" certificate (valid CMS that
# OpenSSL's PKCS7 parser refuses, seen in Czech XAdES): still read and trusted
/usr/bin/python3 - "$W/bt.xml" "$W/bt-othercert.xml" <<'PY'
import base64, re, sys
from asn1crypto import cms, core
src, dst = sys.argv[1:3]
text = open(src, encoding='utf-8').read()
m = re.search(r'(<xades:EncapsulatedTimeStamp[^>]*>)([^<]*)(<)', text)
ci = cms.ContentInfo.load(base64.b64decode(re.sub(r'\s', '', m.group(2))))
sd = ci['content']
certs = list(sd['certificates']) if sd['certificates'].native is not None else []
other = cms.CertificateChoices(name='other', value=cms.OtherCertificateFormat({
    'other_cert_format': '1.3.6.1.4.1.99999.1', 'other_cert': core.OctetString(b'not a cert')}))
sd['certificates'] = cms.CertificateSet(certs + [other])
tok = base64.b64encode(ci.dump(force=True)).decode()
open(dst, 'w', encoding='utf-8').write(text[:m.start(2)] + tok + text[m.end(2):])
PY
res=$("$TOOL" verify "$W/bt-othercert.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in VALID*B-T*) ok "timestamp token with an 'other' certificate: VALID B-T" ;;
*) ko "timestamp token with an 'other' certificate: $res" ;; esac
# TSA down: clear error, nothing written
res=$("$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/down.xml" --level T --tsa "http://127.0.0.1:$DOWN_PORT/tsa" 2>&1)
[ ! -e "$W/down.xml" ] && echo "$res" | grep -q LEVEL_NOT_REACHED &&
	ok "TSA down: LEVEL_NOT_REACHED, nothing written" || ko "TSA down: $res"
# revoked signer: B-LT refused
res=$("$TOOL" sign "$P/user-revoked.key" "$P/user-revoked.pem" "$P/chain.pem" detached \
	"$W/délib 42.txt" "$W/rev.xml" --level LT --tsa "$TSA" --trust "$P/root.pem" 2>&1)
[ ! -e "$W/rev.xml" ] && echo "$res" | grep -q LEVEL_NOT_REACHED &&
	ok "revoked signer: B-LT refused" || ko "revoked signer: $res"
# revoked signer at B-B: offline nothing to see, --online asks the OCSP responder
f=$(sign "$P/user-revoked.key" "$P/user-revoked.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/rev-bb.xml")
res=$("$TOOL" verify "$W/rev-bb.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*CERT_REVOKED*) ok "revoked signer, --online -> INVALID CERT_REVOKED" ;;
*) ko "revoked signer online: $res" ;; esac
ours "$W/bt.xml" VALID B-T --online && ok "good signer, --online -> VALID" || ko "good signer online"
# expired signer: INDETERMINATE CERT_EXPIRED
f=$(sign "$P/user-expired.key" "$P/user-expired.pem" "$P/chain.pem" detached "$W/délib 42.txt" \
	"$W/expired.xml")
res=$("$TOOL" verify "$W/expired.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INDETERMINATE*CERT_EXPIRED*) ok "expired signer -> INDETERMINATE CERT_EXPIRED" ;;
*) ko "expired signer: $res" ;; esac

# ---- bad input ----
cat >"$W/xxe.xml" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></r>
EOF
res=$("$TOOL" verify "$W/xxe.xml" 2>&1)
echo "$res" | grep -q "ERROR SDR_ERROR_PARSE" && ! echo "$res" | grep -q "root:" &&
	ok "XXE: refused at parse, nothing expanded" || ko "XXE: $res"
res=$("$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" enveloped "$W/xxe.xml" \
	"$W/xxe-signed.xml" 2>&1)
[ ! -e "$W/xxe-signed.xml" ] && echo "$res" | grep -q SDR_ERROR_PARSE &&
	ok "XXE: signing refused" || ko "XXE sign: $res"

# ---- the shared corpus (MANIFEST verdicts) ----
C=$SHARED/corpus/ades
corpus() {
	res=$("$TOOL" verify "$C/$1" --trust "$C/selfmade/ca.pem" 2>/dev/null | head -1)
	case "$res" in $2) ok "corpus $1: $res" ;; *) ko "corpus $1: got '$res' want '$2'" ;; esac
}
if [ -d "$C" ]; then
	corpus selfmade/xades-bb.xml 'VALID B-B*'
	corpus selfmade/tampered-data.xml 'INVALID*DIGEST_MISMATCH*'
	corpus selfmade/tampered-time.xml 'INVALID*DIGEST_MISMATCH*'
	corpus selfmade/xades-wrongcertdigest.xml 'INVALID*SIGNING_CERT_REF*'
	corpus xades/dss/xades-sign-cert-v2-wrong-digest.xml 'INVALID*SIGNING_CERT_REF*'
	corpus xades/dss/xades-tampered-reference.xml 'INVALID*DIGEST_MISMATCH*'
	corpus xades/dss/dss-signed-altered-signedPropsRemoved.xml 'INVALID*'
	corpus xades/dss/dss-signed.xml 'INDETERMINATE * CHAIN_NOT_TRUSTED *'
	corpus xades/dss/dss2011__xades-detached.xml 'INDETERMINATE * CHAIN_NOT_TRUSTED *'
	corpus xades/dss/xades-with-dtd-injection.xml 'ERROR SDR_ERROR_PARSE'
fi

# ---- interop: reference shapes of third-party XAdES (make-odd-xades.py + xmlsec1) ----
oddx() {
	$PY "$SRC/tests/xades/make-odd-xades.py" "$1" "$P/user-rsa.pem" "$P/ca.pem" "$W/odd-$1.tmpl" &&
		xmlsec1 --sign --privkey-pem "$P/user-rsa.key" --id-attr:Id SignedProperties \
			--id-attr:Id KeyInfo --id-attr:Id Object --id-attr:Id content \
			--output "$W/odd-$1.xml" "$W/odd-$1.tmpl" >/dev/null 2>&1 ||
		{ ko "odd $1: template/signing failed"; return; }
	res=$("$TOOL" verify "$W/odd-$1.xml" --trust "$P/root.pem" --online 2>/dev/null)
	case "$res" in $2) ok "odd $1: $3 ($res)" ;; *) ko "odd $1 ($3): $res" ;; esac
}
oddx keyinfo-signed 'VALID B-B*' "own KeyInfo signed next to the document is not wrapping"
oddx object-next-to-doc 'VALID B-B*' "own ds:Object signed next to the document is not wrapping"
oddx own-object-only 'INVALID*WRAPPING*' "enveloped signature signing only its own object is wrapping"
oddx object-type-moved 'INVALID*WRAPPING*' "Type=Object reference to a non-Object element is wrapping"
oddx enveloped-moved 'INVALID*WRAPPING*' "enveloped-signature transform on an element not holding the signature is wrapping"
oddx xades111-certdigest 'VALID *' "XAdES 1.1.1 CertDigest with DigestMethod/DigestValue in the XAdES namespace"
oddx object-in-wrapper 'VALID *' "root holding only the signature: own object signed is not wrapping"
oddx many-refs 'INDETERMINATE*' "over 256 references: INDETERMINATE, not INVALID"
oddx target-no-hash 'VALID *' "QualifyingProperties/@Target without '#' is a warning, not INVALID"
oddx xpath-enveloped 'VALID B-B*' "XPath not(ancestor-or-self::dsig:Signature) transform is evaluated"
# ---- the SignatureMethod must be a public-key signature that fits the KeyInfo key ----
# a genuine HMAC-SHA256 signature (xmlsec1 --hmackey verifies it): INVALID, not INDETERMINATE
printf 'secret partagé' >"$W/hmac.key"
if $PY "$SRC/tests/xades/make-odd-xades.py" hmac "$P/user-rsa.pem" "$P/ca.pem" "$W/odd-hmac.tmpl" &&
	xmlsec1 --sign --hmackey "$W/hmac.key" --id-attr:Id SignedProperties --id-attr:Id KeyInfo \
		--id-attr:Id Object --id-attr:Id content --output "$W/odd-hmac.xml" "$W/odd-hmac.tmpl" \
		>/dev/null 2>&1; then
	xmlsec1 --verify --hmackey "$W/hmac.key" --id-attr:Id SignedProperties --id-attr:Id KeyInfo \
		--id-attr:Id Object --id-attr:Id content "$W/odd-hmac.xml" >/dev/null 2>&1 &&
		ok "HMAC XAdES: xmlsec1 verifies it with the shared key" || ko "HMAC XAdES: xmlsec1 refuses it"
	res=$("$TOOL" verify "$W/odd-hmac.xml" --trust "$P/root.pem" --online 2>/dev/null)
	case "$res" in INVALID*SIGNATURE_VALUE*) ok "HMAC SignatureMethod: INVALID" ;;
	*) ko "HMAC SignatureMethod: $res" ;; esac
else
	ko "HMAC XAdES: template/signing failed"
fi
# sinadur's own EC and RSA signatures with the SignatureMethod changed
# sm SOURCE OLD_METHOD NEW_URI NAME
sm() { sed "s|\"http://www.w3.org/2001/04/xmldsig-more#$2\"|\"$3\"|" "$W/$1" >"$W/sm-$4.xml"; }
sm env-ec.xml ecdsa-sha256 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256' rsa-on-ec
res=$("$TOOL" verify "$W/sm-rsa-on-ec.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*SIGNATURE_VALUE*) ok "RSA SignatureMethod on an EC key: INVALID" ;;
*) ko "RSA SignatureMethod on an EC key: $res" ;; esac
"$TOOL" verify "$W/sm-rsa-on-ec.xml" --trust "$P/root.pem" --online 2>&1 | grep -q "does not fit the key" &&
	ok "RSA SignatureMethod on an EC key: the report names the mismatch" ||
	ko "RSA SignatureMethod on an EC key: mismatch not named"
sm env-rsa.xml rsa-sha256 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256' ecdsa-on-rsa
res=$("$TOOL" verify "$W/sm-ecdsa-on-rsa.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*SIGNATURE_VALUE*) ok "ECDSA SignatureMethod on an RSA key: INVALID" ;;
*) ko "ECDSA SignatureMethod on an RSA key: $res" ;; esac
sm env-rsa.xml rsa-sha256 'urn:example:rsa-sha256' unknown
res=$("$TOOL" verify "$W/sm-unknown.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*SIGNATURE_VALUE*) ok "unknown SignatureMethod: INVALID" ;;
*) ko "unknown SignatureMethod: $res" ;; esac
sm env-rsa.xml rsa-sha256 'http://www.w3.org/2009/xmldsig11#dsa-sha256' dsa
res=$("$TOOL" verify "$W/sm-dsa.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INDETERMINATE*UNSUPPORTED_ALGORITHM*) ok "DSA SignatureMethod: INDETERMINATE (real, not checked)" ;;
*) ko "DSA SignatureMethod: $res" ;; esac
sed 's|Délibération 42|Délibération 43|' "$W/odd-xpath-enveloped.xml" >"$W/odd-xpath-tampered.xml"
res=$("$TOOL" verify "$W/odd-xpath-tampered.xml" --trust "$P/root.pem" --online 2>/dev/null)
case "$res" in INVALID*DIGEST_MISMATCH*) ok "XPath transform: edited document -> DIGEST_MISMATCH" ;;
*) ko "XPath transform, edited document: $res" ;; esac

sdr_summary

#!/bin/sh
# test-cades-integration.sh CADES_TOOL - CAdES end to end with real components:
# file keys of a fresh test PKI, a loopback TSA/OCSP/CRL responder
# (pki-responder.py), the independent checkers `openssl cms -verify` and
# ades-lint.py, and our own verifier.
set -u
TOOL=${1:?usage: test-cades-integration.sh CADES_TOOL}
SRC=${SINADUR_SOURCE_ROOT:?}
SHARED=${SINADUR_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
LINT=$SHARED/tools/ades-lint.py
for t in openssl $PY; do
	command -v "$t" >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
[ -f "$LINT" ] || { echo "skip: ades-lint.py missing"; exit 77; }
$PY -c 'import asn1crypto' 2>/dev/null || { echo "skip: python3-asn1crypto missing"; exit 77; }

. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir
PORT=$(sdr_free_port)
P=$T/pki
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
DOWN_PORT=$(sdr_free_port)

printf 'Délibération n° 2026-042 du conseil municipal\n' >"$T/doc.txt"

# lint FILE [CONTENT]: ades-lint must print no ERROR line.
lint() {
	if [ $# -ge 2 ]; then
		out=$($PY "$LINT" "$1" --content "$2" --cades 2>&1)
	else
		out=$($PY "$LINT" "$1" --cades 2>&1)
	fi
	if echo "$out" | grep -q '^ERROR'; then
		echo "$out" | grep '^ERROR'
		return 1
	fi
	return 0
}

# check NAME FILE ATTACHED EXPECTED_LEVEL
check() {
	name=$1 f=$2 attached=$3 level=$4
	if [ "$attached" = yes ]; then
		openssl cms -verify -binary -inform DER -in "$f" -CAfile "$P/chain.pem" \
			-out "$T/out.bin" >/dev/null 2>&1 && cmp -s "$T/out.bin" "$T/doc.txt" &&
			ok "$name: openssl cms -verify (attached)" || ko "$name: openssl cms -verify"
		lint "$f" && ok "$name: ades-lint" || ko "$name: ades-lint"
		res=$("$TOOL" verify "$f" --trust "$P/root.pem" --online 2>/dev/null)
	else
		openssl cms -verify -binary -inform DER -in "$f" -content "$T/doc.txt" \
			-CAfile "$P/chain.pem" -out /dev/null >/dev/null 2>&1 &&
			ok "$name: openssl cms -verify" || ko "$name: openssl cms -verify"
		lint "$f" "$T/doc.txt" && ok "$name: ades-lint" || ko "$name: ades-lint"
		res=$("$TOOL" verify "$f" --content "$T/doc.txt" --trust "$P/root.pem" --online 2>/dev/null)
	fi
	echo "$res" | grep -q "^verdict=VALID level=$level " && ok "$name: our verify VALID $level" ||
		ko "$name: our verify said: $res"
}

# ---- B-B: keys x hashes x detached/attached ----
for combo in "user-rsa sha256 -" "user-rsa sha384 -" "user-rsa sha512 -" \
	"user-rsa sha256 --pss" "user-rsa sha512 --pss" "user-ec sha256 -" "user-ec sha384 -" \
	"user-ec sha512 -"; do
	set -- $combo
	u=$1 h=$2 x=$3
	[ "$x" = - ] && x=""
	for mode in detached attached; do
		f=$T/$u-$h$x-$mode.p7s
		a=""
		[ $mode = attached ] && a=--attached
		if "$TOOL" sign "$P/$u.key" "$P/$u.pem" "$P/chain.pem" "$T/doc.txt" "$f" --hash "$h" \
			$x $a 2>"$T/err"; then
			check "B-B $u $h $x $mode" "$f" $([ $mode = attached ] && echo yes || echo no) B-B
		else
			ko "sign B-B $u $h $x $mode: $(cat "$T/err")"
		fi
	done
done

# ---- tampering ----
printf 'Délibération n° 2026-043\n' >"$T/other.txt"
res=$("$TOOL" verify "$T/user-rsa-sha256-detached.p7s" --content "$T/other.txt" --trust "$P/root.pem" --online 2>/dev/null)
echo "$res" | grep -q "verdict=INVALID.*DIGEST_MISMATCH" && ok "modified content: INVALID/DIGEST_MISMATCH" ||
	ko "modified content: $res"
res=$("$TOOL" verify "$T/user-rsa-sha256-detached.p7s" --trust "$P/root.pem" --online 2>/dev/null)
echo "$res" | grep -q "verdict=INDETERMINATE.*DATA_NOT_FOUND" && ok "missing detached content: DATA_NOT_FOUND" ||
	ko "missing detached content: $res"
res=$("$TOOL" verify "$T/user-rsa-sha256-detached.p7s" --content "$T/doc.txt" 2>/dev/null)
echo "$res" | grep -q "verdict=INDETERMINATE.*CHAIN_NOT_TRUSTED" && ok "no trust anchor: CHAIN_NOT_TRUSTED" ||
	ko "no trust anchor: $res"
res=$("$TOOL" verify "$T/user-rsa-sha256-detached.p7s" --content "$T/nope.txt" 2>&1)
echo "$res" | grep -q "SDR_ERROR_NOT_FOUND" && ok "content file missing: clean NOT_FOUND error" ||
	ko "content file missing: $res"

# detached content found beside the signature by the platforms' names (no --content):
# acte.pdf.sig (DER), acte.pdf.pem (PEM), acte.pdf.p7s; the report names the file used
mkdir -p "$T/beside"
cp "$T/doc.txt" "$T/beside/acte.pdf"
cp "$T/user-rsa-sha256-detached.p7s" "$T/beside/acte.pdf.sig"
cp "$T/user-rsa-sha256-detached.p7s" "$T/beside/acte.pdf.p7s"
openssl cms -cmsout -inform DER -in "$T/user-rsa-sha256-detached.p7s" -outform PEM \
	-out "$T/beside/acte.pdf.pem" 2>/dev/null
for s in sig pem p7s; do
	res=$("$TOOL" verify "$T/beside/acte.pdf.$s" --trust "$P/root.pem" --online 2>&1)
	echo "$res" | grep -q "^verdict=VALID level=B-B" &&
		echo "$res" | grep -q "Signed content: acte.pdf (found beside the signature)" &&
		ok "acte.pdf.$s without --content: acte.pdf beside it is used and named" ||
		ko "acte.pdf.$s without --content: $res"
done
cp "$T/other.txt" "$T/beside/acte.pdf"
res=$("$TOOL" verify "$T/beside/acte.pdf.sig" --trust "$P/root.pem" --online 2>&1)
echo "$res" | grep -q "^verdict=INVALID .*DIGEST_MISMATCH" && ok "content beside changed: DIGEST_MISMATCH" ||
	ko "content beside changed: $res"
# an attached signature never takes a file beside it
cp "$T/user-rsa-sha256-attached.p7s" "$T/beside/acte.pdf.p7m"
res=$("$TOOL" verify "$T/beside/acte.pdf.p7m" --trust "$P/root.pem" --online 2>&1)
echo "$res" | grep -q "^verdict=VALID level=B-B" && ! echo "$res" | grep -q "Signed content" &&
	ok "attached acte.pdf.p7m: its own content, no file beside" || ko "attached .p7m: $res"

# ---- B-T ----
f=$T/bt.p7s
if "$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" "$T/doc.txt" "$f" --level T \
	--tsa "$TSA" 2>"$T/err"; then
	check "B-T rsa" "$f" no B-T
	lo=$($PY "$LINT" "$f" --content "$T/doc.txt" --cades 2>&1)
	echo "$lo" | grep -q "levels-seen=\['B', 'T'\]" &&
		ok "B-T: ades-lint sees the timestamp" || ko "B-T: ades-lint does not see T"
else
	ko "sign B-T: $(cat "$T/err")"
fi
f=$T/bt-ec.p7s
"$TOOL" sign "$P/user-ec.key" "$P/user-ec.pem" "$P/chain.pem" "$T/doc.txt" "$f" --level T \
	--tsa "$TSA" --attached --hash sha384 2>"$T/err" && check "B-T ec attached sha384" "$f" yes B-T ||
	ko "sign B-T ec: $(cat "$T/err")"

# TSA down / broken: clear error, nothing written
f=$T/down.p7s
res=$("$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" "$T/doc.txt" "$f" --level T \
	--tsa "http://127.0.0.1:$DOWN_PORT/" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ ! -e "$f" ] && echo "$res" | grep -q "SDR_ERROR_NETWORK.*B-T" &&
	ok "TSA down: clear error, nothing written" || ko "TSA down: rc=$rc $res"
res=$("$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" "$T/doc.txt" "$f" --level T 2>&1)
[ ! -e "$f" ] && echo "$res" | grep -q "LEVEL_NOT_REACHED" && ok "no TSA configured: LEVEL_NOT_REACHED" ||
	ko "no TSA configured: $res"
ls "$T" | grep -q '^\.goutputstream\|down.p7s.*tmp' && ko "temporary file left behind" || true

# ---- B-LT ----
f=$T/blt.p7s
if "$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" "$T/doc.txt" "$f" --level LT \
	--tsa "$TSA" --trust "$P/root.pem" 2>"$T/err"; then
	check "B-LT rsa" "$f" no B-LT
	lo=$($PY "$LINT" "$f" --content "$T/doc.txt" --cades 2>&1)
	echo "$lo" | grep -q "SignedData.crls has [1-9]" &&
		ok "B-LT: revocation data in SignedData.crls" || ko "B-LT: no crls seen by ades-lint"
	lo=$(openssl cms -cmsout -print -inform DER -in "$f" 2>&1)
	echo "$lo" | grep -q "1.3.6.1.5.5.7.16.2\|id-ri-ocsp-response" &&
		ok "B-LT: OCSP stored as id-ri-ocsp-response" ||
		{ ko "B-LT: no id-ri-ocsp-response"; cat "$T/err"; echo "$lo" | grep -A3 -i "crl\|revocation" | head -40; }
else
	ko "sign B-LT: $(cat "$T/err")"
fi
f=$T/blt-ec.p7s
"$TOOL" sign "$P/user-ec.key" "$P/user-ec.pem" "$P/chain.pem" "$T/doc.txt" "$f" --level LT \
	--tsa "$TSA" --trust "$P/root.pem" 2>"$T/err" && check "B-LT ec" "$f" no B-LT ||
	ko "sign B-LT ec: $(cat "$T/err")"

# revoked signer: B-LT refused; B-B verified online -> CERT_REVOKED
f=$T/revoked.p7s
res=$("$TOOL" sign "$P/user-revoked.key" "$P/user-revoked.pem" "$P/chain.pem" "$T/doc.txt" "$f" \
	--level LT --tsa "$TSA" --trust "$P/root.pem" 2>&1)
[ ! -e "$f" ] && echo "$res" | grep -q "LEVEL_NOT_REACHED.*revoked" &&
	ok "revoked signer: B-LT refused" || ko "revoked signer B-LT: $res"
"$TOOL" sign "$P/user-revoked.key" "$P/user-revoked.pem" "$P/chain.pem" "$T/doc.txt" "$f" 2>/dev/null
res=$("$TOOL" verify "$f" --content "$T/doc.txt" --trust "$P/root.pem" --online 2>/dev/null)
echo "$res" | grep -Eq "verdict=(INVALID|INDETERMINATE).*CERT_REVOKED" &&
	ok "revoked signer: verify --online says CERT_REVOKED" || ko "revoked verify: $res"
# expired signer: INDETERMINATE / CERT_EXPIRED
f=$T/expired.p7s
"$TOOL" sign "$P/user-expired.key" "$P/user-expired.pem" "$P/chain.pem" "$T/doc.txt" "$f" 2>/dev/null
res=$("$TOOL" verify "$f" --content "$T/doc.txt" --trust "$P/root.pem" --online 2>/dev/null)
echo "$res" | grep -q "verdict=INDETERMINATE.*CERT_EXPIRED" && ok "expired signer: CERT_EXPIRED" ||
	ko "expired signer: $res"

# ---- corpus (MANIFEST verdicts) ----
C=$SHARED/corpus/ades
if [ -d "$C/cades" ]; then
	v() { "$TOOL" verify "$@" 2>/dev/null | head -1; }
	# INVALID: B-T whose timestamp hash was modified
	res=$(v "$C/cades/dss/dss-1220__CAdES-BpT_modified_ts_hash.p7m")
	echo "$res" | grep -q "verdict=INVALID.*TIMESTAMP_INVALID" && ok "corpus dss-1220: INVALID" ||
		ko "corpus dss-1220: $res"
	# no signing certificate: DSS says INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND
	res=$(v "$C/cades/dss/cms-no-sign-cert.p7m")
	echo "$res" | grep -Eq "verdict=(INVALID|INDETERMINATE).*SIGNING_CERT_REF" &&
		ok "corpus cms-no-sign-cert: not valid, no signing certificate" ||
		ko "corpus cms-no-sign-cert: $res"
	# crypto valid (chain untrusted/expired here): no INVALID, no data/signature reasons
	for s in "dss-2011__cades-enveloping.pkcs7" "dss-2011__cades-detached.pkcs7 --content $C/cades/dss/HelloWorld.txt"; do
		set -- $s
		res=$(v "$C/cades/dss/$@")
		echo "$res" | grep -q "verdict=INVALID\|DIGEST\|SIGNATURE_VALUE\|DATA_NOT_FOUND\|SIGNING_CERT_REF" &&
			ko "corpus $1: $res" || ok "corpus $1: crypto valid ($res)"
	done
	res=$(v "$C/cades/dss/dss-2011__cades-detached.pkcs7")
	echo "$res" | grep -q "verdict=INDETERMINATE.*DATA_NOT_FOUND" &&
		ok "corpus dss-2011 detached without content: DATA_NOT_FOUND" || ko "corpus detached no content: $res"
	res=$(v "$C/selfmade/data.p7s" --content "$C/selfmade/data.txt" --trust "$C/selfmade/ca.pem")
	echo "$res" | grep -q "^verdict=VALID level=B-B" && ok "corpus selfmade/data.p7s: VALID B-B" ||
		ko "corpus selfmade/data.p7s: $res"
fi

# ---- bad input: clean errors ----
head -c 300 "$T/user-rsa-sha256-detached.p7s" >"$T/trunc.p7s"
head -c 4096 /dev/urandom >"$T/garbage.p7s"
{
	echo "-----BEGIN CMS-----"
	head -c 3000000 /dev/zero | base64 -w 64
	echo "-----END CMS-----"
} >"$T/huge.p7s"
head -c 3000000 /dev/zero | base64 -w 76 >"$T/huge-b64.p7s"
: >"$T/empty.p7s"
for f in trunc garbage huge huge-b64 empty; do
	res=$("$TOOL" verify "$T/$f.p7s" --content "$T/doc.txt" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && echo "$res" | grep -Eq "SDR_ERROR_(PARSE|TOO_LARGE|UNSUPPORTED)" &&
		ok "bad input $f: clean error" || ko "bad input $f: rc=$rc $res"
done
# unknown digest algorithm (SHA-1 is not accepted)
openssl cms -sign -binary -md sha1 -in "$T/doc.txt" -signer "$P/user-rsa.pem" -inkey "$P/user-rsa.key" \
	-outform DER -out "$T/sha1.p7s" 2>/dev/null
res=$("$TOOL" verify "$T/sha1.p7s" --content "$T/doc.txt" --trust "$P/root.pem" --online 2>&1)
echo "$res" | grep -q "verdict=INDETERMINATE.*UNSUPPORTED_ALGORITHM.*signer=yes" &&
	ok "SHA-1 digest: UNSUPPORTED_ALGORITHM, signer still reported" ||
	ko "SHA-1: $res"
# PEM form of a good signature
openssl cms -cmsout -inform DER -in "$T/user-ec-sha256-detached.p7s" -outform PEM -out "$T/pem.p7s" 2>/dev/null
res=$("$TOOL" verify "$T/pem.p7s" --content "$T/doc.txt" --trust "$P/root.pem" --online 2>&1)
echo "$res" | grep -q "^verdict=VALID level=B-B" && ok "PEM input verified" || ko "PEM input: $res"

# ---- interop: shapes of third-party signatures (built by make-odd-cms.py) ----
# case | expected verdict line (regex) | what it checks
odd() {
	$PY "$SRC/tests/cades/make-odd-cms.py" "$1" "$P/user-rsa.key" "$P/user-rsa.pem" "$P/ca.pem" \
		"$T/odd-$1.p7m" 2>"$T/odd.err" || { ko "odd $1: generator failed: $(cat "$T/odd.err")"; return; }
	res=$("$TOOL" verify "$T/odd-$1.p7m" --trust "$P/root.pem" --online 2>&1)
	echo "$res" | grep -Eq "$2" && ok "odd $1: $3" || ko "odd $1 ($3): $res"
}
odd multi-certid '^verdict=VALID ' "signing-certificate-v2 naming signer + CA is accepted"
odd wrong-certid '^verdict=INVALID .*SIGNING_CERT_REF' "signing-certificate-v2 naming the CA only is refused"
odd double-sigcert '^verdict=VALID level=none' "repeated signing-certificate-v2: crypto valid, not baseline"
odd pss-sha512 '^verdict=VALID level=none' "RSA-PSS hash differing from the digest algorithm verifies"
odd pss-sha512-bad '^verdict=INVALID .*SIGNATURE_VALUE' "altered RSA-PSS value is refused"
# ---- signatureAlgorithm decides the check (mutated sinadur outputs, mutate-cms-alg.py) ----
# case | source | expected verdict line (regex) | openssl cms -verify: refuse/accept/- | what
mut() {
	$PY "$SRC/tests/cades/mutate-cms-alg.py" "$1" "$T/$2" "$T/mut-$1.p7m" 2>"$T/mut.err" ||
		{ ko "mutated $1: generator failed: $(cat "$T/mut.err")"; return; }
	res=$("$TOOL" verify "$T/mut-$1.p7m" --trust "$P/root.pem" --online 2>&1)
	echo "$res" | grep -Eq "$3" && ok "mutated $1: $5" || ko "mutated $1 ($5): $res"
	[ "$4" = - ] && return
	if openssl cms -verify -binary -inform DER -in "$T/mut-$1.p7m" -CAfile "$P/chain.pem" \
		-out /dev/null >/dev/null 2>&1; then o=accept; else o=refuse; fi
	[ "$o" = "$4" ] && ok "mutated $1: openssl cms -verify does $o too" ||
		ko "mutated $1: openssl cms -verify does $o, expected $4"
}
RSA=user-rsa-sha256-attached.p7s EC=user-ec-sha256-attached.p7s PSS=user-rsa-sha256--pss-attached.p7s
mut same "$RSA" '^verdict=VALID level=B-B ' accept "re-encoded control stays VALID"
mut rsaenc "$RSA" '^verdict=VALID ' accept "rsaEncryption (usual CMS value) is PKCS#1 v1.5 with the digest algorithm"
mut ecpubkey "$EC" '^verdict=VALID ' - "id-ecPublicKey as signature algorithm is ECDSA with the digest algorithm"
mut oaep "$RSA" '^verdict=INVALID .*SIGNATURE_VALUE' refuse "id-RSAES-OAEP is not a signature algorithm"
mut unknown "$RSA" '^verdict=INVALID .*SIGNATURE_VALUE' refuse "unknown signature algorithm OID"
mut ecdsa-oid "$RSA" '^verdict=INVALID .*SIGNATURE_VALUE' refuse "ECDSA OID on an RSA key"
# (openssl cms -verify accepts these two: it verifies with the digest algorithm and the key
# whatever the OID says; PKI.js and we refuse them)
mut sha384-rsa "$RSA" '^verdict=INVALID .*SIGNATURE_VALUE' - "sha384WithRSAEncryption over a SHA-256 digestAlgorithm"
mut rsa-oid "$EC" '^verdict=INVALID .*SIGNATURE_VALUE' - "RSA OID on an EC key"
mut pss-trailer "$PSS" '^verdict=INVALID .*SIGNATURE_VALUE' refuse "RSA-PSS trailer field 2"
mut pss-mgf1 "$PSS" '^verdict=INVALID .*SIGNATURE_VALUE' refuse "RSA-PSS MGF1 hash differing from its hash"
mut pss-salt "$PSS" '^verdict=INVALID .*SIGNATURE_VALUE' refuse "RSA-PSS salt longer than the key allows"
mut tst-oaep bt-ec.p7s '^verdict=INVALID .*TIMESTAMP_INVALID' - "timestamp token whose SignerInfo says OAEP"
# BER indefinite length (openssl -stream), two SignerInfos, signer certificate absent
printf 'interop\n' >"$T/io.txt"
openssl cms -sign -stream -nodetach -binary -cades -in "$T/io.txt" -signer "$P/user-ec.pem" \
	-inkey "$P/user-ec.key" -certfile "$P/ca.pem" -outform DER -out "$T/ber.p7m" 2>/dev/null
res=$("$TOOL" verify "$T/ber.p7m" --trust "$P/root.pem" --online 2>&1)
echo "$res" | grep -q '^verdict=VALID level=B-B' && ok "BER indefinite-length CMS: VALID" || ko "BER: $res"
openssl cms -sign -nodetach -binary -cades -in "$T/io.txt" -signer "$P/user-ec.pem" -inkey "$P/user-ec.key" \
	-signer "$P/user-rsa.pem" -inkey "$P/user-rsa.key" -certfile "$P/ca.pem" -outform DER \
	-out "$T/two.p7m" 2>/dev/null
res=$("$TOOL" verify "$T/two.p7m" --trust "$P/root.pem" --online 2>&1)
[ "$(echo "$res" | grep -c '^verdict=VALID level=B-B')" -eq 2 ] && ok "two SignerInfos: both VALID" ||
	ko "two SignerInfos: $res"
openssl cms -sign -nodetach -binary -cades -nocerts -in "$T/io.txt" -signer "$P/user-ec.pem" \
	-inkey "$P/user-ec.key" -outform DER -out "$T/nocert.p7m" 2>/dev/null
res=$("$TOOL" verify "$T/nocert.p7m" --trust "$P/root.pem" --online 2>&1)
echo "$res" | grep -q '^verdict=INDETERMINATE .*SIGNING_CERT_REF.*signer=no' &&
	ok "signer certificate absent: INDETERMINATE" || ko "no signer cert: $res"
odd garbage-tst '^verdict=INDETERMINATE .*TIMESTAMP_INVALID' "unreadable unsigned timestamp: INDETERMINATE, not INVALID"

sdr_summary

#!/bin/sh
# test-pades-interop.sh PADES_TOOL - regressions found by running sinadur over real-world
# PDFs (DSS, pyHanko, qpdf test files). Every input here is synthetic: made by mkpdf.py,
# qpdf or interop.py at test time.
TOOL=$1
SRC=${SINADUR_SOURCE_ROOT:?}
PY=/usr/bin/python3
for t in qpdf openssl pdfsig; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir

P=$T/pki
# the certificates name this PKI's OCSP responder and CRL: our verifier asks them
PORT=$(sdr_free_port)
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
RSA="$P/user-rsa.key $P/user-rsa.pem $P/chain.pem"
$PY "$SRC/tests/pades/mkpdf.py" plain "$T/plain.pdf" || exit 1
"$TOOL" sign $RSA "$T/plain.pdf" "$T/signed.pdf" >/dev/null 2>&1 || { echo "cannot sign"; exit 1; }

# ---- 1. a stale signature dictionary that no xref section lists is not a signature
# of the document (DSS evidence-record file: it made the whole file INVALID) ----
$PY "$SRC/tests/pades/interop.py" orphan-sig "$T/plain.pdf" "$T/orphan.pdf"
"$TOOL" sign $RSA "$T/orphan.pdf" "$T/orphan-s.pdf" >/dev/null 2>&1 || ko "orphan: cannot sign"
"$TOOL" verify "$T/orphan-s.pdf" --trust "$P/root.pem" --online >"$T/v.out" 2>&1
if [ "$(grep -c '^sig ' "$T/v.out")" -eq 1 ] && grep -q '^sig .* VALID B-B ' "$T/v.out" &&
	grep -q '^note FORMAT: 1 signature dictionary' "$T/v.out"; then
	ok "stale signature dictionary ignored (with a note)"
else
	ko "stale signature dictionary"; cat "$T/v.out"
fi

# ... but a self-consistent one (its ByteRange frames its own /Contents) that a broken
# /Prev chain hides is still checked, with a warning (DSS pades-5-signatures: qpdf does
# not see 5 of its 6 signatures, pdfsig and DSS reconstruct them)
$PY "$SRC/tests/pades/interop.py" restart-xref "$T/signed.pdf" "$T/plain.pdf" "$T/restart.pdf"
"$TOOL" verify "$T/restart.pdf" --trust "$P/root.pem" --online >"$T/v.out" 2>&1
if [ "$(grep -c '^sig ' "$T/v.out")" -eq 1 ] && grep -q 'byte_range=' "$T/v.out" &&
	grep -q 'No cross-reference section of the document lists this' "$T/v.out" &&
	! grep -q 'reason \(BYTERANGE\|SIGNATURE_VALUE\|DIGEST\)' "$T/v.out"; then
	ok "signature hidden by a broken /Prev chain still checked (with a warning)"
else
	ko "signature hidden by a broken /Prev chain"; cat "$T/v.out"
fi

# ---- 2. a CMS that encapsulates its content is not a detached PDF signature, even when
# its message digest matches the signed bytes (DSS pades-enveloping-empty-bytes-cms,
# pyHanko pdf-sig-with-econtent were VALID) ----
$PY "$SRC/tests/pades/interop.py" signed-bytes "$T/signed.pdf" "$T/br.bin"
openssl cms -sign -binary -nodetach -md sha256 -in "$T/br.bin" -signer "$P/user-rsa.pem" \
	-inkey "$P/user-rsa.key" -certfile "$P/chain.pem" -outform DER -out "$T/att.der" 2>/dev/null ||
	ko "openssl cms -sign"
$PY "$SRC/tests/pades/interop.py" put-cms "$T/signed.pdf" "$T/att.der" "$T/econtent.pdf"
"$TOOL" verify "$T/econtent.pdf" --trust "$P/root.pem" --online >"$T/v.out" 2>&1
grep -q '^sig .* INVALID .*' "$T/v.out" && grep -q 'encapsulates content' "$T/v.out" &&
	ok "CMS with eContent: INVALID" || { ko "CMS with eContent"; cat "$T/v.out"; }
# control: the same CMS made detached verifies (the swap itself is sound)
openssl cms -sign -binary -md sha256 -in "$T/br.bin" -signer "$P/user-rsa.pem" \
	-inkey "$P/user-rsa.key" -certfile "$P/chain.pem" -outform DER -out "$T/det.der" 2>/dev/null
$PY "$SRC/tests/pades/interop.py" put-cms "$T/signed.pdf" "$T/det.der" "$T/detached.pdf"
"$TOOL" verify "$T/detached.pdf" --trust "$P/root.pem" --online >"$T/v.out" 2>&1
grep -q '^sig .* VALID ' "$T/v.out" && ok "control: same CMS detached: VALID" ||
	{ ko "control detached CMS"; cat "$T/v.out"; }

# ---- 3. a digest we do not support (SHA-1) is INDETERMINATE, not "cannot be read"
# (DSS pkcs7_sha1: pdfsig and DSS read it) ----
openssl cms -sign -binary -md sha1 -in "$T/br.bin" -signer "$P/user-rsa.pem" \
	-inkey "$P/user-rsa.key" -certfile "$P/chain.pem" -outform DER -out "$T/sha1.der" 2>/dev/null
$PY "$SRC/tests/pades/interop.py" put-cms "$T/signed.pdf" "$T/sha1.der" "$T/sha1.pdf"
"$TOOL" verify "$T/sha1.pdf" --trust "$P/root.pem" --online >"$T/v.out" 2>&1
grep -q '^sig .* INDETERMINATE ' "$T/v.out" && grep -q 'UNSUPPORTED_ALGORITHM' "$T/v.out" &&
	ok "SHA-1 CMS: INDETERMINATE (unsupported algorithm)" || { ko "SHA-1 CMS"; cat "$T/v.out"; }

# ---- 4. no "%PDF-" header: qpdf reads it (warning), our verifier would not; signing
# refuses cleanly, nothing written (DSS malformed-pades was signed, then unverifiable) ----
$PY -c "import sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(d.replace(b'%PDF-1.4', b'%XYZ-1.4', 1))" \
	"$T/plain.pdf" "$T/noheader.pdf"
if "$TOOL" sign $RSA "$T/noheader.pdf" "$T/noheader-s.pdf" >"$T/s.out" 2>&1; then
	ko "file without PDF header signed"
else
	[ ! -e "$T/noheader-s.pdf" ] && grep -q SDR_ERROR_PARSE "$T/s.out" &&
		ok "file without PDF header refused (PARSE), nothing written" || { ko "no header refusal"; cat "$T/s.out"; }
fi

# ---- 5. public-key encryption (qpdf: "unsupported encryption filter") is "encrypted,
# not supported" for signing and verifying, not "damaged" / raw-bytes fallback
# (pyHanko *-pubkey-* files) ----
$PY "$SRC/tests/pades/interop.py" pubsec "$T/pubsec.pdf"
"$TOOL" sign $RSA "$T/pubsec.pdf" "$T/pubsec-s.pdf" >"$T/s.out" 2>&1
[ ! -e "$T/pubsec-s.pdf" ] && grep -q SDR_ERROR_UNSUPPORTED "$T/s.out" &&
	ok "public-key encrypted: signing refused (UNSUPPORTED), nothing written" || { ko "pubsec sign"; cat "$T/s.out"; }
"$TOOL" verify "$T/pubsec.pdf" >"$T/v.out" 2>&1
grep -q SDR_ERROR_UNSUPPORTED "$T/v.out" && ok "public-key encrypted: verify UNSUPPORTED" ||
	{ ko "pubsec verify"; cat "$T/v.out"; }

# ---- 6. an update that adds a signature but also redefines a form XObject that an
# unchanged object still uses (pyHanko *-sneaky files) is "other", not "signature" ----
for k in shared alone; do
	$PY "$SRC/tests/pades/interop.py" xobj-base "$T/xo-$k.pdf" $k
	"$TOOL" sign $RSA "$T/xo-$k.pdf" "$T/xo-$k-s.pdf" >/dev/null 2>&1 || ko "xobj $k: cannot sign"
	$PY "$SRC/tests/pades/interop.py" override-xobj "$T/xo-$k-s.pdf" "$T/xo-$k-o.pdf"
	"$TOOL" verify "$T/xo-$k-o.pdf" --trust "$P/root.pem" --online >"$T/v-$k.out" 2>&1
done
grep '^sig Signature1 ' "$T/v-shared.out" | grep -q 'INDETERMINATE .*modifications=other' &&
	ok "shared XObject overridden next to a signature: other, INDETERMINATE" ||
	{ ko "shared XObject override"; cat "$T/v-shared.out"; }
grep '^sig Signature1 ' "$T/v-alone.out" | grep -q ' VALID .*modifications=signature' &&
	ok "control: XObject only the update uses: still a signature update" ||
	{ ko "XObject override control"; cat "$T/v-alone.out"; }

sdr_summary

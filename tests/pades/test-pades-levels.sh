#!/bin/sh
# test-pades-levels.sh TOOL - PAdES B-T, B-LT (/DSS) and B-LTA (document timestamp) against a
# loopback TSA/OCSP/CRL responder (tests/cades/pki-responder.py) on a fresh test PKI.
# Every output: qpdf --check, pdfsig, ades-lint, and our verifier at the level asked.
set -u
TOOL=${1:?usage: test-pades-levels.sh TOOL}
SRC=${SINADUR_SOURCE_ROOT:?}
SHARED=${SINADUR_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
for t in qpdf pdfsig openssl; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
$PY -c 'import asn1crypto' 2>/dev/null || { echo "skip: python3-asn1crypto missing"; exit 77; }
RESPONDER=$SRC/tests/cades/pki-responder.py
[ -f "$RESPONDER" ] || { echo "skip: tests/cades/pki-responder.py missing"; exit 77; }

. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir
PORT=$(sdr_free_port)
P=$T/pki
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
RSA="$P/user-rsa.key $P/user-rsa.pem $P/chain.pem"
EC="$P/user-ec.key $P/user-ec.pem $P/chain.pem"
LINT="$SHARED/tools/ades-lint.py"

I=$T/in
mkdir -p "$I"
$PY "$SRC/tests/pades/mkpdf.py" plain "$I/plain.pdf"
$PY "$SRC/tests/pades/mkpdf.py" form "$I/form.pdf"
qpdf --object-streams=generate "$I/plain.pdf" "$I/objstm.pdf"
qpdf --linearize "$I/form.pdf" "$I/linearized.pdf"

# check FILE N_CADES_SIGS EXPECTED_LINES...   (each line: a regexp on our verify output)
check() {
	cf=$1 n=$2
	shift 2
	b=$(basename "$cf")
	qpdf --check "$cf" >"$T/qpdf.out" 2>&1 || { ko "$b: qpdf --check"; cat "$T/qpdf.out"; }
	nv=$(pdfsig "$cf" 2>/dev/null | grep -c "Signature Validation: Signature is Valid.")
	[ "$nv" -eq "$n" ] || ko "$b: pdfsig says $nv valid signatures, expected $n"
	if $PY "$LINT" "$cf" --pades >"$T/lint.out" 2>&1 && ! grep -q '^ERROR' "$T/lint.out"; then :; else
		ko "$b: ades-lint"; grep '^ERROR' "$T/lint.out"
	fi
	"$TOOL" verify "$cf" --trust "$P/root.pem" --online >"$T/verify.out" 2>&1
	for re in "$@"; do
		grep -Eq "$re" "$T/verify.out" || { ko "$b: verify lacks /$re/"; cat "$T/verify.out"; }
	done
	grep -q ' INVALID \| INDETERMINATE ' "$T/verify.out" && { ko "$b: not all VALID"; cat "$T/verify.out"; }
	ok "$b checked"
}

"$TOOL" sign $RSA "$I/plain.pdf" "$T/t.pdf" --level T --tsa "$TSA" >/dev/null 2>"$T/err" &&
	check "$T/t.pdf" 1 '^sig Signature1 VALID B-T .*modifications=none' ||
	ko "B-T: $(cat "$T/err")"
grep -q 'signature_time_stamp_token' "$T/lint.out" || ko "B-T: no signature-time-stamp in the CMS"

"$TOOL" sign $RSA "$I/objstm.pdf" "$T/lt.pdf" --level LT --tsa "$TSA" --trust "$P/root.pem" \
	>/dev/null 2>"$T/err" &&
	check "$T/lt.pdf" 1 '^sig Signature1 VALID B-LT .*modifications=dss' ||
	ko "B-LT: $(cat "$T/err")"
grep -q 'DSS dictionary present' "$T/lint.out" || ko "B-LT: ades-lint sees no /DSS"
qpdf --json "$T/lt.pdf" >"$T/lt.json" 2>/dev/null
$PY - "$T/lt.json" <<'PYEOF' && ok "B-LT: /DSS holds certificates and OCSP responses" || ko "B-LT: DSS content"
import json, sys
d = json.load(open(sys.argv[1]))
objs = d['qpdf'][1]
root = d['qpdf'][0].get('trailer') if False else None
dss = [v['value'] for k, v in objs.items() if isinstance(v, dict) and isinstance(v.get('value'), dict) and v['value'].get('/Type') == '/DSS']
assert dss, 'no DSS'
assert len(dss[-1].get('/Certs', [])) >= 2, dss
assert len(dss[-1].get('/OCSPs', [])) + len(dss[-1].get('/CRLs', [])) >= 1, dss
PYEOF

"$TOOL" sign $RSA "$I/linearized.pdf" "$T/lta.pdf" --level LTA --tsa "$TSA" --trust "$P/root.pem" \
	>/dev/null 2>"$T/err" &&
	check "$T/lta.pdf" 1 '^sig Signature1 VALID B-LTA .*modifications=dss,document-timestamp' \
		'^sig Signature2 VALID .*type=document-timestamp' ||
	ko "B-LTA: $(cat "$T/err")"
grep -q 'doc-timestamp messageImprint matches' "$T/lint.out" || ko "B-LTA: ades-lint: doc timestamp imprint"

# a second signature after B-LTA, and B-LT twice (DSS merged)
"$TOOL" sign $EC "$T/lta.pdf" "$T/lta2.pdf" --level T --tsa "$TSA" --visible --rect 50,50,200,60 \
	>/dev/null 2>"$T/err" &&
	check "$T/lta2.pdf" 2 '^sig Signature1 VALID B-LTA .*modifications=dss,document-timestamp,signature' \
		'^sig Signature3 VALID B-T .*modifications=none' ||
	ko "T after LTA: $(cat "$T/err")"
"$TOOL" sign $EC "$T/lt.pdf" "$T/lt2.pdf" --level LT --tsa "$TSA" --trust "$P/root.pem" \
	>/dev/null 2>"$T/err" &&
	check "$T/lt2.pdf" 2 '^sig Signature1 VALID B-LT ' '^sig Signature2 VALID B-LT ' ||
	ko "LT twice: $(cat "$T/err")"
"$TOOL" sign $RSA "$T/lt2.pdf" "$T/lt3.pdf" --level LTA --tsa "$TSA" --trust "$P/root.pem" \
	>/dev/null 2>"$T/err" &&
	check "$T/lt3.pdf" 3 '^sig Signature1 VALID B-LTA ' '^sig Signature2 VALID B-LTA ' \
		'^sig Signature3 VALID B-LTA ' ||
	ko "LTA on a twice-signed LT file: $(cat "$T/err")"

# levels that cannot be reached: nothing written
DOWN=$($PY "$RESPONDER" --free-port)
rm -f "$T/x.pdf"
"$TOOL" sign $RSA "$I/plain.pdf" "$T/x.pdf" --level T --tsa "http://127.0.0.1:$DOWN/" >/dev/null 2>"$T/err"
[ $? -ne 0 ] && [ ! -e "$T/x.pdf" ] && ok "TSA down: refused ($(cat "$T/err")), nothing written" ||
	ko "TSA down"
"$TOOL" sign $RSA "$I/plain.pdf" "$T/x.pdf" --level T >/dev/null 2>"$T/err"
grep -q LEVEL_NOT_REACHED "$T/err" && [ ! -e "$T/x.pdf" ] && ok "B-T without a TSA: LEVEL_NOT_REACHED" ||
	ko "B-T without TSA: $(cat "$T/err")"
"$TOOL" sign $RSA "$I/plain.pdf" "$T/x.pdf" --level LT --tsa "$TSA" >/dev/null 2>"$T/err"
grep -q LEVEL_NOT_REACHED "$T/err" && [ ! -e "$T/x.pdf" ] && ok "B-LT without trust anchors: LEVEL_NOT_REACHED" ||
	ko "B-LT without trust: $(cat "$T/err")"
"$TOOL" sign "$P/user-revoked.key" "$P/user-revoked.pem" "$P/chain.pem" "$I/plain.pdf" "$T/x.pdf" \
	--level LT --tsa "$TSA" --trust "$P/root.pem" >/dev/null 2>"$T/err"
grep -q LEVEL_NOT_REACHED "$T/err" && [ ! -e "$T/x.pdf" ] && ok "revoked signer: B-LT refused" ||
	ko "revoked signer B-LT: $(cat "$T/err")"
# B-LT verification uses the /DSS OCSP responses (offline: nothing fetched): no "no
# revocation information" left
"$TOOL" verify "$T/lt.pdf" --trust "$P/root.pem" | grep -q REVOCATION_UNKNOWN &&
	ko "B-LT verify ignores the DSS" || ok "B-LT verify uses the DSS OCSP responses"
# a doc timestamp whose covered bytes were changed
S=$T/lta.pdf
$PY -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); i=d.rfind(b'/Type /DSS'); d[i+1]^=0x20; open(sys.argv[2],'wb').write(d)" "$S" "$T/lta-bad.pdf"
"$TOOL" verify "$T/lta-bad.pdf" --trust "$P/root.pem" --online >"$T/v.out" 2>&1
grep -Eq '^sig Signature2 INVALID' "$T/v.out" && ok "tampered DSS: the document timestamp is INVALID" ||
	{ ko "tampered DSS not caught"; cat "$T/v.out"; }

sdr_summary

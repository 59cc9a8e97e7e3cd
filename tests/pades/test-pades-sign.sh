#!/bin/sh
# test-pades-sign.sh TOOL - PAdES B-B end to end on a corpus of inputs made by different
# producers and transformed by qpdf (object streams, linearized, QDF, PDF 2.0, earlier
# incremental updates, form fields, a third-party signed file), each signed twice in a row.
# Every output is checked by qpdf --check, pdfsig, ades-lint and our verifier. Also: the
# visible stamp is drawn (pdftoppm), tampering is caught, encrypted/broken inputs are refused
# with nothing written, and the ../shared corpus gives the MANIFEST verdicts.
set -u
TOOL=${1:?usage: test-pades-sign.sh TOOL}
SRC=${SINADUR_SOURCE_ROOT:?}
SHARED=${SINADUR_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
for t in qpdf pdfsig pdftoppm pdftocairo openssl; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
$PY -c 'import asn1crypto' 2>/dev/null || { echo "skip: python3-asn1crypto missing"; exit 77; }

. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir

P=$T/pki
# the certificates name this PKI's OCSP responder and CRL: our verifier asks them
PORT=$(sdr_free_port)
sdr_make_pki "$P" "$PORT"
sdr_start_responder "$P" "$PORT"
RSA="$P/user-rsa.key $P/user-rsa.pem $P/chain.pem"
EC="$P/user-ec.key $P/user-ec.pem $P/chain.pem"
LINT="$SHARED/tools/ades-lint.py"

# ---- inputs ----
I=$T/in
mkdir -p "$I"
for k in plain form form-indirect rotated incremental; do
	$PY "$SRC/tests/pades/mkpdf.py" $k "$I/$k.pdf" || { echo "mkpdf $k failed"; exit 1; }
done
qpdf --object-streams=generate "$I/plain.pdf" "$I/objstm.pdf"
qpdf --linearize "$I/plain.pdf" "$I/linearized.pdf"
qpdf --linearize --object-streams=generate "$I/form.pdf" "$I/linearized-objstm.pdf"
qpdf --qdf "$I/plain.pdf" "$I/qdf.pdf"
qpdf --force-version=2.0 --object-streams=generate "$I/form-indirect.pdf" "$I/pdf20.pdf"
qpdf --object-streams=generate "$I/incremental.pdf" "$I/incremental-objstm.pdf"
pdftocairo -pdf "$I/plain.pdf" "$I/cairo.pdf"
cp "$SHARED/corpus/ades/pades/dss/pdf-signed-original.pdf" "$I/third-party-signed.pdf"

# check FILE EXPECTED_OUR_SIGS [THIRD_PARTY_SIGS]
check() {
	cf=$1 n=$2 extra=${3:-0}
	b=$(basename "$cf")
	if qpdf --check "$cf" >"$T/qpdf.out" 2>&1; then :; else
		ko "$b: qpdf --check"; cat "$T/qpdf.out"
	fi
	nv=$(pdfsig "$cf" 2>/dev/null | grep -c "Signature Validation: Signature is Valid.")
	[ "$nv" -eq $((n + extra)) ] || ko "$b: pdfsig says $nv valid signatures, expected $((n + extra))"
	if $PY "$LINT" "$cf" --pades >"$T/lint.out" 2>&1 && ! grep -q '^ERROR' "$T/lint.out"; then :; else
		ko "$b: ades-lint"; grep '^ERROR' "$T/lint.out"
	fi
	"$TOOL" verify "$cf" --trust "$P/root.pem" --online >"$T/verify.out" 2>&1
	nvalid=$(grep -c '^sig .* VALID B-B ' "$T/verify.out")
	[ "$nvalid" -eq "$n" ] || { ko "$b: our verify: $nvalid VALID B-B, expected $n"; cat "$T/verify.out"; }
	[ "$(grep -c '^sig .* INVALID ' "$T/verify.out")" -eq 0 ] || ko "$b: our verify says INVALID"
}

O=$T/out
mkdir -p "$O"
for f in "$I"/*.pdf; do
	k=$(basename "$f" .pdf)
	extra=0
	[ "$k" = third-party-signed ] && extra=1
	if "$TOOL" sign $RSA "$f" "$O/$k-1.pdf" >/dev/null 2>"$T/err"; then
		check "$O/$k-1.pdf" 1 $extra
		if "$TOOL" sign $EC "$O/$k-1.pdf" "$O/$k-2.pdf" --visible --rect 300,40,250,70 \
			--reason "Délibération n°12" --location "Plougastel-Daoulas" >/dev/null 2>"$T/err"; then
			check "$O/$k-2.pdf" 2 $extra
			cmp -s -n "$(stat -c %s "$O/$k-1.pdf")" "$O/$k-1.pdf" "$O/$k-2.pdf" ||
				ko "$k: the first signed revision was modified by the second signature"
			ok "$k: signed twice (invisible RSA, visible ECDSA)"
		else
			ko "$k: second signature: $(cat "$T/err")"
		fi
		cmp -s -n "$(stat -c %s "$f")" "$f" "$O/$k-1.pdf" || ko "$k: original bytes not kept"
	else
		ko "$k: first signature: $(cat "$T/err")"
	fi
done

# ---- default output name, --in-place, memory variant, SHA-384 ----
cp "$I/plain.pdf" "$T/Délib 2026.pdf"
out=$("$TOOL" sign $RSA "$T/Délib 2026.pdf" - 2>"$T/err")
[ "$out" = "$T/Délib 2026-signe.pdf" ] && [ -f "$T/Délib 2026-signe.pdf" ] &&
	ok "default output NAME-signe.pdf" || ko "default output: '$out' $(cat "$T/err")"
cp "$I/objstm.pdf" "$T/inplace.pdf"
"$TOOL" sign $RSA "$T/inplace.pdf" - --in-place >/dev/null 2>"$T/err" && check "$T/inplace.pdf" 1 &&
	[ -z "$(ls -A "$T" | grep '^\.inplace')" ] && ok "--in-place" || ko "--in-place $(cat "$T/err")"
"$TOOL" sign $EC "$I/form.pdf" "$T/mem.pdf" --memory --sha384 >/dev/null 2>"$T/err" &&
	check "$T/mem.pdf" 1 && ok "in-memory signing (SHA-384, ECDSA)" || ko "memory $(cat "$T/err")"

# ---- the visible stamp is drawn: render page 1 and count dark pixels in the rectangle ----
"$TOOL" sign $RSA "$I/plain.pdf" "$T/stamp.pdf" --visible --page 1 --rect 300,40,250,70 \
	--reason "Approuvé" >/dev/null 2>"$T/err" || ko "visible: $(cat "$T/err")"
pdftoppm -gray -r 72 -f 1 -l 1 "$T/stamp.pdf" "$T/stamp"
pdftoppm -gray -r 72 -f 1 -l 1 "$I/plain.pdf" "$T/nostamp"
stamp_ink() {
	$PY - "$1" <<'PYEOF'
import sys
d = open(sys.argv[1], 'rb').read()
# binary PGM: P5 W H MAX\n data
parts = d.split(b'\n', 3) if d.startswith(b'P5\n') else None
tok = d.split(None, 4)
w, h = int(tok[1]), int(tok[2])
px = d[len(d) - w * h:]
# rectangle x 300..550, y 40..110 in PDF points (page 595x842), 72 dpi = 1 px per point
x0, x1, y0, y1 = 302, 548, 842 - 108, 842 - 42
ink = sum(1 for y in range(y0, y1) for x in range(x0, x1) if px[y * w + x] < 200)
print(ink * 100 // ((x1 - x0) * (y1 - y0)))
PYEOF
}
with=$(stamp_ink "$T"/stamp*.pgm)
without=$(stamp_ink "$T"/nostamp*.pgm)
[ "$with" -ge 3 ] && [ "$without" -eq 0 ] && ok "visible stamp drawn ($with% ink in the rectangle)" ||
	ko "visible stamp: $with% ink (unsigned page: $without%)"
check "$T/stamp.pdf" 1

# rotated page: the stamp is still drawn
"$TOOL" sign $RSA "$I/rotated.pdf" "$T/rot.pdf" --visible --rect 400,500,80,250 >/dev/null 2>&1 &&
	check "$T/rot.pdf" 1 && ok "visible stamp on a /Rotate 90 page" || ko "rotated page"

# PNG image on the stamp (RGBA)
$PY - "$T/logo.png" <<'PYEOF'
import sys, zlib, struct
w = h = 48
raw = bytearray()
for y in range(h):
    raw.append(1 if y % 2 else 0)
    for x in range(w):
        raw += bytes([30, 90, 160, 255 if (x - 24) ** 2 + (y - 24) ** 2 < 400 else 0]) if raw[-1:] != b'' else b''
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0))
                              + chunk(b'IDAT', zlib.compress(bytes(raw))) + chunk(b'IEND', b''))
PYEOF
"$TOOL" sign $RSA "$I/plain.pdf" "$T/img.pdf" --visible --rect 300,40,250,70 --image "$T/logo.png" \
	>/dev/null 2>"$T/err" && check "$T/img.pdf" 1 && ok "stamp with a PNG image" ||
	ko "image: $(cat "$T/err")"
printf 'not a png' >"$T/bad.png"
"$TOOL" sign $RSA "$I/plain.pdf" "$T/badimg.pdf" --visible --rect 300,40,250,70 --image "$T/bad.png" \
	>/dev/null 2>&1 && ko "a broken PNG was accepted" ||
	{ [ ! -e "$T/badimg.pdf" ] && ok "broken PNG refused, nothing written" || ko "badimg written"; }

# ---- tampering ----
S=$O/plain-1.pdf
size=$(stat -c %s "$S")
br=$("$TOOL" verify "$S" | sed -n 's/.*byte_range=\[0 \([0-9]*\) \([0-9]*\) \([0-9]*\)\].*/\1 \2 \3/p')
set -- $br
a=$1 b=$2
flip() { # flip FILE OFFSET OUT
	$PY -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); o=int(sys.argv[2]); d[o]^=0x01; open(sys.argv[3],'wb').write(d)" "$@"
}
flip "$S" 200 "$T/t-inside.pdf"          # in the original content (signed range)
flip "$S" $((a + 21)) "$T/t-gap.pdf"     # in the CMS hex (the gap)
flip "$S" $((a + 1001)) "$T/t-gap2.pdf"  # deeper in the CMS hex
flip "$S" $((b - 3)) "$T/t-pad.pdf"      # in the zero padding of /Contents
flip "$S" $((size - 40)) "$T/t-tail.pdf" # in the signed xref/trailer after the gap
for t in inside gap gap2 pad tail; do
	"$TOOL" verify "$T/t-$t.pdf" >"$T/v.out" 2>&1
	grep -q '^sig .* VALID ' "$T/v.out" && ! grep -q 'INVALID\|INDETERMINATE' "$T/v.out" &&
		ko "tampered byte ($t) not caught" || ok "tampered byte ($t) caught: $(grep -o 'reason [A-Z_]*' "$T/v.out" | head -1)"
done
# a malicious incremental update changing page content after signing
$PY - "$S" "$T/t-update.pdf" <<'PYEOF'
import sys, re
d = open(sys.argv[1], 'rb').read()
prev = int(re.findall(rb'startxref\s+(\d+)', d)[-1])
size = int(re.findall(rb'/Size (\d+)', d)[-1])
root = re.findall(rb'/Root (\d+ \d+) R', d)[-1]
c = b'BT /F1 40 Tf 72 400 Td (FAUX) Tj ET'
off = len(d)
upd = b'4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n' % (len(c), c)
x = off + len(upd)
upd += b'xref\n4 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n' % (off, size, root, prev, x)
open(sys.argv[2], 'wb').write(d + upd)
PYEOF
"$TOOL" verify "$T/t-update.pdf" >"$T/v.out" 2>&1
grep -q 'INDETERMINATE.*modifications=other' "$T/v.out" && grep -q MODIFIED_AFTER "$T/v.out" &&
	ok "content changed by a later incremental update: MODIFIED_AFTER" || { ko "later update not flagged"; cat "$T/v.out"; }
"$TOOL" verify "$T/t-update.pdf" --memory >"$T/v2.out" 2>&1
cmp -s "$T/v.out" "$T/v2.out" && ok "verify from memory = verify from file" || ko "memory verify differs"

# ---- a prepared empty signature field is filled (not duplicated) ----
$PY "$SRC/tests/pades/mkpdf.py" empty-sig-field "$T/esf.pdf"
if "$TOOL" sign $RSA "$T/esf.pdf" "$T/esf-s.pdf" --field Maire --visible --reason "Le maire" \
	>/dev/null 2>"$T/err"; then
	check "$T/esf-s.pdf" 1
	grep -q '^sig Maire VALID B-B' "$T/verify.out" && ok "prepared field Maire signed" ||
		ko "prepared field: $(cat "$T/verify.out")"
	nf=$(qpdf --json "$T/esf-s.pdf" | $PY -c "import json,sys; print(len(json.load(sys.stdin)['acroform']['fields']))")
	[ "$nf" -eq 1 ] && ok "no duplicate field" || ko "prepared field: $nf fields"
	pdftoppm -gray -r 72 -f 1 -l 1 "$T/esf-s.pdf" "$T/esf"
	ink=$(stamp_ink "$T"/esf*.pgm)
	[ "$ink" -ge 3 ] && ok "stamp drawn in the prepared field's rectangle ($ink%)" ||
		ko "prepared field stamp: $ink%"
	"$TOOL" sign $RSA "$T/esf-s.pdf" "$T/x.pdf" --field Maire >/dev/null 2>"$T/err"
	grep -q ALREADY_SIGNED "$T/err" && [ ! -e "$T/x.pdf" ] && ok "signed field refused" ||
		ko "signed field: $(cat "$T/err")"
else
	ko "prepared field: $(cat "$T/err")"
fi
"$TOOL" sign $RSA "$I/form.pdf" "$T/x.pdf" --field Nom >/dev/null 2>"$T/err"
grep -q BAD_REQUEST "$T/err" && [ ! -e "$T/x.pdf" ] && ok "text field refused as signature field" ||
	ko "text field: $(cat "$T/err")"

# ---- certified documents: P=1 forbids any change, P=2 allows signatures ----
$PY "$SRC/tests/pades/mkpdf.py" certified-p1 "$T/cert1.pdf"
$PY "$SRC/tests/pades/mkpdf.py" certified-p2 "$T/cert2.pdf"
"$TOOL" sign $RSA "$T/cert1.pdf" "$T/x.pdf" >/dev/null 2>"$T/err"
grep -q UNSUPPORTED "$T/err" && [ ! -e "$T/x.pdf" ] && ok "certified P=1 document refused" ||
	ko "certified P=1: $(cat "$T/err")"
"$TOOL" sign $RSA "$T/cert2.pdf" "$T/x.pdf" >/dev/null 2>"$T/err" && [ -e "$T/x.pdf" ] &&
	ok "certified P=2 document signed" || ko "certified P=2: $(cat "$T/err")"
rm -f "$T/x.pdf"

$PY "$SRC/tests/pades/mkpdf.py" sig-no-byterange "$T/nobr.pdf"
"$TOOL" verify "$T/nobr.pdf" >"$T/v.out" 2>&1
grep -q '^sig Signature1 INVALID' "$T/v.out" && ok "signature field without a findable ByteRange: INVALID" ||
	{ ko "signature field without ByteRange"; cat "$T/v.out"; }

# ---- refusals: nothing written ----
qpdf --encrypt user owner 256 -- "$I/plain.pdf" "$T/enc.pdf"
qpdf --encrypt "" owner 256 -- "$I/plain.pdf" "$T/enc-open.pdf"
head -c 700 "$I/plain.pdf" >"$T/truncated.pdf"
sed 's/startxref/startxrex/' "$I/plain.pdf" >"$T/nostartxref.pdf"
$PY -c "import sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(d.replace(b'xref\n0 9', b'xref\n0 7'))" "$I/plain.pdf" "$T/badxref.pdf"
printf 'hello' >"$T/notpdf.pdf"
for f in enc enc-open truncated nostartxref badxref notpdf; do
	rm -f "$T/$f-out.pdf"
	"$TOOL" sign $RSA "$T/$f.pdf" "$T/$f-out.pdf" >/dev/null 2>"$T/err"
	rc=$?
	if [ $rc -ne 3 ] || [ -e "$T/$f-out.pdf" ] || ls -A "$T" | grep -q "^\.$f-out"; then
		ko "$f: rc=$rc, output present? $(ls "$T" | grep "$f-out")"
	else
		ok "$f refused: $(cat "$T/err")"
	fi
done
grep -q UNSUPPORTED "$T/err" && ko "not-a-pdf gave UNSUPPORTED" || :
"$TOOL" sign $RSA "$T/enc.pdf" "$T/x.pdf" 2>&1 | grep -q SDR_ERROR_UNSUPPORTED &&
	ok "encrypted: SDR_ERROR_UNSUPPORTED" || ko "encrypted: wrong error"
LANG=fr_FR.UTF-8 LANGUAGE=fr "$TOOL" sign $RSA "$T/enc.pdf" "$T/x.pdf" 2>&1 | grep -q "chiffré" &&
	ok "encrypted: French message" || ko "encrypted: no French message"
"$TOOL" sign $RSA "$I/plain.pdf" "$T/p9.pdf" --page 9 >/dev/null 2>&1 && ko "page 9 of 2 accepted" ||
	ok "page out of range refused"

# ---- the shared corpus: MANIFEST verdicts ----
C=$SHARED/corpus/ades/pades/dss
v() { "$TOOL" verify "$C/$1" >"$T/c.out" 2>&1; grep '^sig' "$T/c.out" | head -1; }
v pdf-signed-corrupted.pdf | grep -q ' INVALID ' && ok "corpus pdf-signed-corrupted: INVALID" ||
	ko "corpus pdf-signed-corrupted"
v pdf-signed-out-of-byteRange.pdf | grep -q ' INVALID ' && grep -q BYTERANGE "$T/c.out" &&
	ok "corpus pdf-signed-out-of-byteRange: INVALID (BYTERANGE)" || ko "corpus out-of-byteRange"
v pdf-signed-original.pdf | grep -Eq ' (VALID|INDETERMINATE) B-B ' && ! grep -q 'reason \(DIGEST\|SIGNATURE_VALUE\|BYTERANGE\)' "$T/c.out" &&
	ok "corpus pdf-signed-original: intact, B-B (chain untrusted here)" || ko "corpus original"
v pades-bes.pdf | grep -Eq ' (VALID|INDETERMINATE) none .*profile=PAdES-BES' && grep -q 'PAdES-BES' "$T/c.out" &&
	ok "corpus pades-bes: intact, PAdES-BES (not baseline)" || ko "corpus pades-bes"
v doc-firmado.pdf | grep -Eq ' (VALID|INDETERMINATE) B-(T|LT|LTA) ' && ! grep -q ' INVALID ' "$T/c.out" &&
	ok "corpus doc-firmado: intact, at least B-T" || { ko "corpus doc-firmado"; cat "$T/c.out"; }

sdr_summary

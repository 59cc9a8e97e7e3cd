#!/bin/sh
# bench-pades.sh PADES_TOOL - PAdES B-B signature of a 200 MB PDF (invisible, RSA-2048 file
# key): wall time against `openssl dgst -sha256` of the same file and against
# `pdfsig -add-signature` (NSS database holding the same key), and peak RSS.
# Targets: <= 1.3x dgst, peak RSS <= 64 MiB (fails when RSS is over; the ratio is reported).
set -u
TOOL=${1:?usage: bench-pades.sh PADES_TOOL}
SRC=${SINADUR_SOURCE_ROOT:?}
PY=/usr/bin/python3
MB=${SINADUR_BENCH_PADES_MB:-200}
for t in openssl /usr/bin/time qpdf; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
T=$(mktemp -d)
RESPONDER=
trap '[ -n "$RESPONDER" ] && kill "$RESPONDER" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
export HOME=$T/home
mkdir -p "$HOME"
# The certificates name an OCSP responder on PORT: it runs for the verification of the
# output (untimed; B-B signing asks it nothing).
PORT=$($PY "$SRC/tests/cades/pki-responder.py" --free-port)
sh "$SRC/tests/fixtures/make-pki.sh" "$T/pki" "$PORT" >/dev/null || exit 1
$PY "$SRC/tests/cades/pki-responder.py" "$T/pki" "$PORT" 2>"$T/responder.log" &
RESPONDER=$!
P=$T/pki
$PY "$SRC/tests/pades/mkpdf.py" "big:$MB" "$T/big.pdf" || exit 1
size=$(stat -c %s "$T/big.pdf")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# The machine is shared: best of 3 for both contenders, page cache warm, no dirty pages left
# from the previous run (sync) so that each run pays only for its own writes.
cat "$T/big.pdf" >/dev/null
dgst= sign= rss_kib=0
for run in 1 2 3; do
	sync
	t0=$(now)
	openssl dgst -sha256 "$T/big.pdf" >/dev/null
	t1=$(now)
	d=$(elapsed "$t0" "$t1")
	rm -f "$T/signed.pdf"
	sync
	t0=$(now)
	/usr/bin/time -f '%M' -o "$T/rss" "$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" \
		"$P/chain.pem" "$T/big.pdf" "$T/signed.pdf" >/dev/null || { echo "signing failed"; exit 1; }
	t1=$(now)
	s=$(elapsed "$t0" "$t1")
	echo "run $run: dgst ${d}s, sign ${s}s, peak RSS $(($(cat "$T/rss") / 1024)) MiB"
	[ -z "$dgst" ] || awk -v a="$d" -v b="$dgst" 'BEGIN { exit !(a < b) }' && dgst=$d
	[ -z "$sign" ] || awk -v a="$s" -v b="$sign" 'BEGIN { exit !(a < b) }' && sign=$s
	[ "$(cat "$T/rss")" -gt "$rss_kib" ] && rss_kib=$(cat "$T/rss")
done
"$TOOL" verify "$T/signed.pdf" --trust "$P/root.pem" --online | grep -q '^sig Signature1 VALID B-B' ||
	{ echo "the signed file does not verify"; exit 1; }
rm -f "$T/signed.pdf"

pdfsig_time=n/a
if command -v pdfsig >/dev/null && command -v certutil >/dev/null && command -v pk12util >/dev/null; then
	mkdir -p "$T/nss"
	certutil -N -d "sql:$T/nss" --empty-password >/dev/null 2>&1
	pk12util -i "$P/user-rsa.p12" -d "sql:$T/nss" -W test >/dev/null 2>&1
	nick=$(certutil -L -d "sql:$T/nss" | awk 'NR > 4 && /u,u,u/ { sub(/ +u,u,u$/, ""); print; exit }')
	if [ -n "$nick" ]; then
		sync
		t0=$(now)
		if pdfsig -nssdir "sql:$T/nss" -add-signature -nick "$nick" "$T/big.pdf" "$T/pdfsig.pdf" \
			>/dev/null 2>&1; then
			t1=$(now)
			pdfsig_time=$(elapsed "$t0" "$t1")
		fi
	fi
fi

ratio=$(awk -v a="$sign" -v b="$dgst" 'BEGIN { printf "%.2f", a / b }')
echo "PAdES B-B of a $size-byte PDF: sinadur ${sign}s, openssl dgst -sha256 ${dgst}s (ratio ${ratio}x, target <= 1.3x), pdfsig -add-signature ${pdfsig_time}s"
echo "peak RSS: $((rss_kib / 1024)) MiB (target <= 64 MiB)"
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.3) }' || echo "note: ratio above target on this run"
[ "$rss_kib" -le 65536 ]

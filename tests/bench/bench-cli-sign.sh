#!/bin/sh
# bench-cli-sign.sh SINADUR - the real `sinadur sign` CLI (SoftHSM token, --module,
# --cert, --pin-fd) against a peer measured in the same run (issue 11, "Done when"):
#   cades   detached CAdES of a 1 GiB file      vs openssl dgst -sha256   <= 1.05x, RSS <= 32 MiB
#   xades   detached XAdES of the same file     vs openssl dgst -sha256   <= 1.05x, RSS <= 32 MiB
#   pades   PAdES B-B of a 200 MiB PDF          vs cp + sync + openssl dgst -sha256 of it
#                                                                          <= 1.2x,  RSS <= 64 MiB
# Fairness: the inputs are read once into the page cache; each side runs once untimed
# (warm-up), then RUNS timed rounds alternate which side goes first; `sync` (untimed)
# before every timed run so that nobody pays for the previous run's writes; outputs go to
# the same folder as the inputs and are removed before every run (sinadur never
# overwrites). sinadur fsyncs its output and its folder: the PAdES peer does the same
# (`sync FILE DIR`). Times: wall clock, best of RUNS (noise from other users of the
# machine only adds time); the median is printed too. Peak RSS: the highest of the runs.
# Each output is verified once (sinadur verify, openssl cms / xmlsec1 / pdfsig) so the
# benchmark cannot pass on a broken signature.
# Exit 1 when a target is missed or a signature does not verify (all the numbers are
# printed first) or a run fails; 77 when a tool is missing. Environment:
# SINADUR_BENCH_RUNS (default 3), SINADUR_BENCH_MIB (default 1024), SINADUR_BENCH_PADES_MIB
# (default 200).
set -u
SINADUR=${1:?usage: bench-cli-sign.sh SINADUR}
SRC=${SINADUR_SOURCE_ROOT:?}
RUNS=${SINADUR_BENCH_RUNS:-3}
MIB=${SINADUR_BENCH_MIB:-1024}
PMIB=${SINADUR_BENCH_PADES_MIB:-200}
MOD=${SOFTHSM2_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
for t in /usr/bin/time /usr/bin/python3 openssl xmlsec1 pdfsig qpdf softhsm2-util; do
	command -v "$t" >/dev/null 2>&1 || { echo "skip: $t missing"; exit 77; }
done
[ -e "$MOD" ] || { echo "skip: $MOD missing"; exit 77; }
[ -x "$SINADUR" ] || { echo "$SINADUR was not built"; exit 1; }
# shellcheck disable=SC1091
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir sdr-bench-cli
export XDG_DATA_HOME="$T/home/.local/share" XDG_STATE_HOME="$T/home/.local/state"
# The host's PKCS#11 modules (p11-kit, vendor paths) stay out, as in tests/agent.
export SINADUR_TEST_NO_DISCOVERY=1
START=$(date +%s)
load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD0=$(load)
echo "# load average at start: $LOAD0 ($(nproc) cores)"
echo "# times: best of $RUNS timed runs per side, after one untimed warm-up run of each side"

# The fixture's certificates name an OCSP responder on PKI_PORT: it runs (untimed, for
# the verification of the outputs at the end; signing at B-B asks it nothing).
PKI_PORT=$(/usr/bin/python3 "$SRC/tests/cades/pki-responder.py" --free-port)
SDR_PKI_PORT=$PKI_PORT sh "$SRC/tests/fixtures/softhsm-fixture.sh" "$T/fx" >/dev/null ||
	{ echo "softhsm fixture failed"; exit 1; }
/usr/bin/python3 "$SRC/tests/cades/pki-responder.py" "$T/fx/pki" "$PKI_PORT" 2>"$T/responder.log" &
SDR_PIDS="${SDR_PIDS:-} $!"
# shellcheck disable=SC1091
. "$T/fx/env"
P=$T/fx/pki
CONF=$T/sinadur.conf
printf '[signature]\ntrust_anchors=%s\n' "$P/chain.pem" >"$CONF"
CERT=$(openssl x509 -in "$P/user-rsa.pem" -outform DER | openssl dgst -sha256 -r | cut -c1-32)
printf '1234\n' >"$T/pin"
D=$T/data
mkdir -p "$D"
F=$D/big.bin
PDF=$D/big.pdf
# Incompressible bytes, 4x faster than /dev/urandom: AES-CTR of zeros.
head -c $((MIB * 1024 * 1024)) /dev/zero | openssl enc -aes-128-ctr -nosalt \
	-K 00112233445566778899aabbccddeeff -iv 00000000000000000000000000000000 >"$F" || exit 1
[ "$(stat -c %s "$F")" = $((MIB * 1024 * 1024)) ] || { echo "could not write $F"; exit 1; }
/usr/bin/python3 "$SRC/tests/pades/mkpdf.py" "big:$PMIB" "$PDF" || exit 1
qpdf --check "$PDF" >/dev/null 2>&1 || { echo "qpdf --check refuses the generated PDF"; exit 1; }
sync
cat "$F" "$PDF" >/dev/null # in the page cache for every contender
SETUP=$(($(date +%s) - START))

# timed NAME CMD...: runs CMD (stdout dropped, stderr kept) under /usr/bin/time for the peak
# RSS; wall time from date(1) around it (ns, same wrapper for both sides). Appends
# "NAME seconds rss_kib" to $R, or prints the error and exits 1.
R=$T/results.txt
: >"$R"
timed() {
	tn=$1
	shift
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$T/rss" "$@" >/dev/null 2>"$T/err" ||
		{ echo "$tn failed:"; cat "$T/err"; exit 1; }
	t1=$(date +%s.%N)
	te=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	echo "$tn $te $(tail -n 1 "$T/rss")" >>"$R"
}

# One side of a measurement: remove its output, flush, run (timed, or not for the warm-up).
sign() { # MODE NAME OUTPUT INPUT FORMAT-OPTIONS...
	sm=$1 sn=$2 so=$3 si=$4
	shift 4
	rm -f "$so"
	sync
	$sm "$sn" "$SINADUR" --config "$CONF" sign --module "$MOD" --pin-fd 3 --cert "$CERT" \
		"$@" -o "$so" "$si" 3<"$T/pin"
}
cades_sdr() { sign "$1" cades-sinadur "$D/s.p7s" "$F" -f cades --detached; }
xades_sdr() { sign "$1" xades-sinadur "$D/s.xml" "$F" -f xades --detached; }
pades_sdr() { sign "$1" pades-sinadur "$D/signed.pdf" "$PDF" -f pades; }
small_sdr() { sign "$1" small-sinadur "$D/small.p7s" "$D/small.txt" -f cades --detached; }
small_dgst() { sync; $1 small-dgst openssl dgst -sha256 "$D/small.txt"; }
dgst_1g() { sync; $1 "$2-dgst" openssl dgst -sha256 "$F"; }
pades_peer() {
	rm -f "$D/copy.pdf"
	sync
	# shellcheck disable=SC2016
	$1 pades-peer sh -c 'cp "$1" "$2" && sync "$2" "$3" && openssl dgst -sha256 "$2"' \
		sh "$PDF" "$D/copy.pdf" "$D"
}
untimed() {
	shift
	"$@" >/dev/null 2>"$T/err" || { echo "warm-up failed: $*"; cat "$T/err"; exit 1; }
}

# measure NAME SIDE_A SIDE_B: warm-up of both, then RUNS rounds, alternating the order.
measure() {
	$2 untimed x
	$3 untimed "$1"
	i=1
	while [ "$i" -le "$RUNS" ]; do
		if [ $((i % 2)) = 1 ]; then $2 timed "$1"; $3 timed "$1"; else $3 timed "$1"; $2 timed "$1"; fi
		i=$((i + 1))
	done
}
echo "délibération" >"$D/small.txt"
measure small small_sdr small_dgst
measure cades cades_sdr dgst_1g
measure xades xades_sdr dgst_1g
measure pades pades_sdr pades_peer

# Each output once, by our verify and by an independent tool.
V=ok
vfail() { echo "VERIFY FAILED: $*"; V=fail; return 1; }
check() { # WHAT CMD...: runs CMD (output kept for the failure report)
	cw=$1
	shift
	"$@" >"$T/v" 2>&1 || { cat "$T/v"; vfail "$cw"; }
}
check "sinadur verify (CAdES)" "$SINADUR" --config "$CONF" verify "$D/s.p7s" --content "$F"
check "openssl cms -verify (CAdES)" openssl cms -verify -binary -inform DER -in "$D/s.p7s" \
	-content "$F" -CAfile "$P/chain.pem" -purpose any -out /dev/null
check "sinadur verify (XAdES)" "$SINADUR" --config "$CONF" verify "$D/s.xml"
(cd "$D" && check "xmlsec1 --verify (XAdES)" xmlsec1 --verify --id-attr:Id SignedProperties \
	--trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" s.xml) || V=fail
check "sinadur verify (PAdES)" "$SINADUR" --config "$CONF" verify "$D/signed.pdf"
pdfsig "$D/signed.pdf" >"$T/v" 2>&1
if ! { grep -q "Signature is Valid" "$T/v" && grep -q "Total document signed" "$T/v"; }; then
	cat "$T/v"
	vfail "pdfsig (PAdES)"
fi

LOAD1=$(load)
awk -v mib="$MIB" -v pmib="$PMIB" -v runs="$RUNS" -v verified="$V" \
	-v load="$LOAD0 -> $LOAD1" -v secs=$(($(date +%s) - START)) -v setup="$SETUP" '
	{ n = $1; k = ++cnt[n]; t[n, k] = $2; if ($3 > rss[n]) rss[n] = $3 }
	function best(n,  i, b) {
		b = t[n, 1]; for (i = 2; i <= cnt[n]; i++) if (t[n, i] < b) b = t[n, i]
		return b }
	function median(n,  i, j, m, a, x) {
		m = cnt[n]; for (i = 1; i <= m; i++) a[i] = t[n, i]
		for (i = 2; i <= m; i++) { # insertion sort
			x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]
			a[j + 1] = x }
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
	function line(label, f, peer, peername, tr, tm,  s, p, r, mem, ok) {
		s = best(f "-sinadur"); p = best(peer); if (p <= 0) p = 0.001
		r = s / p; mem = rss[f "-sinadur"] / 1024
		ok = (r <= tr && mem <= tm)
		printf "%s: sinadur %.2f s, %s %.2f s, ratio %.2f (target %.2f) RSS %.0f MiB (target %d)%s\n",
			label, s, peername, p, r, tr, mem, tm, ok ? "" : "  MISSED"
		printf "    median of %d: sinadur %.2f s, %s %.2f s, ratio %.2f; peer peak RSS %.0f MiB\n",
			cnt[peer], median(f "-sinadur"), peername, median(peer), median(f "-sinadur") / median(peer),
			rss[peer] / 1024
		summary = summary sprintf(" %s %.2fx/%.0fMiB %s;", f, r, mem, ok ? "met" : "MISSED")
		if (!ok) missed++
	}
	function size(m) { return m % 1024 ? sprintf("%dMiB", m) : sprintf("%dGiB", m / 1024) }
	END {
		printf "fixed cost (1-line file, information only): sinadur sign -f cades %.2f s, %s %.3f s\n",
			best("small-sinadur"), "openssl dgst", best("small-dgst")
		line("cades " size(mib), "cades", "cades-dgst", "openssl dgst", 1.05, 32)
		line("xades " size(mib), "xades", "xades-dgst", "openssl dgst", 1.05, 32)
		line("pades " size(pmib) " PDF", "pades", "pades-peer", "cp+sync+openssl dgst", 1.2, 64)
		if (verified != "ok") missed++
		printf "summary (best of %d, load %s, %d s, set-up %d s):%s signatures verified: %s; %s\n",
			runs, load, secs, setup,
			summary, verified, missed ? missed " target(s) MISSED" : "all targets met"
		exit missed ? 1 : 0
	}' "$R"

#!/bin/sh
# bench-cades.sh CADES_TOOL [SIZE_MIB] - CAdES detached signature of a big file
# (default 1 GiB) in the same run as `openssl dgst -sha256` and `openssl cms -sign`
# on that file: wall times, ratios to dgst, peak RSS. Target: <= 1.10x dgst,
# RSS <= 32 MiB. The file lives in a temporary folder deleted at the end.
set -u
TOOL=${1:?usage: bench-cades.sh CADES_TOOL [SIZE_MIB]}
MIB=${2:-1024}
SRC=${SINADUR_SOURCE_ROOT:?}
[ -x /usr/bin/time ] || { echo "skip: /usr/bin/time missing"; exit 77; }
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir sdr-bench-cades
sdr_make_pki "$T/pki"
P=$T/pki
F=$T/big.bin
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$F" || exit 1
cat "$F" >/dev/null # same page-cache state for every contender

R=$T/results.txt
: >"$R"
for round in 1 2; do
	sdr_time_run dgst openssl dgst -sha256 "$F" >>"$R" || exit 1
	sdr_time_run cms openssl cms -sign -binary -in "$F" -signer "$P/user-rsa.pem" -inkey "$P/user-rsa.key" \
		-md sha256 -outform DER -out "$T/o.p7s" >>"$R" || exit 1
	sdr_time_run sinadur "$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" "$F" \
		"$T/s.p7s" >>"$R" || exit 1
done
openssl cms -verify -binary -inform DER -in "$T/s.p7s" -content "$F" -CAfile "$P/chain.pem" \
	-out /dev/null >/dev/null 2>&1 || { echo "the benchmark signature does not verify"; exit 1; }

# best of the rounds for each contender
awk -v mib="$MIB" '
	{ if (!($1 in best) || $2 < best[$1]) best[$1] = $2; if ($3 > rss[$1]) rss[$1] = $3 }
	END {
		d = best["dgst"]; if (d <= 0) d = 0.001
		printf "CAdES detached, %d MiB file (best of 2 rounds)\n", mib
		printf "%-10s %9s %9s %10s\n", "tool", "seconds", "x dgst", "peak RSS"
		split("dgst cms sinadur", order, " ")
		for (i = 1; i <= 3; i++) { n = order[i]
			printf "%-10s %9.3f %9.2f %7.1f MiB\n", n, best[n], best[n] / d, rss[n] / 1024 }
		ratio = best["sinadur"] / d; mem = rss["sinadur"] / 1024
		printf "target: <= 1.10x dgst (%.2f: %s), RSS <= 32 MiB (%.1f: %s)\n", ratio,
			ratio <= 1.10 ? "met" : "MISSED", mem, mem <= 32 ? "met" : "MISSED"
	}' "$R"

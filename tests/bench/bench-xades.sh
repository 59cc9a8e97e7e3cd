#!/bin/sh
# bench-xades.sh XADES_TOOL [SIZE_MIB] - XAdES detached signature of a big file
# (default 1 GiB) in the same run as `openssl dgst -sha256` on that file: wall
# times, ratio to dgst, peak RSS (memory must stay flat: the file is hashed as a
# stream). The file lives in a temporary folder deleted at the end.
set -u
TOOL=${1:?usage: bench-xades.sh XADES_TOOL [SIZE_MIB]}
MIB=${2:-1024}
SRC=${SINADUR_SOURCE_ROOT:?}
[ -x /usr/bin/time ] || { echo "skip: /usr/bin/time missing"; exit 77; }
. "$SRC/tests/fixtures/lib.sh"
sdr_tmpdir sdr-bench-xades
sdr_make_pki "$T/pki"
P=$T/pki
F=$T/big.bin
head -c $((MIB * 1024 * 1024)) /dev/urandom >"$F" || exit 1
cat "$F" >/dev/null # same page-cache state for every contender

R=$T/results.txt
: >"$R"
sdr_time_run dgst openssl dgst -sha256 "$F" >>"$R" || exit 1
sdr_time_run sinadur "$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$P/chain.pem" detached "$F" \
	"$T/s.xml" >>"$R" || exit 1
(cd "$T" && xmlsec1 --verify --id-attr:Id 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties' \
	--trusted-pem "$P/root.pem" --untrusted-pem "$P/ca.pem" s.xml >/dev/null 2>&1) ||
	{ echo "the benchmark signature does not verify with xmlsec1"; exit 1; }

awk -v mib="$MIB" '
	{ best[$1] = $2; rss[$1] = $3 }
	END {
		d = best["dgst"]; if (d <= 0) d = 0.001
		printf "XAdES detached, %d MiB file (one round)\n", mib
		printf "%-10s %9s %9s %10s\n", "tool", "seconds", "x dgst", "peak RSS"
		split("dgst sinadur", order, " ")
		for (i = 1; i <= 2; i++) { n = order[i]
			printf "%-10s %9.3f %9.2f %7.1f MiB\n", n, best[n], best[n] / d, rss[n] / 1024 }
		ratio = best["sinadur"] / d; mem = rss["sinadur"] / 1024
		printf "target: <= 1.10x dgst (%.2f: %s), RSS <= 32 MiB (%.1f: %s)\n", ratio,
			ratio <= 1.10 ? "met" : "MISSED", mem, mem <= 32 ? "met" : "MISSED"
	}' "$R"

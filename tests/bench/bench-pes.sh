#!/bin/sh
# bench-pes.sh BENCH_PES PES_TOOL - a ~50 MB PES_Aller of 1000 bordereaux (gen-pes.py)
# signed (1) with a SoftHSM key through the token layer, one login, against (2)
# `xmlsec1 --sign` of one signature over the whole file and (3) 1000 raw token
# signatures; (4) the same PES with a file key. Time and peak RSS of each process.
# Targets (issue 5): one login; time <= (2) + (3); RSS <= 4x the file.
set -eu
BENCH=${1:?usage: bench-pes.sh BENCH_PES PES_TOOL}
TOOL=${2:?usage: bench-pes.sh BENCH_PES PES_TOOL}
ROOT=${SINADUR_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
for t in xmlsec1 /usr/bin/time /usr/bin/python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "missing $t"; exit 77; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
mkdir -p "$HOME"
sh "$ROOT/tests/fixtures/softhsm-fixture.sh" "$T/fx" >/dev/null
# shellcheck disable=SC1091
. "$T/fx/env"
P="$T/fx/pki"
/usr/bin/python3 "$ROOT/tests/profiles/gen-pes.py" "$T/pes.xml" --bordereaux 1000 --pieces 29 \
	--pj 20 --pj-size 900000 --seed 42
SIZE=$(stat -c %s "$T/pes.xml")
measure() { # LABEL CMD...: prints "LABEL seconds peak_kb"
	label=$1; shift
	/usr/bin/time -o "$T/time" -f "%e %M" "$@" >"$T/out" 2>"$T/err" || { cat "$T/err"; exit 1; }
	echo "$label $(cat "$T/time")"
}
# xmlsec1 template: one enveloped signature over PES_Aller/@Id.
/usr/bin/python3 - "$T/pes.xml" "$T/tmpl.xml" <<'PY'
import re, sys
d = open(sys.argv[1], 'rb').read()
rid = re.search(rb'<n:PES_Aller [^>]*Id="([^"]+)"', d).group(1)
t = (b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="BENCH_SIG"><ds:SignedInfo>'
     b'<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
     b'<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
     b'<ds:Reference URI="#' + rid + b'"><ds:Transforms>'
     b'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
     b'<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
     b'<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/>'
     b'</ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>')
i = d.rindex(b'</n:PES_Aller>')
open(sys.argv[2], 'wb').write(d[:i] + t + d[i:])
PY
R1=$(measure pes-token "$BENCH" sign "$T/pes.xml" "$T/signed.xml")
LINE=$(cat "$T/out")
R2=$(measure xmlsec1-whole xmlsec1 --sign --id-attr:Id PES_Aller --privkey-pem "$P/user-rsa.key,$P/user-rsa.pem" --output "$T/xs.xml" "$T/tmpl.xml")
R3=$(measure raw-token-1000 "$BENCH" raw 1000)
R4=$(measure pes-file-key "$TOOL" sign "$P/user-rsa.key" "$P/user-rsa.pem" "$T/pes.xml" "$T/signed2.xml")
NSIG=$(grep -c '<ds:Signature ' "$T/signed.xml" || true)
echo "PES file: $SIZE bytes, 1000 bordereaux; token run: $LINE; signatures in output: $NSIG"
printf '%s\n%s\n%s\n%s\n' "$R1" "$R2" "$R3" "$R4" | awk '{printf "%-16s %7.2f s  %8.1f MB peak RSS\n", $1, $2, $3/1024}'
/usr/bin/python3 - "$SIZE" "$R1" "$R2" "$R3" "$LINE" "$NSIG" <<'PY'
import sys
size = int(sys.argv[1]); r = [a.split() for a in sys.argv[2:5]]
t_ours, rss_ours = float(r[0][1]), int(r[0][2]) * 1024
budget = float(r[1][1]) + float(r[2][1])
ok = True
print("time: %.2f s vs budget %.2f s (xmlsec1 whole file + 1000 token signatures)" % (t_ours, budget))
print("RSS: %.1fx the file (target <= 4x)" % (rss_ours / size))
if "1 login(s)" not in sys.argv[5]: print("FAIL: more than one login"); ok = False
if int(sys.argv[6]) != 1000: print("FAIL: 1000 signatures expected"); ok = False
if t_ours > budget: print("MISSED: time target"); ok = False
if rss_ours > 4 * size: print("MISSED: RSS target"); ok = False
sys.exit(0 if ok else 1)
PY

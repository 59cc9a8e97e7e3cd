#!/bin/sh
# Every row of the exit-code table of docs/sinadur.1 ("CODES DE RETOUR"), by a real
# invocation of `sinadur` (SoftHSM fixture token, file keys of the test PKI). The
# table itself is checked against the code's mapping by test-exit-codes.c; here each
# documented code must be reached, and every row of the table must be exercised.
. "$(dirname "$0")/agent-lib.sh"
fx_token
W="$T/work"
mkdir -p "$W"
cd "$W"
echo "délibération" > doc.txt
cp "$SRC/docs/samples/pes-aller.xml" pes.xml
printf '1234\n' > "$T/pin"
printf '0000\n' > "$T/badpin"
printf 'consent no\n' > "$T/refuse"
: > "$T/no-answer"
printf '[signature]\ntrust_anchors=%s\ncity=Brest\npostal_code=29200\n' "$PKI/chain.pem" > "$CONF"
printf '[signature]\ntrust_anchors=%s\n' "$PKI/chain.pem" > "$T/noplace.conf"
KEY() { echo --key "$PKI/$1.key" --cert-file "$PKI/$1.pem"; }
covered=""
row() {
	# row N CMD... : CMD exits N; N is marked as exercised.
	n=$1
	expect_rc "$@"
	covered="$covered $n"
	note "exit $n: ok"
}

# 0: success
row 0 fr --config "$CONF" sign $(KEY user-rsa) doc.txt
# 1: other error (everything already signed)
expect_rc 0 fr --config "$CONF" sign -f pes $(KEY user-rsa) -o pes-signe.xml pes.xml
row 1 fr --config "$CONF" sign -f pes $(KEY user-rsa) -o pes-2.xml pes-signe.xml
# 2: bad arguments; an ambiguous certificate id prefix
row 2 fr sign
# The ids are hashes of random keys: the pair sharing the longest prefix gives an
# ambiguous prefix (when any pair shares one) and, one character longer, unique ones.
expect_rc 0 fr certs --json --module "$MOD"
/usr/bin/python3 - "$T/out" > "$T/prefixes" <<'PY'
import json, os, sys
ids = [c["id"] for c in json.load(open(sys.argv[1]))["certificates"]]
best = ("", ids[0], ids[1])
for a in ids:
    for b in ids:
        if a < b:
            p = os.path.commonprefix([a, b])
            if len(p) >= len(best[0]):
                best = (p, a, b)
p, a, b = best
print(p or "-", a[:len(p) + 1], b[:len(p) + 1])
PY
read -r amb uniq1 uniq2 < "$T/prefixes" || true
if [ "$amb" != "-" ]; then
	expect_rc 2 fr --config "$CONF" sign --module "$MOD" --cert "$amb" --prompt-script "$T/no-answer" \
		doc.txt
	out_has "Plusieurs certificats commencent par «.$amb.»"
else
	note "no two certificate ids share a first character this time: ambiguity not tried"
fi
for u in $uniq1 $uniq2; do
	# A unique prefix finds its certificate: signs, or says why that one cannot.
	set +e
	fr --config "$CONF" sign --module "$MOD" --cert "$u" --pin-fd 3 -o "p-$u.p7s" doc.txt \
		3<"$T/pin" > "$T/out" 2>&1
	rc=$?
	set -e
	case $rc in 0|9) ;; *) cat "$T/out" >&2; fail "--cert $u: exit $rc" ;; esac
	out_lacks "Aucun certificat «"
done
# 3: a missing file; certs and tokens finding nothing (a SoftHSM without tokens)
row 3 fr --config "$CONF" sign $(KEY user-rsa) absent.txt
out_has "absent.txt"
mkdir -p "$T/empty-tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$T/empty-tokens" > "$T/empty.conf"
expect_rc 3 env SOFTHSM2_CONF="$T/empty.conf" "$SINADUR" certs --module "$MOD"
expect_rc 3 env SOFTHSM2_CONF="$T/empty.conf" "$SINADUR" tokens --json --module "$MOD"
expect_rc 3 fr verify absent.p7s
# 4: wrong PIN (SoftHSM does not count tries: nothing gets blocked)
EC=$(cert_id "$PKI/user-ec.pem")
row 4 fr --config "$CONF" sign --module "$MOD" --cert "$EC" --pin-fd 3 doc.txt 3<"$T/badpin"
# 5: the user refuses to sign
row 5 fr --config "$CONF" sign --module "$MOD" --cert "$EC" --prompt-script "$T/refuse" doc.txt
# 6: INVALID signature; 7: INDETERMINATE (no trust anchor)
cp doc.txt changed.txt
fr --config "$CONF" sign $(KEY user-rsa) -o changed.p7s changed.txt > /dev/null
echo "ajout" >> changed.txt
row 6 fr --config "$CONF" verify changed.p7s --content changed.txt
row 7 fr verify doc.txt.p7s --content doc.txt
# 8: unreadable document (not a PDF)
row 8 fr --config "$CONF" sign -f pades $(KEY user-rsa) doc.txt
# qpdf's English reason is not shown in French text; --json keeps it as "detail".
printf '%%PDF-1.4\nnot really a pdf\n' > damaged.pdf
expect_rc 8 fr --config "$CONF" sign -f pades $(KEY user-rsa) damaged.pdf
out_has "endommagé"
out_lacks "startxref"
expect_rc 8 fr --config "$CONF" --json sign -f pades $(KEY user-rsa) damaged.pdf
/usr/bin/python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["results"][0]["error"]
assert "startxref" not in e["message"] and "startxref" in e["detail"], e' "$T/out" ||
	fail "--json: detail member"
# 9: expired certificate, not-yet-valid certificate, authentication certificate
row 9 fr --config "$CONF" sign $(KEY user-expired) doc.txt
out_has "a expiré le"
expect_rc 9 fr --config "$CONF" sign $(KEY user-future) doc.txt
out_has "pas encore valide (à partir du"
out_lacks "nouveau"
# 10: level T without a timestamping authority
row 10 fr --config "$CONF" sign --level T $(KEY user-rsa) doc.txt
# 11: invalid configuration; PES without a place of signature (said before any PIN)
printf '[signature\nbroken\n' > "$T/bad.conf"
row 11 fr --config "$T/bad.conf" certs --module "$MOD"
expect_rc 11 fr --config "$T/noplace.conf" sign -f pes --module "$MOD" --cert "$EC" \
	--prompt-script "$T/no-answer" pes.xml
out_has "postal_code"
out_lacks "PIN"
# 12: the output cannot be written
row 12 fr --config "$CONF" sign $(KEY user-rsa) -o /proc/sinadur-exit-test.p7s doc.txt
# 13: doctor reports problems (the fixture holds expired / expiring certificates)
row 13 env PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" "$SINADUR" doctor --module "$MOD"
expect_rc 13 env PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" "$SINADUR" doctor --json --module "$MOD"

# The rows of the man page's table, all exercised above, and no other.
rows=$(sed -n '/^\.SH CODES DE RETOUR/,/^\.SH /p' "$SRC/docs/sinadur.1" |
	sed -n '/^\.TS/,/^\.TE/p' | grep -E '^[0-9]+	' | cut -f1 | sort -n | tr '\n' ' ')
done_rows=$(echo $covered | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ -n "$rows" ] || fail "no exit-code table found in docs/sinadur.1"
[ "$rows" = "$done_rows" ] || fail "man page rows: $rows; exercised: $done_rows"
note "all $(echo $rows | wc -w) rows of the man page's table reached"
echo ok

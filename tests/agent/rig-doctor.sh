#!/bin/sh
# rig-doctor.sh - run by tests/pcsc/pcsc-rig.sh (private namespaces, vpcd, virtual CAC
# card backed by the SoftHSM fixture, OpenSC): `sinadur doctor` and `sinadur certs` see
# the card through PC/SC like a real key.
set -eu
SINADUR="${SINADUR_BUILD_ROOT:?}/agent/sinadur"
LOGS=${SDR_RIG_LOGS:?}
fail() { echo "FAIL: $*" >&2; exit 1; }
export SINADUR_TEST_NO_DISCOVERY=1

pcscd --foreground --config "$SDR_RIG_CONF" > "$LOGS/pcscd.log" 2>&1 &
PCSCD=$!
"$SDR_VCARD" --db "$SDR_RIG_DB" --port "$SDR_RIG_PORT" --reconnect > "$LOGS/vcard.out" \
	2> "$LOGS/vcard.log" &
VCARD=$!
trap 'kill $VCARD $PCSCD 2>/dev/null || true' EXIT

# Wait (at most 15 s) until the doctor sees a card in a reader.
i=0
while :; do
	env -u LANG -u LC_ALL -u LANGUAGE "$SINADUR" doctor --json --module "$SDR_RIG_OPENSC" \
		> "$LOGS/doctor.json" 2> "$LOGS/doctor.err" || true
	if /usr/bin/python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
sys.exit(0 if any(r.get("card_present") for r in d["readers"]) and d["certificates"] else 1)' \
		"$LOGS/doctor.json" 2>/dev/null; then
		break
	fi
	i=$((i + 1))
	[ $i -lt 30 ] || { cat "$LOGS/doctor.json" "$LOGS/doctor.err"; fail "no card seen"; }
	sleep 0.5
done
/usr/bin/python3 - "$LOGS/doctor.json" "$SDR_RIG_CN" <<'PY' || fail "doctor --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pcscd"]["running"] is True
r = [r for r in d["readers"] if r.get("card_present")][0]
assert len(r["atr"].split()) >= 8, r            # "3B ..." hex bytes
assert any(m["loaded"] for m in d["modules"]), d["modules"]
assert d["tokens"], "no token"
assert any(c["subject_cn"] == sys.argv[2] for c in d["certificates"]), d["certificates"]
codes = [c["code"] for c in d["checks"]]
assert "card" in codes and "pcscd" in codes, codes
PY
# Exit 13 when it reports a problem (the fixture holds expired / expiring certificates).
rc=0
env -u LANG -u LC_ALL -u LANGUAGE "$SINADUR" doctor --module "$SDR_RIG_OPENSC" > "$LOGS/doctor.txt" ||
	rc=$?
[ "$rc" = 13 ] || { cat "$LOGS/doctor.txt"; fail "doctor: exit $rc, expected 13 (problems)"; }
grep -q "pcscd) est démarré" "$LOGS/doctor.txt" || { cat "$LOGS/doctor.txt"; fail "doctor text"; }
grep -q "Lecteur «.*Virtual PCD.*(ATR 3B" "$LOGS/doctor.txt" || { cat "$LOGS/doctor.txt"; fail "card line"; }
"$SINADUR" certs --json --module "$SDR_RIG_OPENSC" > "$LOGS/certs.json"
grep -q "\"subject_cn\" : \"$SDR_RIG_CN\"" "$LOGS/certs.json" || fail "certs through OpenSC"
cat "$LOGS/doctor.txt"

# Sign through the card (OpenSC over PC/SC) with the PIN from a descriptor.
echo "Délibération" > "$LOGS/doc.txt"
CERT=$(/usr/bin/python3 -c '
import json,sys
c=[c for c in json.load(open(sys.argv[1]))["certificates"]
   if c["subject_cn"]==sys.argv[2] and "signature" in c["usage"] and not c["expired"]]
print(c[0]["id"] if c else "")' "$LOGS/certs.json" "$SDR_RIG_CN")
echo "card certificate: ${CERT:-none}"
set +e
printf '1234\n' | env -u LANG -u LC_ALL -u LANGUAGE "$SINADUR" sign --module "$SDR_RIG_OPENSC" \
	--cert "$CERT" --pin-fd 0 "$LOGS/doc.txt" > "$LOGS/sign.out" 2>&1
rc=$?
set -e
[ -n "$CERT" ] || fail "no signature certificate on the card"
[ "$rc" = 0 ] || { cat "$LOGS/sign.out"; fail "sign through the card: exit $rc"; }
openssl cms -verify -binary -inform DER -in "$LOGS/doc.txt.p7s" -content "$LOGS/doc.txt" \
	-noverify -out /dev/null 2>"$LOGS/ossl" || { cat "$LOGS/ossl"; fail "card signature"; }
! grep -qw 1234 "$LOGS/sign.out" "$LOGS/doctor.txt" || fail "the PIN appears"
echo "signed through the card: ok"
echo ok

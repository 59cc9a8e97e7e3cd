#!/bin/sh
# `sinadur certs`, `tokens`, `doctor` against the SoftHSM fixture token.
# days_left is computed here from each PEM (openssl), never hard-coded.
. "$(dirname "$0")/agent-lib.sh"
fx_token
: > "$T/no-answer"

# ---- certs --json -----------------------------------------------------------------
expect_rc 0 fr certs --json --module "$MOD"
cp "$T/out" "$T/certs.json"
now=$(date -u +%s)
for name in user-rsa user-ec user-soon user-expired user-auth; do
	pem="$PKI/$name.pem"
	id=$(cert_id "$pem")
	end=$(date -u -d "$(openssl x509 -in "$pem" -noout -enddate | cut -d= -f2)" +%s)
	# Days left as a person counts them: calendar days from today to the end date,
	# both in local time (user-soon ends in exactly 20 days: 20, not 19).
	days=$(/usr/bin/python3 -c "import datetime as d; print((d.date.fromtimestamp($end)-d.date.fromtimestamp($now)).days)")
	case $name in
	user-auth) usage=authentication ;;
	*) usage=signature ;;
	esac
	case $name in
	user-expired) expired=True ;;
	*) expired=False ;;
	esac
	/usr/bin/python3 - "$T/certs.json" "$id" "$days" "$usage" "$expired" <<'PY' ||
import json, sys
path, cid, days, usage, expired = sys.argv[1:]
certs = json.load(open(path))["certificates"]
c = [c for c in certs if c["id"] == cid]
assert len(c) == 1, "certificate %s not listed" % cid
c = c[0]
for k in ("id", "token_label", "subject_cn", "organization", "issuer_cn", "serial",
          "not_before", "not_after", "days_left", "usage", "expired"):
    assert k in c, "member %s missing" % k
# the clock may cross midnight between the two reads: allow that one day
assert int(days) - 1 <= c["days_left"] <= int(days), (c["days_left"], days)
assert c["not_yet_valid"] is False, c
assert c["usage"] == [usage], c["usage"]
assert str(c["expired"]) == expired, c["expired"]
assert c["not_after"].endswith("Z") and "T" in c["not_after"]
assert c["token_label"] == "RGS-TEST"
# [expiry] warn_days defaults: 90 and 30 days
want = "expired" if expired == "True" else ("critical" if int(days) <= 30 else
                                            "warning" if int(days) <= 90 else "ok")
assert c["expiry_status"] == want, (c["expiry_status"], want)
PY
		fail "certs --json: $name"
done
note "certs --json: 5 certificates, days_left/usage/expired match the PEMs"
# user-soon was issued for exactly 20 days: 20 days left, as a person counts.
grep -q '"days_left" : 20,' "$T/certs.json" || fail "user-soon: 20 days left expected"
expect_rc 0 fr certs --module "$MOD"
out_has "(20 jours restants)"

# ---- certs (French text) -------------------------------------------------------------
expect_rc 0 fr certs --module "$MOD"
out_has "Titulaire"
out_has "Jean DUPONT"
out_has "EXPIRÉ"
out_has "authentification"
out_has "Expire très bientôt"
expect_rc 0 en certs --module "$MOD"
out_has "Holder: Jean DUPONT"

# ---- a certificate valid from a future date (a second token) ------------------------------
q() { "$@" >/dev/null 2>&1 || { "$@"; fail "$*"; }; }
q softhsm2-util --init-token --free --label RGS-FUTURE --so-pin 12345678 --pin 1234
openssl pkey -in "$PKI/user-future.key" -outform DER -out "$T/future.key.der"
q pkcs11-tool --module "$MOD" --token-label RGS-FUTURE --login --pin 1234 \
	--write-object "$T/future.key.der" --type privkey --id 06 --label user-future --usage-sign
q pkcs11-tool --module "$MOD" --token-label RGS-FUTURE --login --pin 1234 \
	--write-object "$PKI/user-future.der" --type cert --id 06 --label user-future
rm -f "$T/future.key.der"
FUTURE=$(cert_id "$PKI/user-future.pem")
expect_rc 0 fr certs --json --module "$MOD"
/usr/bin/python3 - "$T/out" "$FUTURE" <<'PY' || fail "certs --json: not-yet-valid certificate"
import json, sys
c = [c for c in json.load(open(sys.argv[1]))["certificates"] if c["id"] == sys.argv[2]][0]
assert c["not_yet_valid"] is True and c["expired"] is False, c
assert c["expiry_status"] == "not_yet_valid", c["expiry_status"]
PY
expect_rc 0 fr certs --module "$MOD"
out_has "PAS ENCORE VALIDE (à partir du"
grep -A4 "Marie LE BIHAN" "$T/out" | grep -q "EXPIRÉ" && fail "a not-yet-valid certificate said EXPIRÉ"
expect_rc 0 en certs --module "$MOD"
out_has "NOT YET VALID (from 20"
# Dates under LANG=C: ISO, never French day/month order.
out_lacks "Valid from [0-9][0-9]/"
expect_rc 13 env -u LANG -u LC_ALL -u LANGUAGE PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" \
	"$SINADUR" doctor --module "$MOD"
out_has "Le certificat de Marie LE BIHAN n’est pas encore valide (à partir du"
out_lacks "Certificat de Marie LE BIHAN valide"
expect_rc 13 en doctor --module "$MOD"
out_has "Certificate of Marie LE BIHAN is not yet valid (from 20"
expect_rc 9 fr sign --module "$MOD" --cert "$FUTURE" --prompt-script "$T/no-answer" "$PKI/root.pem"
out_has "pas encore valide (à partir du"
out_lacks "Demandez-en un nouveau"
q softhsm2-util --delete-token --token RGS-FUTURE
note "not-yet-valid certificate: certs, doctor and sign say so"

# ---- sign: the choice offered, the expiry warning ------------------------------------------
echo "délibération" > "$T/doc.txt"
expect_rc 2 fr --config "$CONF" sign --module "$MOD" --prompt-script "$T/no-answer" "$T/doc.txt"
out_has "choisissez-en un avec --cert"
out_has "Jeanne MARTIN (AC Sinadur TEST RGS\*\* Signature, jusqu’au [0-9/]*, clé «.RGS-TEST.»)"
out_lacks "Anne KERBRAT"      # expired
out_lacks "$(cert_id "$PKI/user-auth.pem")"  # authentication only
# Signing with a certificate inside [expiry] warn_days says so (20 days: critical).
expect_rc 0 fr --config "$CONF" sign --key "$PKI/user-soon.key" --cert-file "$PKI/user-soon.pem" \
	-o "$T/soon.p7s" "$T/doc.txt"
out_has "! Votre certificat expire dans 20 jours (le "
out_has "commandez dès maintenant"
expect_rc 0 fr --config "$CONF" sign --key "$PKI/user-rsa.key" --cert-file "$PKI/user-rsa.pem" \
	-o "$T/rsa.p7s" "$T/doc.txt"
out_lacks "expire dans"
note "sign: only usable certificates offered, with their key; expiry warning printed"

# ---- verify: report language and dates follow the message language ------------------------
expect_rc 7 en verify "$T/rsa.p7s" --content "$T/doc.txt" --report "$T/r-en.html"
out_has "Claimed signing time: 20[0-9][0-9]-[01][0-9]-[0-3][0-9] "
grep -q '<html lang="en">' "$T/r-en.html" || fail "English report not lang=en"
grep -q 'produced on 20[0-9][0-9]-' "$T/r-en.html" || fail "English report: date not ISO"
expect_rc 7 fr verify "$T/rsa.p7s" --content "$T/doc.txt" --report "$T/r-fr.html"
out_has "Date de signature déclarée.*: [0-3][0-9]/[01][0-9]/20"
grep -q '<html lang="fr">' "$T/r-fr.html" || fail "French report not lang=fr"
# The visible PAdES stamp shows local time with its zone (here Paris), not UTC.
if command -v qpdf >/dev/null 2>&1; then
	/usr/bin/python3 "$SRC/docs/samples/make-samples.py" "$T/samples" > /dev/null
	expect_rc 0 env TZ=Europe/Paris env -u LANG -u LC_ALL -u LANGUAGE "$SINADUR" sign -f pades \
		--visible --key "$PKI/user-rsa.key" --cert-file "$PKI/user-rsa.pem" \
		-o "$T/stamp.pdf" "$T/samples/deliberation.pdf"
	qpdf --qdf --object-streams=disable "$T/stamp.pdf" "$T/stamp-qdf.pdf"
	want=$(TZ=Europe/Paris date +%Z)
	grep -a "Tj" "$T/stamp-qdf.pdf" | grep -q "[0-3][0-9]/[01][0-9]/20[0-9][0-9] [0-9:]* $want" || {
		grep -a "Tj" "$T/stamp-qdf.pdf" >&2; fail "stamp time is not local ($want)"; }
	note "PAdES stamp: local time ($want)"
fi

# ---- tokens ----------------------------------------------------------------------------
expect_rc 0 fr tokens --module "$MOD"
out_has "Clé «.RGS-TEST.»"
expect_rc 0 fr tokens --json --module "$MOD"
/usr/bin/python3 -c '
import json,sys
t=json.load(open(sys.argv[1]))["tokens"]
assert any(x["label"]=="RGS-TEST" and x["pin_locked"] is False for x in t), t' "$T/out" ||
	fail "tokens --json"

# A module that is not PKCS#11: clean error, exit 3.
expect_rc 3 fr certs --module /bin/true
out_lacks "CRITICAL"

# ---- doctor without pcscd ---------------------------------------------------------------
# A socket path where nothing listens: the PC/SC client sees no service.
expect_rc 13 env -u LANG -u LC_ALL -u LANGUAGE PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" \
	"$SINADUR" doctor --module "$MOD"
out_has "pcscd) n’est pas démarré"
out_has "Que faire"
out_has "Le certificat de Anne KERBRAT a expiré"
out_has "Le certificat de Yann LE GOFF expire dans"
out_has "Clé «.RGS-TEST.» trouvée"
expect_rc 13 env PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" "$SINADUR" doctor --json --module "$MOD"
/usr/bin/python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["pcscd"]["running"] is False
codes={c["code"]:c["status"] for c in d["checks"]}
assert codes["pcscd"]=="warning" and codes["cert_expired"]=="error", codes
assert all("advice" in c for c in d["checks"] if c["status"] in ("warning","error"))
assert d["problems"]>=3' "$T/out" || fail "doctor --json"

# [expiry] warn_days moves the thresholds: at 10;5 days, 20 days left is fine.
printf '[expiry]\nwarn_days=10;5\n' > "$T/warn.conf"
expect_rc 13 env -u LANG -u LC_ALL -u LANGUAGE PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" \
	"$SINADUR" --config "$T/warn.conf" doctor --module "$MOD"
out_has "Certificat de Yann LE GOFF valide jusqu’au"
out_lacks "Yann LE GOFF expire"

# ---- doctor with a private pcscd (mount namespace: root or user namespaces) ------------
if command -v pcscd >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1 &&
	unshare --mount --pid --fork --propagation private true 2>/dev/null; then
	cat > "$T/pcscd-doctor.sh" <<SH
set -eu
mkdir -p "$T/run" "$T/pcscd-conf"
mount --bind "$T/run" /run
pcscd --foreground --config "$T/pcscd-conf" > "$T/pcscd.log" 2>&1 &
i=0
while [ ! -S /run/pcscd/pcscd.comm ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
env -u PCSCLITE_CSOCK_NAME -u LANG -u LC_ALL -u LANGUAGE "$SINADUR" doctor --module "$MOD"
kill \$! 2>/dev/null || true
SH
	expect_rc 13 unshare --mount --pid --fork --propagation private sh "$T/pcscd-doctor.sh"
	out_has "pcscd) est démarré"
	out_has "Aucun lecteur de carte"
	note "doctor with a private pcscd: ok"
else
	note "no private mount namespace here: doctor with pcscd not run"
fi
echo ok

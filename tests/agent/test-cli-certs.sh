#!/bin/sh
# `sinadur certs`, `tokens`, `doctor` against the SoftHSM fixture token.
# days_left is computed here from each PEM (openssl), never hard-coded.
. "$(dirname "$0")/agent-lib.sh"
fx_token

# ---- certs --json -----------------------------------------------------------------
expect_rc 0 fr certs --json --module "$MOD"
cp "$T/out" "$T/certs.json"
now=$(date -u +%s)
for name in user-rsa user-ec user-soon user-expired user-auth; do
	pem="$PKI/$name.pem"
	id=$(cert_id "$pem")
	end=$(date -u -d "$(openssl x509 -in "$pem" -noout -enddate | cut -d= -f2)" +%s)
	# Whole days until notAfter, rounded down (negative once passed).
	days=$(/usr/bin/python3 -c "import math,sys; print(math.floor(($end-$now)/86400))")
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
# the clock may cross a day boundary between the two reads: allow that one day
assert int(days) - 1 <= c["days_left"] <= int(days), (c["days_left"], days)
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

# ---- certs (French text) -------------------------------------------------------------
expect_rc 0 fr certs --module "$MOD"
out_has "Titulaire"
out_has "Jean DUPONT"
out_has "EXPIRÉ"
out_has "authentification"
out_has "Expire très bientôt"
expect_rc 0 en certs --module "$MOD"
out_has "Holder: Jean DUPONT"

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
expect_rc 0 env -u LANG -u LC_ALL -u LANGUAGE PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" \
	"$SINADUR" doctor --module "$MOD"
out_has "pcscd) n’est pas démarré"
out_has "Que faire"
out_has "Le certificat de Anne KERBRAT a expiré"
out_has "Le certificat de Yann LE GOFF expire dans"
out_has "Clé «.RGS-TEST.» trouvée"
expect_rc 0 env PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" "$SINADUR" doctor --json --module "$MOD"
/usr/bin/python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["pcscd"]["running"] is False
codes={c["code"]:c["status"] for c in d["checks"]}
assert codes["pcscd"]=="warning" and codes["cert_expired"]=="error", codes
assert all("advice" in c for c in d["checks"] if c["status"] in ("warning","error"))
assert d["problems"]>=3' "$T/out" || fail "doctor --json"

# [expiry] warn_days moves the thresholds: at 10;5 days, 19 days left is fine.
printf '[expiry]\nwarn_days=10;5\n' > "$T/warn.conf"
expect_rc 0 env -u LANG -u LC_ALL -u LANGUAGE PCSCLITE_CSOCK_NAME="$T/no-pcscd.comm" \
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
	expect_rc 0 unshare --mount --pid --fork --propagation private sh "$T/pcscd-doctor.sh"
	out_has "pcscd) est démarré"
	out_has "Aucun lecteur de carte"
	note "doctor with a private pcscd: ok"
else
	note "no private mount namespace here: doctor with pcscd not run"
fi
echo ok

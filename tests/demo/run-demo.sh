#!/bin/sh
# run-demo.sh BUILD_DIR - what `./quickstart demo` shows: the certificates sinadur sees,
# then the sample documents of docs/samples/ signed in every format this build has, and
# verified. Re-runnable.
#
# - A real key with a certificate (found through a module other than SoftHSM): it is used,
#   and its PIN is asked ONCE on the terminal (nothing is tried again after a wrong PIN).
# - Otherwise a demo SoftHSM token is created once under ~/.local/share/sinadur/demo
#   (tests/fixtures/softhsm-fixture.sh; demo PIN 1234, a TEST certificate authority whose
#   OCSP responder and CRL run on a loopback port during the demo).
# Outputs go to ~/.local/share/sinadur/demo/signatures/ (emptied at each run).
set -eu
BUILD=${1:?usage: run-demo.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
SINADUR="$BUILD/agent/sinadur"
[ -x "$SINADUR" ] || { echo "run-demo: $SINADUR n’a pas été construit" >&2; exit 1; }
export SINADUR_LOCALEDIR="$BUILD/po/locale"
DEMO="${XDG_DATA_HOME:-$HOME/.local/share}/sinadur/demo"
OUT="$DEMO/signatures"
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so

# French whatever the caller's locale.
fr() { env -u LC_ALL -u LC_MESSAGES -u LANG LANGUAGE=fr "$SINADUR" "$@"; }
title() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }

mkdir -p "$DEMO"
rm -rf "$OUT"
mkdir -p "$OUT"
/usr/bin/python3 "$SRC/docs/samples/make-samples.py" "$OUT"
if [ -f "$SRC/tests/profiles/gen-pes.py" ]; then
	/usr/bin/python3 "$SRC/tests/profiles/gen-pes.py" "$OUT/PES_Aller.xml" --bordereaux 2 \
		--pieces 2 --pj 1 --pj-size 1024 >/dev/null
fi

# ---- A real key? ------------------------------------------------------------------------
REAL_CERT=""
if fr certs --json > "$DEMO/real-certs.json" 2>/dev/null; then
	REAL_CERT=$(/usr/bin/python3 - "$DEMO/real-certs.json" <<'PY'
import json, sys
try:
    certs = json.load(open(sys.argv[1]))["certificates"]
except Exception:
    certs = []
ok = [c for c in certs if "softhsm" not in (c.get("module") or "").lower()
      and c.get("has_private_key") and "signature" in c.get("usage", [])
      and not c.get("expired")]
print(ok[0]["id"] if ok else "")
PY
)
fi
rm -f "$DEMO/real-certs.json"

CONFIG_ARGS=""
MODULE_ARGS=""
if [ -n "$REAL_CERT" ]; then
	title "Votre clé"
	fr certs
	printf '\nLa démonstration va signer avec le certificat %s.\n' "$REAL_CERT"
	printf 'Code PIN de la clé (saisi une seule fois, sans écho) : '
	stty -echo < /dev/tty 2>/dev/null || true
	IFS= read -r PIN < /dev/tty || PIN=""
	stty echo < /dev/tty 2>/dev/null || true
	printf '\n'
	CERT=$REAL_CERT
else
	title "Jeton de démonstration (SoftHSM)"
	# The TEST authority's certificates name its OCSP responder and CRL on a loopback
	# port chosen when the token is made; the demo runs that responder
	# (tests/cades/pki-responder.py) while it works, so that verification can check
	# revocation and say VALID (without it the signatures would be INDETERMINATE).
	SDR_PKI_PORT=$(/usr/bin/python3 "$SRC/tests/cades/pki-responder.py" --free-port) \
		sh "$SRC/tests/fixtures/softhsm-fixture.sh" "$DEMO/token" >/dev/null
	# shellcheck disable=SC1091
	. "$DEMO/token/env"
	OCSP_URL=$(openssl x509 -in "$DEMO/token/pki/user-rsa.pem" -noout -ocsp_uri)
	OCSP_PORT=${OCSP_URL#http://127.0.0.1:}
	OCSP_PORT=${OCSP_PORT%%/*}
	/usr/bin/python3 "$SRC/tests/cades/pki-responder.py" "$DEMO/token/pki" "$OCSP_PORT" \
		2>"$DEMO/responder.log" &
	RESPONDER_PID=$!
	trap 'kill "$RESPONDER_PID" 2>/dev/null || true' EXIT
	trap 'exit 1' INT TERM HUP
	i=0
	while ! /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$OCSP_PORT),1)" \
		2>/dev/null && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	echo "Répondeur OCSP de l’autorité de TEST : $OCSP_URL"
	printf '[signature]\ntrust_anchors=%s\ncity=Plougastel-Daoulas\npostal_code=29470\ncountry=France\n' "$DEMO/token/pki/chain.pem" > "$DEMO/sinadur.conf"
	CONFIG_ARGS="--config $DEMO/sinadur.conf"
	MODULE_ARGS="--module $SOFTHSM"
	echo "Aucune clé réelle trouvée : jeton SoftHSM de démonstration dans $DEMO/token"
	echo "(autorité de certification de TEST ; code PIN de démonstration : 1234)"
	PIN=1234
	CERT=$(openssl x509 -in "$DEMO/token/pki/user-rsa.pem" -outform DER |
		openssl dgst -sha256 -r | cut -c1-32)
	title "sinadur certs"
	# shellcheck disable=SC2086
	fr $CONFIG_ARGS certs $MODULE_ARGS
fi

# ---- Signatures -------------------------------------------------------------------------
cd "$OUT"
SIGNED=""
sign() {
	label=$1
	shift
	printf '\n\033[1m-- %s --\033[0m\n' "$label"
	set +e
	# The PIN goes through a pipe from a shell builtin: never in argv or the environment.
	# shellcheck disable=SC2086
	printf '%s\n' "$PIN" | fr $CONFIG_ARGS sign $MODULE_ARGS --cert "$CERT" --pin-fd 0 "$@"
	rc=$?
	set -e
	if [ "$rc" = 4 ]; then
		echo "Code PIN refusé : la démonstration s’arrête pour ne pas consommer d’autre essai."
		exit 4
	fi
	[ "$rc" = 0 ] && SIGNED="${SIGNED:+$SIGNED ;} $label"
	return 0
}
title "Signatures"
sign "CAdES détachée" -f cades deliberation.txt
sign "XAdES détachée" -f xades deliberation.pdf
sign "PAdES visible" -f pades --visible --page 1 --rect 330,60,220,70 \
	--reason "Délibération exécutoire" --location "Plougastel-Daoulas" deliberation.pdf
[ -f PES_Aller.xml ] && sign "PES V2 (Hélios)" -f pes PES_Aller.xml
mkdir -p actes
cp deliberation.pdf actes/acte.pdf
sign "ACTES (CMS PEM pour S²LOW)" -f actes actes/acte.pdf
mkdir -p marche
cp deliberation.pdf marche/offre.pdf
cp deliberation.txt marche/memoire-technique.txt
sign "Marché public (PAdES + jeton XAdES)" -f marche marche/offre.pdf marche/memoire-technique.txt
PIN=""

# ---- Verification -----------------------------------------------------------------------
title "Vérification"
set +e
for f in deliberation.txt.p7s "deliberation.pdf - Signature 1.xml" deliberation-signe.pdf \
	PES_Aller-signe.xml marche/offre-signe.pdf "marche/memoire-technique.txt - Signature 1.xml"; do
	[ -f "$f" ] || continue
	# shellcheck disable=SC2086
	if [ "$f" = deliberation.txt.p7s ]; then
		fr $CONFIG_ARGS verify --content deliberation.txt "$f"
	else
		fr $CONFIG_ARGS verify "$f"
	fi
done
# shellcheck disable=SC2086
fr $CONFIG_ARGS verify --report rapport.html deliberation-signe.pdf \
	"deliberation.pdf - Signature 1.xml" >/dev/null 2>&1
set -e
if [ -f actes/acte.pdf.sig ]; then
	if openssl smime -verify -inform PEM -noverify -in actes/acte.pdf.sig \
		-content actes/acte.pdf -out /dev/null 2>/dev/null; then
		echo "actes/acte.pdf.sig : accepté par la vérification de S²LOW (openssl smime -verify)"
	else
		echo "actes/acte.pdf.sig : REFUSÉ par la vérification de S²LOW"
	fi
fi
[ -f rapport.html ] && echo "Rapport de vérification HTML : $OUT/rapport.html"
title "Résultat"
echo "Formats signés :${SIGNED:- aucun}"
echo "Fichiers : $OUT"

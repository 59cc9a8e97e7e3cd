# agent-lib.sh - shared set-up of the agent/CLI shell tests (sourced).
#   T        private temporary folder (removed at exit), HOME and XDG_* inside it
#   SINADUR  the built `sinadur`
#   fx_token  creates the SoftHSM fixture token (tests/fixtures/softhsm-fixture.sh) in $T/fx
#             and writes $T/sinadur.conf trusting its root CA; sets MOD, CONF
#   fx_token --responder  the same, its PKI naming a free port on which
#             tests/cades/pki-responder.py (OCSP, CRL, TSA) runs until exit; sets PKI_PORT
#   fail MSG  prints and exits 1;  skip MSG  exits 77
set -eu
SRC=${SINADUR_SOURCE_ROOT:?}
BUILD=${SINADUR_BUILD_ROOT:?}
SINADUR="$BUILD/agent/sinadur"
T=$(mktemp -d "${TMPDIR:-/tmp}/sdr-agent-test.XXXXXX")
cleanup_hooks=""
cleanup() {
	for h in $cleanup_hooks; do $h || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_DATA_HOME="$T/home/.local/share" \
	XDG_STATE_HOME="$T/home/.local/state" XDG_CACHE_HOME="$T/home/.cache"
mkdir -p "$HOME"
# The host's PKCS#11 modules (p11-kit, vendor paths) stay out of the tests.
export SINADUR_TEST_NO_DISCOVERY=1
AUDIT="$XDG_STATE_HOME/sinadur/audit.log"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
note() { echo "# $*"; }
[ -x "$SINADUR" ] || fail "$SINADUR was not built"

MOD=/usr/lib/softhsm/libsofthsm2.so
fx_token() {
	command -v softhsm2-util >/dev/null 2>&1 || skip "softhsm2-util is missing"
	[ -e "$MOD" ] || skip "$MOD is missing"
	if [ "${1:-}" = --responder ]; then
		PKI_PORT=$(/usr/bin/python3 "$SRC/tests/cades/pki-responder.py" --free-port)
		SDR_PKI_PORT=$PKI_PORT sh "$SRC/tests/fixtures/softhsm-fixture.sh" "$T/fx" >/dev/null
		/usr/bin/python3 "$SRC/tests/cades/pki-responder.py" "$T/fx/pki" "$PKI_PORT" \
			2>"$T/pki-responder.log" &
		FX_RESPONDER_PID=$!
		cleanup_hooks="$cleanup_hooks fx_stop_responder"
		i=0
		while ! /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$PKI_PORT),1)" \
			2>/dev/null; do
			i=$((i + 1))
			[ $i -gt 50 ] && fail "pki-responder.py did not start"
			sleep 0.1
		done
	else
		sh "$SRC/tests/fixtures/softhsm-fixture.sh" "$T/fx" >/dev/null
	fi
	# shellcheck disable=SC1091
	. "$T/fx/env"
	CONF="$T/sinadur.conf"
	printf '[signature]\ntrust_anchors=%s\n' "$T/fx/pki/root.pem" > "$CONF"
	PKI="$T/fx/pki"
}
fx_stop_responder() {
	kill "$FX_RESPONDER_PID" 2>/dev/null
	wait "$FX_RESPONDER_PID" 2>/dev/null
}

# The certificate id sinadur gives a PEM file: hex SHA-256 of the DER, first 16 bytes.
cert_id() {
	openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -c1-32
}

# Runs sinadur in French (no locale variable at all).
fr() { env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$SINADUR" "$@"; }
# Runs sinadur in English.
en() { env -u LANGUAGE LANG=C LC_ALL=C "$SINADUR" "$@"; }

# expect_rc WANT CMD... : runs CMD (stdout+stderr to $T/out), checks its exit code.
expect_rc() {
	want=$1; shift
	set +e
	"$@" > "$T/out" 2>&1
	rc=$?
	set -e
	if [ "$rc" != "$want" ]; then
		cat "$T/out" >&2
		fail "exit $rc, expected $want: $*"
	fi
}
out_has() { grep -q -- "$1" "$T/out" || { cat "$T/out" >&2; fail "output lacks “$1”"; }; }
out_lacks() { ! grep -q -- "$1" "$T/out" || { cat "$T/out" >&2; fail "output has “$1”"; }; }

#!/bin/sh
# pcsc-rig.sh TEST_PROGRAM [SDR_VCARD] - runs TEST_PROGRAM against a private pcscd with vsmartcard's
# vpcd driver and the project's virtual card (sdr-vcard, libcacard + NSS + SoftHSM).
#
# pcscd 1.9 always uses /run/pcscd/ (PCSCLITE_CSOCK_NAME is honoured by clients only),
# and vpcd listens on every interface. So the rig re-runs itself in private mount,
# network and PID namespaces (unshare; root, or an unprivileged user namespace):
#   - /run is a temporary folder there: the private pcscd never meets the system's;
#   - the network namespace has only the loopback: vpcd's port is reachable from
#     nowhere else, and the default port 0x8C7B (35963) is free by construction;
#   - the PID namespace ends every process of the rig when the script ends.
# Exits 77 (skip) only when a tool is missing or namespaces are not allowed.
set -eu
PROG=${1:?usage: pcsc-rig.sh TEST_PROGRAM [SDR_VCARD]}
SDR_VCARD=${2:-${SDR_VCARD:-}}
export SDR_VCARD
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${SINADUR_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}
VPCD=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
OPENSC=${SDR_RIG_OPENSC:-}
if [ -z "$OPENSC" ]; then
	for m in /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so /usr/lib/*/opensc-pkcs11.so \
		/usr/lib/opensc-pkcs11.so; do
		[ -e "$m" ] && { OPENSC=$m; break; }
	done
fi

skip() { echo "pcsc-rig: SKIP: $*" >&2; exit 77; }

if [ "${SDR_RIG_INSIDE:-}" != 1 ]; then
	for t in pcscd unshare mount softhsm2-util pkcs11-tool certutil modutil openssl; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is missing"
	done
	[ -e "$VPCD" ] || skip "vsmartcard-vpcd ($VPCD) is missing"
	[ -n "$OPENSC" ] || skip "opensc-pkcs11.so is missing"
	[ -n "${SDR_VCARD:-}" ] && [ -x "$SDR_VCARD" ] || skip "sdr-vcard was not built (libcacard-dev)"
	export SDR_RIG_INSIDE=1 SDR_RIG_OPENSC="$OPENSC"
	NS="--mount --net --pid --fork --kill-child --mount-proc --propagation private"
	# shellcheck disable=SC2086
	if unshare $NS true 2>/dev/null; then
		exec unshare $NS sh "$0" "$@"
	elif unshare --map-root-user $NS true 2>/dev/null; then
		exec unshare --map-root-user $NS sh "$0" "$@"
	fi
	skip "cannot create private namespaces (run as root or allow user namespaces)"
fi

# ---- inside the namespaces -----------------------------------------------------------
# /run/pcscd is left for pcscd to create: the watcher first waits on its parent folder.
T=$(mktemp -d "${TMPDIR:-/tmp}/sdr-pcsc-rig.XXXXXX")
cleanup() {
	# Everything else in the PID namespace dies with us; stop pcscd politely first.
	if [ -f "$T/run/pcscd/pcscd.pid" ]; then
		kill "$(cat "$T/run/pcscd/pcscd.pid")" 2>/dev/null || true
	fi
	umount /run 2>/dev/null || true
	if [ "${SDR_RIG_KEEP:-}" = 1 ]; then echo "pcsc-rig: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Loopback up (ip from iproute2, or the ioctl through python3).
if command -v ip >/dev/null 2>&1; then
	ip link set lo up
else
	/usr/bin/python3 -c '
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH14x", b"lo", 0))[:18])[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))'
fi

mkdir -p "$T/run" "$T/conf" "$T/empty-conf" "$T/nss" "$T/logs" "$T/home"
mount --bind "$T/run" /run
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" XDG_DATA_HOME="$T/home/.local/share" \
	XDG_CACHE_HOME="$T/home/.cache" XDG_RUNTIME_DIR="$T/home/run"

# The SoftHSM token (slots.removable = true: libcacard only uses removable tokens).
if [ -f "$SRC/tests/fixtures/softhsm-fixture.sh" ]; then
	sh "$SRC/tests/fixtures/softhsm-fixture.sh" "$T/hsm" >/dev/null
else
	echo "pcsc-rig: tests/fixtures/softhsm-fixture.sh is missing" >&2
	exit 1
fi
export SOFTHSM2_CONF="$T/hsm/softhsm2.conf"
CN=$(openssl x509 -in "$T/hsm/pki/user-rsa.pem" -noout -subject -nameopt multiline |
	sed -n 's/^ *commonName *= *//p')

# NSS database holding the SoftHSM module, for libcacard.
certutil -N -d "sql:$T/nss" --empty-password
modutil -dbdir "sql:$T/nss" -add softhsm -libfile /usr/lib/softhsm/libsofthsm2.so -force \
	>/dev/null

PORT=35963
cat > "$T/conf/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$PORT
LIBPATH      $VPCD
CHANNELID    $PORT
EOF

export SDR_RIG_DB="$T/nss" SDR_RIG_PORT="$PORT" SDR_RIG_CONF="$T/conf" SDR_RIG_EMPTY_CONF="$T/empty-conf" SDR_RIG_LOGS="$T/logs" \
	SDR_RIG_CN="$CN"
unset PCSCLITE_CSOCK_NAME
status=0
# SDR_RIG_VALGRIND=1: run the test program under valgrind (slower; leaks are errors).
if [ "${SDR_RIG_VALGRIND:-}" = 1 ]; then
	set -- valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
		--child-silent-after-fork=yes "$PROG"
else
	set -- "$PROG"
fi
timeout 110 "$@" || status=$?
if [ "$status" != 0 ]; then
	for f in "$T"/logs/*; do echo "---- $f"; tail -n 40 "$f"; done
fi
exit "$status"

#!/bin/sh
# test-s2low-keyring-agent.sh - against the S²LOW rig (tests/s2low):
#  1. HTTP Basic for a certificate shared by several accounts (the rig's shared.pem:
#     secretariat and mairie2), the password in a real Secret Service (gnome-keyring-daemon
#     on a private session bus), never in a file; no keyring on the bus; wrong password.
#  2. sinadur-agent polling a slow send: one PIN entry and one C_Login (counted by the
#     PIN-tries test module sdr-test-p11) across several polls; the key pulled: the kept
#     login goes, the next polls log in again.
#  3. The GUI notified when the send reaches its final state (a real org.freedesktop.
#     Notifications server of the tests, fake-desktop.py), when a display is present
#     (meson runs this under xvfb-run).
. "${SINADUR_SOURCE_ROOT:?}/tests/agent/agent-lib.sh"
. "$SRC/tests/fixtures/lib.sh"
. "$SRC/tests/s2low/rig.sh"
for t in openssl nginx curl dbus-daemon dbus-send gnome-keyring-daemon secret-tool pkcs11-tool; do
	command -v $t >/dev/null 2>&1 || skip "$t is missing"
done
TESTP11=${SDR_TESTP11:?}
rig_stop() { for p in $SDR_PIDS; do kill "$p" 2>/dev/null || true; done; }
cleanup_hooks="rig_stop"
S2LOW_STEP=1 s2low_rig_start || fail "the rig did not start"
mkdir -p "$T/fx"
cp -r "$S2LOW_PKI" "$T/fx/pki"
fx_token
export SINADUR_S2LOW_DB="$T/s2low.db" LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_CACHE_HOME="$T/cache"
# The shared certificate and its key on the token (id 07).
q() { "$@" >/dev/null 2>&1 || fail "failed: $*"; }
q openssl pkey -in "$S2LOW_PKI/shared.key" -outform DER -out "$T/s.key.der"
q openssl x509 -in "$S2LOW_PKI/shared.pem" -outform DER -out "$T/s.der"
for w in "$T/s.key.der privkey" "$T/s.der cert"; do
	set -- $w
	q pkcs11-tool --module "$MOD" --token-label RGS-TEST --login --pin 1234 \
		--write-object "$1" --type "$2" --id 07 --label shared
done
SHARED=$(cert_id "$S2LOW_PKI/shared.pem")
AUTH=$(cert_id "$PKI/user-auth.pem")
CONFIG_RC=11 # exit code of a configuration problem (docs/sinadur.1)

conf() { # conf CERT-ID [extra lines]
	{ printf '[signature]\ntrust_anchors=%s\n[s2low]\nurl=%s\nca_file=%s\ncertificate=%s\nchain_file=%s\n' \
		"$PKI/root.pem" "$S2LOW_URL" "$PKI/root.pem" "$1" "$PKI/ca.pem"; shift
	  for l in "$@"; do echo "$l"; done; } > "$T/c.conf"
}
run() { "$SINADUR" --config "$T/c.conf" --module "$MOD" --pin-fd 3 "$@" 3<<X
1234
X
}
login_with() { "$SINADUR" --config "$T/c.conf" s2low login --password-fd 3 3<<X
$1
X
}
st() { s2low_admin state | $SDR_PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
count() { st "d['counts'].get('$1', 0)"; }
field() {
	"$SINADUR" --config "$T/c.conf" --json status "$1" --offline 2>/dev/null |
		$SDR_PY -c "import json,sys; s=json.load(sys.stdin)['sends'][0]; print(s.get('$2', ''))"
}
last_id() {
	"$SINADUR" --config "$T/c.conf" --json status --offline 2>/dev/null |
		$SDR_PY -c "import json,sys; print(max(s['id'] for s in json.load(sys.stdin)['sends']))"
}

# ---- A private session bus with no service to activate ------------------------------------
cat > "$T/bus.conf" <<C
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T/bus</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
C
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/bus.err" &
sdr_kill_on_exit $!
i=0
until [ -S "$T/bus" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "no session bus"; sleep 0.1; done
export DBUS_SESSION_BUS_ADDRESS="unix:path=$T/bus"
has_owner() {
	dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null | grep -q "boolean true"
}
ls -A "$XDG_CONFIG_HOME" 2>/dev/null | sort > "$T/config-before" || true

# ---- 1. HTTP Basic, the password in the keyring -----------------------------------------
# No login configured, shared certificate: S²LOW wants Basic; told, nothing sent.
conf "$SHARED"
expect_rc $CONFIG_RC run s2low test
out_has "shared by several S²LOW accounts"
out_has "s2low login"
note "ok: shared certificate without [s2low] login -> told to set it ($(tail -1 "$T/out"))"

# No Secret Service on the bus: a clear message, in French, exit 11 (no crash).
conf "$SHARED" "login=secretariat"
set +e
env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$SINADUR" --config "$T/c.conf" s2low login \
	--password-fd 3 > "$T/out" 2>&1 3<<X
secret-1
X
rc=$?
set -e
[ $rc = $CONFIG_RC ] || { cat "$T/out"; fail "login without a keyring: exit $rc"; }
out_has "trousseau"
out_lacks "secret-1"
expect_rc $CONFIG_RC run s2low test
out_has "keyring"
note "ok: no Secret Service -> $(head -1 "$T/out")"

# A real Secret Service: gnome-keyring-daemon, its login keyring unlocked.
mkdir -p "$XDG_DATA_HOME"
printf 'keyring-pass' | gnome-keyring-daemon --foreground --unlock --components=secrets \
	> "$T/keyring.out" 2> "$T/keyring.err" &
sdr_kill_on_exit $!
i=0
until has_owner org.freedesktop.secrets; do
	i=$((i + 1)); [ $i -le 100 ] || { cat "$T/keyring.err"; fail "gnome-keyring-daemon did not start"; }
	sleep 0.1
done
expect_rc 0 login_with secret-1
out_has "desktop keyring"
[ "$(secret-tool lookup url "$S2LOW_URL" login secretariat)" = secret-1 ] ||
	fail "the password is not in the keyring under (url, login)"
refused=$(count auth_refused)
expect_rc 0 run s2low test
out_has "Connected to S²LOW as Secretariat PARTAGE"
out_has "RGS check: OK"
[ "$(count auth_refused)" = "$refused" ] || fail "the right password was refused"
sdr_minimal_pdf "$T/acte.pdf"
expect_rc 0 run --json send actes --nature DE --classification 1.1 --date 2026-01-15 \
	--type-acte 99_DE --number BASIC1 --subject "Par le secrétariat" "$T/acte.pdf"
[ "$(st "[t['user_id'] for t in d['actes'].values() if t['number'] == 'BASIC1']")" = "[2]" ] ||
	fail "BASIC1 not received from account 2 (secretariat): $(st "[(t['number'], t['user_id']) for t in d['actes'].values()]")"
note "ok: login stored in the keyring; S²LOW accepts it (act BASIC1 from account secretariat)"

# Nothing in a file: no config file was written, none holds the password.
ls -A "$XDG_CONFIG_HOME" 2>/dev/null | sort > "$T/config-after" || true
cmp -s "$T/config-before" "$T/config-after" || fail "files appeared in the config folder: $(cat "$T/config-after")"
! grep -rqs "secret-1" "$XDG_CONFIG_HOME" "$T/c.conf" "$XDG_STATE_HOME" "$SINADUR_S2LOW_DB" ||
	fail "the password was written to a file"
note "ok: the password is in no file of the configuration or state folders"

# Another account on the same certificate: its own password, its own authority.
conf "$SHARED" "login=mairie2"
expect_rc 0 login_with secret-2
expect_rc 0 run s2low test
out_has "Connected"
[ "$(secret-tool lookup url "$S2LOW_URL" login secretariat)" = secret-1 ] ||
	fail "the second login replaced the first one's password"

# Wrong password: a clear message, exit 11, and exactly one refused request (no retry).
expect_rc 0 login_with wrong-password
refused=$(count auth_refused)
expect_rc $CONFIG_RC run s2low test
out_has "refused the login “mairie2” or its password"
[ "$(count auth_refused)" = $((refused + 1)) ] ||
	fail "$(($(count auth_refused) - refused)) refused requests for one wrong password"
note "ok: wrong password -> $(head -1 "$T/out"), one request"

# logout: gone from the keyring; then told to log in.
expect_rc 0 "$SINADUR" --config "$T/c.conf" s2low logout
out_has "was removed"
[ -z "$(secret-tool lookup url "$S2LOW_URL" login mairie2 2>/dev/null || true)" ] ||
	fail "logout left the password"
expect_rc $CONFIG_RC run s2low test
out_has "No S²LOW password is stored for “mairie2”"
note "ok: s2low logout removes the password"

# ---- 2. The agent: one PIN entry across polls; the key pulled ------------------------------
AGENT="$BUILD/agent/sinadur-agent"
P11DIR="$T/p11"
mkdir -p "$P11DIR"
export SDR_TESTP11_DIR="$P11DIR" SDR_TESTP11_MODULE="$MOD"
s2low_admin config '{"step": 2}' >/dev/null
conf "$AUTH"
expect_rc 0 run send actes --nature DE --classification 1.1 --date 2026-01-15 --type-acte 99_DE \
	--number AGENT1 --subject "Une seule saisie" "$T/acte.pdf"
S1=$(last_id)
[ "$(field "$S1" state)" = polling ] || fail "AGENT1 is $(field "$S1" state), not polling"
polls=$(count actes_status_requests)
printf 'pin 1234\npin 1234\n' > "$T/agent-script"
chmod 600 "$T/agent-script"
{ cat "$T/c.conf"; printf 'poll_interval_s=1\n[tokens]\nmodules=%s\n[bridge]\nport=%s\n' \
	"$TESTP11" "$(sdr_free_port)"; } > "$T/agent.conf"
NOTES="$T/notes.jsonl"
GUI=no
if [ -n "${DISPLAY:-}" ]; then
	$SDR_PY "$SRC/tests/gui/fake-desktop.py" 240 "$T/sni.jsonl" "$NOTES" > "$T/desktop.out" 2>&1 &
	sdr_kill_on_exit $!
	i=0
	until grep -q ready "$T/desktop.out"; do
		i=$((i + 1)); [ $i -le 100 ] || fail "fake-desktop.py did not start"; sleep 0.1
	done
	GUI=yes
fi
# French, as a person's desktop (the notification's text).
env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE NO_AT_BRIDGE=1 "$AGENT" \
	$([ $GUI = yes ] || echo --headless) --config "$T/agent.conf" --prompt-script "$T/agent-script" \
	> "$T/agent.out" 2> "$T/agent.err" &
agent_pid=$!
sdr_kill_on_exit $agent_pid
wait_agent() { # wait_agent PATTERN WHAT
	i=0
	until grep -q "$1" "$T/agent.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 120 ] || { cat "$T/agent.out" "$T/agent.err" >&2; fail "$2"; }
		sleep 0.5
	done
}
wait_agent "s2low: send $S1 (actes) final" "the agent did not bring AGENT1 to final"
[ "$(cat "$P11DIR/logins")" = 1 ] || fail "$(cat "$P11DIR/logins") C_Login for one send"
runs=$(($(count actes_status_requests) - polls))
[ $runs -ge 2 ] || fail "only $runs status requests: the PIN was not kept across polls"
! grep -q "polling paused" "$T/agent.out" || fail "the agent asked a second PIN: $(cat "$T/agent.out")"
note "ok: $runs status polls, 1 PIN entry, 1 C_Login (sdr-test-p11)"

# The key pulled while a send is pending: the kept login goes; re-inserted, one new login.
s2low_admin config '{"step": 3}' >/dev/null
expect_rc 0 run send actes --nature DE --classification 1.1 --date 2026-01-15 --type-acte 99_DE \
	--number AGENT2 --subject "Clé retirée" "$T/acte.pdf"
S2=$(last_id)
: > "$P11DIR/removed"
wait_agent "s2low: queue not advanced" "the agent did not notice the key was pulled"
rm -f "$P11DIR/removed"
wait_agent "s2low: send $S2 (actes) final" "the agent did not bring AGENT2 to final"
[ "$(cat "$P11DIR/logins")" = 2 ] || fail "$(cat "$P11DIR/logins") C_Login, expected 2 (once more after re-insertion)"
note "ok: key pulled -> $(grep "queue not advanced" "$T/agent.out" | head -1); re-inserted: one new login"

# ---- 3. The GUI's notification ------------------------------------------------------------
if [ $GUI = yes ]; then
	i=0
	until grep -q "AGENT1" "$NOTES" 2>/dev/null; do
		i=$((i + 1)); [ $i -le 40 ] || { cat "$NOTES" "$T/agent.err" >&2; fail "no notification for AGENT1"; }
		sleep 0.5
	done
	$SDR_PY - "$NOTES" <<'P' || fail "notification: $(cat "$NOTES")"
import json, sys
notes = [json.loads(l) for l in open(sys.argv[1])]
mine = [n for n in notes if "AGENT1" in n["body"]]
assert len(mine) == 1, mine
n = mine[0]
assert n["summary"] == "Acte : réponse de la préfecture", n
assert "accusé de réception reçu" in n["body"], n
P
	note "ok: GUI notification: $(grep AGENT1 "$NOTES")"
else
	note "no display: GUI notification not checked"
fi
kill $agent_pid 2>/dev/null || true
wait $agent_pid 2>/dev/null || true
echo "ok: S²LOW login in the keyring, one PIN per agent session, GUI notified"

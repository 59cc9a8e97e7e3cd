#!/bin/sh
# test-s2low-rig.sh - the real `sinadur` CLI against the project's S²LOW rig (tests/s2low:
# nginx with client certificates in front of s2low-service.py, which answers as S²LOW's own
# code does). The SoftHSM fixture token is built on the rig's PKI, so its user-auth key
# (id 05) is the rig's client certificate (account jdupont, authority 1). What is checked is
# what S²LOW itself would see: the rig's admin state and its receipt counters.
. "${SINADUR_SOURCE_ROOT:?}/tests/agent/agent-lib.sh"
. "$SRC/tests/fixtures/lib.sh"
. "$SRC/tests/s2low/rig.sh"
for t in openssl nginx curl xmlsec1; do command -v $t >/dev/null 2>&1 || skip "$t is missing"; done
rig_stop() { for p in $SDR_PIDS; do kill "$p" 2>/dev/null || true; done; }
cleanup_hooks="rig_stop"
S2LOW_STEP=1 s2low_rig_start || fail "the rig did not start"
# The token on the rig's PKI: user-auth = client.pem/key.
mkdir -p "$T/fx"
cp -r "$S2LOW_PKI" "$T/fx/pki"
fx_token
cmp -s "$PKI/user-auth.pem" "$S2LOW_PKI/client.pem" || fail "the token is not on the rig's PKI"
export SINADUR_S2LOW_DB="$T/s2low.db" LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_CACHE_HOME="$T/cache"
AUTH=$(cert_id "$PKI/user-auth.pem")
NOT_REPLACED=12 # exit codes (docs/sinadur.1): files, not found

conf() { # conf URL [extra lines]
	{ printf '[signature]\ntrust_anchors=%s\n[s2low]\nurl=%s\nca_file=%s\ncertificate=%s\n' \
		"$PKI/root.pem" "$1" "$PKI/root.pem" "$AUTH"; shift; for l in "$@"; do echo "$l"; done; } > "$T/c.conf"
}
run() { "$SINADUR" --config "$T/c.conf" --module "$MOD" --pin-fd 3 "$@" 3<<X
1234
X
}
# st PYTHON-EXPRESSION: evaluated on the rig's admin state (d)
st() { s2low_admin state | $SDR_PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
count() { st "d['counts'].get('$1', 0)"; }
# field SEND-ID FIELD: from `sinadur --json status ID --offline`
field() {
	"$SINADUR" --config "$T/c.conf" --json status "$1" --offline 2>/dev/null |
		$SDR_PY -c "import json,sys; s=json.load(sys.stdin)['sends'][0]; print(s.get('$2', ''))"
}
last_id() {
	"$SINADUR" --config "$T/c.conf" --json status --offline 2>/dev/null |
		$SDR_PY -c "import json,sys; print(max(s['id'] for s in json.load(sys.stdin)['sends']))"
}
# until_state SEND-ID STATE: `sinadur status` until the send reaches STATE (30 s at most)
until_state() {
	i=0
	while [ "$(field "$1" state)" != "$2" ]; do
		i=$((i + 1))
		[ $i -le 30 ] || { run status "$1" >&2 || true; fail "send $1 never reached $2"; }
		sleep 1
		run status "$1" > "$T/out" 2>&1 || true
	done
}

# ---- s2low test ----------------------------------------------------------------------
conf "$S2LOW_URL" "chain_file=$PKI/ca.pem"
expect_rc 0 run s2low test
out_has "RGS check: OK"
out_has "Jean DUPONT"
note "ok: s2low test, RGS OK with the intermediate from chain_file"

# Leaf only (no chain_file, the token has no CA): logged in, not RGS, and the fix is named.
conf "$S2LOW_URL"
expect_rc 9 run s2low test
out_has "Connected to S²LOW"
out_has "RGS check: refused"
out_has "chain_file"
# ... and an act sent like that is refused by S²LOW with its RGS message.
sdr_minimal_pdf "$T/acte.pdf"
A="--nature DE --classification 1.1 --date 2026-01-15 --type-acte 99_DE"
run --json send actes $A --number LEAF1 --subject "Sans chaîne" "$T/acte.pdf" > "$T/out" 2>&1 || true
out_has '"state" : "failed"'
out_has "certificat RGS"
[ "$(count actes_received)" = 0 ] || fail "a non-RGS act was received"
note "ok: leaf only -> RGS KO, with chain_file named; the act is refused (nothing received)"

# ---- ACTES ---------------------------------------------------------------------------
conf "$S2LOW_URL" "chain_file=$PKI/ca.pem"
expect_rc 0 run --json send actes $A --number 2026_01 --subject "Délibération budget été" \
	--annexe "$T/acte.pdf" --type-pj 99_AI "$T/acte.pdf"
out_has '"transaction" : "1"'
S1=$(last_id)
until_state "$S1" final
[ "$(field "$S1" status)" = 4 ] || fail "act 1 final at $(field "$S1" status), not 4"
[ "$(st "d['actes']['1']['subject']")" = "Délibération budget été" ] ||
	fail "subject arrived as “$(st "d['actes']['1']['subject']")”"
[ "$(st "len(d['actes']['1']['attachments'])")" = 1 ] || fail "annex not received"
[ "$(st "[h[0] for h in d['actes']['1']['history']]")" = "[1, 2, 3, 4]" ] ||
	fail "status history $(st "[h[0] for h in d['actes']['1']['history']]")"
note "ok: act sent, 1 -> 2 -> 3 -> 4 polled to final, ISO-8859-1 subject intact"

# sinadur ar: the ARActe as S²LOW serves it, written once, never over a file.
expect_rc 0 run ar "$S1" --output "$T/ar1.xml"
out_has "written to"
curl -sS --cacert "$S2LOW_PKI/root.pem" --cert "$S2LOW_PKI/client-chain.pem" --key "$S2LOW_PKI/client.key" \
	"$S2LOW_URL/modules/actes/actes_transac_get_ARActe.php?id=1" > "$T/ar-rig.xml"
grep -q "ARActe" "$T/ar-rig.xml" || fail "the rig serves no ARActe"
cmp -s "$T/ar1.xml" "$T/ar-rig.xml" || fail "ar wrote other bytes than the ARActe"
echo keep > "$T/ar2.xml"
expect_rc $NOT_REPLACED run ar "$S1" --output "$T/ar2.xml"
out_has "already exists"
[ "$(cat "$T/ar2.xml")" = keep ] || fail "ar replaced a file"
mkdir "$T/ardir"
(cd "$T/ardir" && run ar "$S1") > "$T/out" 2>&1 || { cat "$T/out"; fail "ar with the default name"; }
[ -f "$T/ardir/ARActe-2026_01.xml" ] || fail "no ARActe-2026_01.xml: $(ls -A "$T/ardir")"
[ "$(ls -A "$T/ardir" | wc -l)" = 1 ] || fail "ar left a temporary file: $(ls -A "$T/ardir")"
note "ok: sinadur ar writes the ARActe, never over a file"

# Same number: S²LOW's duplicate answer -> to reconcile, nothing new received.
expect_rc 0 run send actes $A --number 2026_01 --subject "Encore" "$T/acte.pdf"
out_has "already received, to reconcile"
[ "$(count actes_received)" = 1 ] || fail "the duplicate created a transaction"
note "ok: duplicate number -> already received, to reconcile"

# Lost answer (stored, no answer): left in `sending`; `status` reconciles through
# list_actes.php and never posts the act again.
s2low_admin fault '{"lose_answer": 1}' >/dev/null
run send actes $A --number 2026_02 --subject "Réponse perdue" "$T/acte.pdf" > "$T/out" 2>&1 || true
S2=$(last_id)
[ "$(field "$S2" state)" = sending ] || { cat "$T/out"; fail "lost answer: $(field "$S2" state), not sending"; }
[ "$(count answers_lost)" = 1 ] || fail "the rig lost no answer"
until_state "$S2" final
[ "$(field "$S2" transaction)" = 2 ] || fail "reconciled to “$(field "$S2" transaction)”, not 2"
# LEAF1 (refused: not RGS), 2026_01, its duplicate, 2026_02 once
[ "$(count actes_create_requests)" = 4 ] || fail "$(count actes_create_requests) create requests, expected 4"
[ "$(count actes_received)" = 2 ] || fail "$(count actes_received) acts received, expected 2"
note "ok: lost answer reconciled by the listing to transaction 2, posted once"

# Upload cut by the proxy after 60000 bytes (the act is larger): nothing stored; the send
# is not lost: `status` through the direct address sends it once.
$SDR_PY -c "
import sys; d = open('$T/acte.pdf','rb').read()
i = d.rindex(b'%%EOF'); open('$T/big.pdf','wb').write(d[:i] + b'%' + b'x' * 400000 + b'\n' + d[i:])"
s2low_proxy_start --drop-upload-after 60000
conf "$S2LOW_PROXY_URL" "chain_file=$PKI/ca.pem"
run send actes $A --number 2026_03 --subject "Coupé" "$T/big.pdf" > "$T/out" 2>&1 || true
S3=$(last_id)
grep -q '"cut": true' "$T/proxy.log" || fail "the proxy cut nothing: $(cat "$T/proxy.log")"
[ "$(count actes_received)" = 2 ] || fail "a cut upload was stored"
case $(field "$S3" state) in sending | queued) ;; *) fail "cut upload: state $(field "$S3" state)" ;; esac
conf "$S2LOW_URL" "chain_file=$PKI/ca.pem"
until_state "$S3" final
[ "$(count actes_received)" = 3 ] || fail "$(count actes_received) acts received, expected 3"
[ "$(st "[t['number'] for t in d['actes'].values()].count('2026_03')")" = 1 ] || fail "2026_03 twice"
note "ok: upload cut after 60000 bytes: nothing stored, sent once afterwards"

# kill -9 of the CLI during a send (slow link): afterwards `status` ends with exactly one
# transaction for the number, whatever the moment of the kill.
s2low_proxy_start --delay 0.3
conf "$S2LOW_PROXY_URL" "chain_file=$PKI/ca.pem"
run send actes $A --number 2026_04 --subject "Tué" "$T/big.pdf" > "$T/out" 2>&1 &
cli=$!
sleep 2.5
kill -9 $cli 2>/dev/null || true
wait $cli 2>/dev/null || true
S4=$(last_id)
note "killed during the send in state $(field "$S4" state)"
conf "$S2LOW_URL" "chain_file=$PKI/ca.pem"
until_state "$S4" final
[ "$(st "[t['number'] for t in d['actes'].values()].count('2026_04')")" = 1 ] ||
	fail "2026_04 received $(st "[t['number'] for t in d['actes'].values()].count('2026_04')") times"
[ "$(count actes_received)" = 4 ] || fail "$(count actes_received) acts received, expected 4"
note "ok: kill -9 during a send: received exactly once"

# ---- Hélios --------------------------------------------------------------------------
cp "$SRC/tests/fuzz/corpus/pes/small-depense.xml" "$T/pes.xml"
expect_rc 0 run --json send pes "$T/pes.xml"
P1=$(last_id)
until_state "$P1" final
[ "$(field "$P1" status)" = 4 ] || fail "good PES final at $(field "$P1" status), not 4"
[ "$(st "[h[0] for h in d['helios']['1']['history']]")" = "[1, 2, 3, 4]" ] ||
	fail "PES history $(st "[h[0] for h in d['helios']['1']['history']]")"
note "ok: good PES 1 -> 2 -> 3 -> 4"
# `ar` of a PES is its acquit (helios_download_acquit.php).
expect_rc 0 run ar "$P1" --output "$T/ar-pes.xml"
grep -q PES_ACQUIT "$T/ar-pes.xml" || fail "ar of a PES wrote no acquit"

# The same bytes again: "doublon" -> to reconcile, not resent.
expect_rc 0 run send pes "$T/pes.xml"
out_has "already received, to reconcile"
[ "$(count helios_received)" = 1 ] || fail "the duplicate PES was received"
note "ok: PES duplicate -> to reconcile"

# Other bytes, same NomFic+CodCol: accepted, then the worker fails it (-1 with the reason).
{ cat "$T/pes.xml"; echo "<!-- autre -->"; } > "$T/pes2.xml"
expect_rc 0 run send pes "$T/pes2.xml"
P2=$(last_id)
until_state "$P2" final
[ "$(field "$P2" status)" = -1 ] || fail "bad PES final at $(field "$P2" status), not -1"
field "$P2" message | grep -q "existe déjà" || fail "reason: $(field "$P2" message)"
note "ok: bad PES -> -1 with S²LOW's reason"

# ---- sinadur-agent runs the queue -------------------------------------------------
# A send left pending by the CLI (slow prefecture: step 3 s) reaches its final state with
# the agent alone, polling every [s2low] poll_interval_s through the bridge's worker.
AGENT="$BUILD/agent/sinadur-agent"
s2low_admin config '{"step": 3}' >/dev/null
conf "$S2LOW_URL" "chain_file=$PKI/ca.pem"
expect_rc 0 run send actes $A --number 2026_05 --subject "Par l'agent" "$T/acte.pdf"
S5=$(last_id)
[ "$(field "$S5" state)" = polling ] || fail "2026_05 is $(field "$S5" state), not polling"
polls=$(count actes_status_requests)
# start_agent SCRIPT-LINES: sinadur-agent --headless on the same queue, output in $T/agent.out
start_agent() {
	printf '%s\n' "$@" > "$T/agent-script"
	chmod 600 "$T/agent-script"
	{ cat "$T/c.conf"; printf 'poll_interval_s=1\n[tokens]\nmodules=%s\n[bridge]\nport=%s\n' \
		"$MOD" "$(sdr_free_port)"; } > "$T/agent.conf"
	"$AGENT" --headless --config "$T/agent.conf" --prompt-script "$T/agent-script" \
		> "$T/agent.out" 2> "$T/agent.err" &
	agent_pid=$!
	sdr_kill_on_exit $agent_pid
}
stop_agent() { kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; }
start_agent "pin 1234" "pin 1234" "pin 1234" "pin 1234" "pin 1234" "pin 1234" "pin 1234" \
	"pin 1234" "pin 1234" "pin 1234" "pin 1234" "pin 1234"
i=0
until grep -q "s2low: send $S5 (actes) final" "$T/agent.out"; do
	i=$((i + 1))
	[ $i -le 60 ] || { cat "$T/agent.out" "$T/agent.err" >&2; stop_agent; fail "the agent did not bring send $S5 to final"; }
	sleep 0.5
done
stop_agent
[ "$(field "$S5" state)" = final ] || fail "the queue says $(field "$S5" state)"
[ "$(field "$S5" status)" = 4 ] || fail "the agent left status $(field "$S5" status)"
[ "$(count actes_status_requests)" -gt "$polls" ] || fail "the agent asked no status"
note "ok: sinadur-agent polled send $S5 to final: $(grep "send $S5" "$T/agent.out")"

# No PIN available (the prompt is cancelled): the agent pauses, and never asks again.
s2low_admin config '{"step": 30}' >/dev/null
expect_rc 0 run send actes $A --number 2026_06 --subject "Sans PIN" "$T/acte.pdf"
start_agent "# no PIN"
i=0
until grep -q "polling paused" "$T/agent.out"; do
	i=$((i + 1))
	[ $i -le 40 ] || { cat "$T/agent.out" "$T/agent.err" >&2; stop_agent; fail "the agent did not pause"; }
	sleep 0.5
done
polls=$(count actes_status_requests)
sleep 3
stop_agent
[ "$(count actes_status_requests)" = "$polls" ] || fail "the paused agent went on polling"
note "ok: without a PIN the agent pauses its polling"

# ---- A certificate from another CA --------------------------------------------------
q() { "$@" >/dev/null 2>&1 || fail "failed: $*"; }
q openssl pkey -in "$S2LOW_PKI/other-client.key" -outform DER -out "$T/o.key.der"
q openssl x509 -in "$S2LOW_PKI/other-client.pem" -outform DER -out "$T/o.der"
for w in "$T/o.key.der privkey" "$T/o.der cert"; do
	set -- $w
	q pkcs11-tool --module "$MOD" --token-label RGS-TEST --login --pin 1234 \
		--write-object "$1" --type "$2" --id 06 --label other-client
done
AUTH=$(cert_id "$S2LOW_PKI/other-client.pem")
conf "$S2LOW_URL" "chain_file=$S2LOW_PKI/other-ca.pem"
expect_rc 10 run s2low test
out_has "certificate"
out_lacks "Connected"
note "ok: certificate of another CA refused: $(head -1 "$T/out")"
echo "ok: sinadur against the S²LOW rig"

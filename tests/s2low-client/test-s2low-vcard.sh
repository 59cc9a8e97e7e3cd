#!/bin/sh
# test-s2low-vcard.sh - S²LOW's TLS client authentication with the key on the virtual PC/SC
# card, seen through OpenSC only. Run by tests/pcsc/pcsc-rig.sh (private mount, network and PID
# namespaces; pcscd config with vpcd, the SoftHSM fixture token, an NSS database for
# libcacard: see tests/pcsc/README.md), with sdr-vcard as its argument or in $SDR_VCARD.
#
# The rig's client certificate and key (tests/s2low, account jdupont) are written on the
# SoftHSM token behind the card (id 06) before the card is plugged: libcacard then serves
# them as a CAC certificate, OpenSC's cac driver reads them, and sinadur, configured with
# OpenSC's module alone, authenticates to nginx with the card's key (the private key never
# leaves SoftHSM: libcacard does the RSA operation through NSS).
. "${SINADUR_SOURCE_ROOT:?}/tests/agent/agent-lib.sh"
. "$SRC/tests/fixtures/lib.sh"
. "$SRC/tests/s2low/rig.sh"
VCARD=${1:-${SDR_VCARD:-}}
for t in openssl nginx curl pcscd pkcs11-tool; do command -v $t >/dev/null 2>&1 || skip "$t is missing"; done
[ -n "$VCARD" ] && [ -x "$VCARD" ] || skip "sdr-vcard was not built (libcacard-dev)"
[ -n "${SDR_RIG_OPENSC:-}" ] && [ -n "${SDR_RIG_CONF:-}" ] || skip "not run by tests/pcsc/pcsc-rig.sh"
rig_stop() { for p in $SDR_PIDS; do kill "$p" 2>/dev/null || true; done; }
cleanup_hooks="rig_stop"

pcscd --foreground --config "$SDR_RIG_CONF" >/dev/null 2>"$T/pcscd.log" &
sdr_kill_on_exit $!
S2LOW_STEP=1 s2low_rig_start || fail "the S²LOW rig did not start"

# The rig's client certificate and key on the token behind the card.
HSM=/usr/lib/softhsm/libsofthsm2.so
openssl pkey -in "$S2LOW_PKI/client.key" -outform DER -out "$T/client.key.der"
openssl x509 -in "$S2LOW_PKI/client.pem" -outform DER -out "$T/client.der"
w() { pkcs11-tool --module "$HSM" --token-label RGS-TEST --login --pin 1234 --id 06 \
	--label s2low-client "$@" > "$T/p11.out" 2>&1 || { cat "$T/p11.out" >&2; fail "pkcs11-tool $*"; }; }
# The card's own user-auth (05) goes: the rig's PKI comes from the same make-pki.sh, so its
# client certificate has the same issuer and serial as the token's user-auth, and NSS (under
# libcacard) keeps one certificate per issuer and serial: either one, not always the same
# (seen: the rig's certificate missing in 4 runs of 7).
for id in 05; do
	for ty in cert privkey pubkey; do
		pkcs11-tool --module "$HSM" --token-label RGS-TEST --login --pin 1234 \
			--delete-object --type $ty --id $id >/dev/null 2>&1 || fail "cannot delete $ty $id"
	done
done
w --write-object "$T/client.key.der" --type privkey --usage-sign --usage-decrypt
w --write-object "$T/client.der" --type cert

"$VCARD" --db "$SDR_RIG_DB" --port "$SDR_RIG_PORT" --reconnect > "$T/vcard.out" 2>"$T/vcard.log" &
sdr_kill_on_exit $!

AUTH=$(cert_id "$S2LOW_PKI/client.pem")
export SINADUR_S2LOW_DB="$T/s2low.db" XDG_CACHE_HOME="$T/cache"
conf() { # conf [extra lines]
	{ printf '[tokens]\nmodules=%s\n[signature]\ntrust_anchors=%s\n[s2low]\nurl=%s\nca_file=%s\ncertificate=%s\n' \
		"$SDR_RIG_OPENSC" "$S2LOW_PKI/root.pem" "$S2LOW_URL" "$S2LOW_PKI/root.pem" "$AUTH"
	  for l in "$@"; do echo "$l"; done; } > "$T/c.conf"
}
run() { "$SINADUR" --config "$T/c.conf" --pin-fd 3 "$@" 3<<X
1234
X
}
conf "chain_file=$S2LOW_PKI/ca.pem"

# The card is there once sinadur lists the rig's certificate through OpenSC (20 s at most).
i=0
until "$SINADUR" --config "$T/c.conf" --json certs 2>/dev/null | grep -q "\"$AUTH\""; do
	i=$((i + 1))
	[ $i -le 40 ] || {
		cat "$T/vcard.out" "$T/vcard.log" >&2; tail -20 "$T/pcscd.log" >&2
		pkcs11-tool --module "$SDR_RIG_OPENSC" -L >&2 2>&1 || true
		"$SINADUR" --config "$T/c.conf" --json certs 2>&1 | grep -E "\"(id|subject_cn)\"" >&2 || true
		fail "OpenSC never showed the rig's certificate on the card"; }
	sleep 0.5
done
note "ok: OpenSC shows the rig's client certificate on the virtual card"

expect_rc 0 run s2low test
out_has "RGS check: OK"
out_has "Jean DUPONT"
[ "$(s2low_admin state | $SDR_PY -c "import json,sys; print(json.load(sys.stdin)['counts'].get('auth_refused', 0))")" = 0 ] ||
	fail "the rig refused the card's certificate"
grep -q "test-rgs" "$T/nginx/access.log" || fail "nginx logged no RGS test request"
note "ok: s2low test authenticated with the card's key (OpenSC), RGS OK with the intermediate"

# An act sent with the card's key: received once by the rig.
sdr_minimal_pdf "$T/acte.pdf"
expect_rc 0 run --json send actes --nature DE --classification 1.1 --date 2026-01-15 \
	--type-acte 99_DE --number CARTE_01 --subject "Envoi par la carte" "$T/acte.pdf"
out_has '"transaction" : "1"'
[ "$(s2low_admin state | $SDR_PY -c "import json,sys; print(json.load(sys.stdin)['counts'].get('actes_received', 0))")" = 1 ] ||
	fail "the act sent with the card was not received once"
note "ok: send actes with the card's key -> received once"

# Leaf only: connected, not RGS, the fix named (the same answer as with SoftHSM).
conf
expect_rc 9 run s2low test
out_has "RGS check: refused"
out_has "chain_file"
note "ok: leaf only through the card -> RGS KO with chain_file named"

# A wrong PIN: refused by the card (libcacard checks it through NSS), nothing connects.
# libcacard answers a wrong VERIFY with 6982 (not 63Cx as real cards do), which OpenSC
# reports as CKR_GENERAL_ERROR: the message is the token's generic error, not "wrong PIN".
before=$(wc -l < "$T/nginx/access.log")
conf "chain_file=$S2LOW_PKI/ca.pem"
set +e
"$SINADUR" --config "$T/c.conf" --pin-fd 3 s2low test > "$T/out" 2>&1 3<<X
9999
X
rc=$?
set -e
[ "$rc" != 0 ] || { cat "$T/out" >&2; fail "a wrong PIN on the card connected"; }
out_lacks "Connected to S²LOW"
[ "$(wc -l < "$T/nginx/access.log")" = "$before" ] || fail "a request went out with a wrong PIN"
note "ok: wrong PIN on the card (exit $rc) -> nothing sent to the server"
echo "# all passed"

#!/bin/sh
# test-s2low-rig-more.sh - the real `sinadur` CLI against the S²LOW rig (tests/s2low), second
# part: --sign with one PIN entry, the classification cache, the downloads (ARActe, slip,
# Hélios acquit), cancel, en_attente, PES_Retour never marked read unless asked, a server
# failing with 500 and a server unreachable (queued, backoff, received once), the choice of
# the authentication certificate. What is checked is what the rig (S²LOW) recorded.
. "${SINADUR_SOURCE_ROOT:?}/tests/agent/agent-lib.sh"
. "$SRC/tests/fixtures/lib.sh"
. "$SRC/tests/s2low/rig.sh"
for t in openssl nginx curl xmlsec1; do command -v $t >/dev/null 2>&1 || skip "$t is missing"; done
rig_stop() { for p in $SDR_PIDS; do kill "$p" 2>/dev/null || true; done; }
cleanup_hooks="rig_stop"
S2LOW_STEP=1 s2low_rig_start || fail "the rig did not start"
mkdir -p "$T/fx"
cp -r "$S2LOW_PKI" "$T/fx/pki"
fx_token
cmp -s "$PKI/user-auth.pem" "$S2LOW_PKI/client.pem" || fail "the token is not on the rig's PKI"
export SINADUR_S2LOW_DB="$T/s2low.db" LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_CACHE_HOME="$T/cache"
AUTH=$(cert_id "$PKI/user-auth.pem")
SIGN=$(cert_id "$PKI/user-rsa.pem")
USAGE=2 NOT_FOUND=3 DOCUMENT=8 NETWORK=10 # exit codes (docs/sinadur.1)

conf() { # conf URL [extra lines]
	{ printf '[signature]\ntrust_anchors=%s\ncity=Brest\npostal_code=29200\ncountry=France\n' "$PKI/root.pem"
	  printf '[s2low]\nurl=%s\nca_file=%s\nchain_file=%s\n' "$1" "$PKI/root.pem" "$PKI/ca.pem"
	  shift; for l in "$@"; do echo "$l"; done; } > "$T/c.conf"
}
# run ARGS: one PIN line on fd 3 (read once: a second PIN request fails)
run() { "$SINADUR" --config "$T/c.conf" --module "$MOD" --pin-fd 3 "$@" 3<<X
1234
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
until_state() {
	i=0
	while [ "$(field "$1" state)" != "$2" ]; do
		i=$((i + 1))
		[ $i -le 30 ] || { run status "$1" >&2 || true; fail "send $1 never reached $2"; }
		sleep 1
		run status "$1" > "$T/out" 2>&1 || true
	done
}
now() { date +%s; }
conf "$S2LOW_URL" "certificate=$AUTH"
sdr_minimal_pdf "$T/acte.pdf"
printf '%%PDF-1.4\n%% annexe\n' > "$T/annexe.pdf"
cat "$T/acte.pdf" >> "$T/annexe.pdf"
A="--nature DE --classification 1.1 --date 2026-01-15 --type-acte 99_DE"

# ---- Classification: fetched, cached, codes checked locally, a newer one refuses the send --
expect_rc 0 run s2low classification
out_has "2024-01-15"
out_has "Marchés publics"
ls "$T/cache/sinadur/"s2low-classification-*.xml >/dev/null 2>&1 || fail "no classification cache"
expect_rc 0 "$SINADUR" --config "$T/c.conf" --json s2low classification --offline
out_has '"code" : "7.2"'
creates=$(count actes_create_requests)
expect_rc $USAGE run send actes --nature DE --classification 9.9 --date 2026-01-15 \
	--type-acte 99_DE --number CL1 --subject "Code inconnu" "$T/acte.pdf"
out_has "9.9 is not in the classification"
[ "$(count actes_create_requests)" = "$creates" ] || fail "an unknown code reached S²LOW"
s2low_admin config '{"classification_date": "2024-06-01"}' >/dev/null
expect_rc $DOCUMENT run send actes $A --number CL2 --subject "Classification périmée" "$T/acte.pdf"
out_has "classification of S²LOW changed"
[ "$(count actes_received)" = 0 ] || fail "an act went out on an outdated classification"
grep -q "2024-06-01" "$T/cache/sinadur/"s2low-classification-*.xml || fail "cache not refreshed"
expect_rc 0 run send actes $A --number CL3 --subject "Classification à jour" "$T/acte.pdf"
[ "$(count actes_received)" = 1 ] || fail "the act on the refreshed classification was not received"
note "ok: classification cached; unknown code refused locally; newer classification -> refused, cache refreshed, then sent"

# ---- send actes --sign: detached signatures of the act and its annex, one PIN entry ----------
expect_rc 0 run --json send actes $A --number SIGNE1 --subject "Acte signé" --sign --cert "$SIGN" \
	--annexe "$T/annexe.pdf" --type-pj 99_AI "$T/acte.pdf"
out_lacks "PIN"
TS=$(st "[t['id'] for t in d['actes'].values() if t['number'] == 'SIGNE1'][0]")
[ -n "$TS" ] || fail "the signed act did not arrive"
sha() { st "d['actes']['$TS']$1"; }
cp "$T/s2low-state/files/$(sha "['acte_sign']")" "$T/acte.sig"
cp "$T/s2low-state/files/$(sha "['acte']['sha1']")" "$T/acte-recu.pdf"
cmp -s "$T/acte-recu.pdf" "$T/acte.pdf" || fail "the act arrived changed"
openssl smime -verify -inform PEM -in "$T/acte.sig" -content "$T/acte-recu.pdf" -binary \
	-CAfile "$PKI/root.pem" -untrusted "$PKI/ca.pem" -purpose any -out /dev/null 2>"$T/v.err" ||
	fail "the act's signature does not verify: $(cat "$T/v.err")"
openssl pkcs7 -in "$T/acte.sig" -print_certs -out "$T/signer.pem" 2>/dev/null
[ "$(cert_id "$T/signer.pem")" = "$SIGN" ] || fail "signed with another certificate than --cert"
[ "$(sha "['attachments_sign'].__len__()")" = 1 ] || fail "the annex's signature did not arrive"
cp "$T/s2low-state/files/$(sha "['attachments_sign'][0]")" "$T/annexe.sig"
cp "$T/s2low-state/files/$(sha "['attachments'][0]['sha1']")" "$T/annexe-recue.pdf"
openssl smime -verify -inform PEM -in "$T/annexe.sig" -content "$T/annexe-recue.pdf" -binary \
	-CAfile "$PKI/root.pem" -untrusted "$PKI/ca.pem" -purpose any -out /dev/null 2>"$T/v.err" ||
	fail "the annex's signature does not verify: $(cat "$T/v.err")"
note "ok: send actes --sign: act and annex signed (ACTES profile, detached PEM) and sent with one PIN entry"

# ---- send pes --sign: signed bordereaux, one PIN, the worker's XAdES check passes -------------
cp "$SRC/tests/fuzz/corpus/pes/small-depense.xml" "$T/pes.xml"
expect_rc 0 run --json send pes --sign --cert "$SIGN" "$T/pes.xml"
P1=$(last_id)
until_state "$P1" final
[ "$(field "$P1" status)" = 4 ] || fail "signed PES final at $(field "$P1" status): $(field "$P1" message)"
PH=$(field "$P1" transaction)
cp "$T/s2low-state/files/$(st "d['helios']['$PH']['sha1']")" "$T/pes-recu.xml"
grep -q "Signature" "$T/pes-recu.xml" || fail "the PES arrived unsigned"
cmp -s "$T/pes-recu.xml" "$T/pes.xml" && fail "the PES arrived unsigned"
note "ok: send pes --sign: signed and accepted by S²LOW's worker (status 4) with one PIN entry"

# ---- ar of a PES: the acquit; bordereau of an act; cancel; en_attente -------------------------
expect_rc 0 run ar "$P1" --output "$T/acquit.xml"
out_has "Acquit of the Treasury"
curl -sS --cacert "$S2LOW_PKI/root.pem" --cert "$S2LOW_PKI/client-chain.pem" --key "$S2LOW_PKI/client.key" \
	"$S2LOW_URL/modules/helios/helios_download_acquit.php?id=$PH" > "$T/acquit-rig.xml"
cmp -s "$T/acquit.xml" "$T/acquit-rig.xml" || fail "ar wrote other bytes than the acquit"
S1=$(st "[t['id'] for t in d['actes'].values() if t['number'] == 'SIGNE1'][0]")
Q1=$("$SINADUR" --config "$T/c.conf" --json status --offline | $SDR_PY -c "
import json,sys; print([s['id'] for s in json.load(sys.stdin)['sends'] if s.get('number') == 'SIGNE1'][0])")
until_state "$Q1" final
expect_rc 0 run bordereau "$Q1" --output "$T/bordereau.pdf"
head -c 5 "$T/bordereau.pdf" | grep -q "%PDF-" || fail "the slip is no PDF"
[ "$(count actes_slips)" = 1 ] || fail "slips served: $(count actes_slips)"
expect_rc 0 run --json cancel "$Q1"
out_has '"cancel_of" : '"$Q1"
C1=$(last_id)
until_state "$C1" final
[ "$(st "d['actes']['$S1']['history'][-1][0]")" = 0 ] || fail "the act is not cancelled in S²LOW"
[ "$(count actes_cancels)" = 1 ] || fail "cancels: $(count actes_cancels)"
expect_rc 0 run --json send actes $A --number ATTENTE1 --subject "En attente" --en-attente "$T/acte.pdf"
out_has '"status" : 17'
note "ok: PES acquit, slip (bordereau), cancel followed to the act's 0 (ANNULE), en_attente -> 17"

# ---- PES_Retour: listed, fetched, never marked read unless --mark-read -----------------------
s2low_admin pes-retour '{"authority_id": 1, "nom": "PES_Retour_été.xml", "content": "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><PES_Retour>é</PES_Retour>"}' >/dev/null
expect_rc 0 run --json retours
out_has "PES_Retour_"
expect_rc 0 run retours --output-dir "$T/retours"
out_has "stay unread"
[ "$(ls "$T/retours" | wc -l)" = 1 ] || fail "retours saved: $(ls "$T/retours")"
[ "$(count pes_retour_marked_read)" = 0 ] || fail "a return was marked read without --mark-read"
expect_rc 0 run retours --output-dir "$T/retours" --mark-read
[ "$(ls "$T/retours" | wc -l)" = 2 ] || fail "the second save replaced the first: $(ls "$T/retours")"
[ "$(count pes_retour_marked_read)" = 1 ] || fail "--mark-read did not mark it"
expect_rc 0 run retours
out_has "No unread PES return"
expect_rc $USAGE run retours --mark-read
note "ok: retours listed and saved, marked read only with --mark-read, never over a file"

# ---- Server 500 on the create, then on the listing: nothing lost, received once --------------
received=$(count actes_received)
s2low_admin fault '{"http_500": 1, "http_500_on": "/modules/actes/actes_transac_create.php"}' >/dev/null
run --json send actes $A --number E500 --subject "Erreur 500" "$T/acte.pdf" > "$T/out" 2>&1 || true
E=$(last_id)
[ "$(field "$E" state)" = sending ] || { cat "$T/out"; fail "after a 500: $(field "$E" state)"; }
field "$E" message | grep -q 500 || fail "the 500 is not told: $(field "$E" message)"
[ "$(field "$E" next_try)" -ge $(($(now) + 30)) ] || fail "no backoff after a 500"
s2low_admin fault '{"http_500": 1, "http_500_on": "/modules/actes/api/list_actes.php"}' >/dev/null
run status "$E" > "$T/out" 2>&1 || true
[ "$(field "$E" state)" = sending ] || fail "a 500 of the listing gave $(field "$E" state)"
until_state "$E" final
[ "$(count http_500)" = 2 ] || fail "the rig failed $(count http_500) times, expected 2"
[ "$(count actes_received)" = $((received + 1)) ] || fail "E500 received $(($(count actes_received) - received)) times"
note "ok: server 500 on the create and on the listing: kept, backoff, reconciled, received once"

# ---- Server unreachable: queued, retried with a growing backoff, received once ---------------
received=$(count actes_received)
conf "https://127.0.0.1:$(sdr_free_port)" "certificate=$AUTH"
expect_rc $NETWORK run send actes $A --number DOWN1 --subject "Injoignable" "$T/acte.pdf"
out_has "stays in the queue"
D=$(last_id)
[ "$(field "$D" state)" = queued ] || fail "unreachable: $(field "$D" state)"
t1=$(field "$D" next_try)
[ "$t1" -ge $(($(now) + 50)) ] || fail "first backoff too short: $t1"
expect_rc $NETWORK run status "$D"
[ "$(field "$D" attempts)" = 2 ] || fail "attempts $(field "$D" attempts)"
[ "$(field "$D" next_try)" -ge $(($(now) + 110)) ] || fail "the backoff did not grow"
conf "$S2LOW_URL" "certificate=$AUTH"
until_state "$D" final
[ "$(count actes_received)" = $((received + 1)) ] || fail "DOWN1 received $(($(count actes_received) - received)) times"
note "ok: unreachable: queued, backoff 60 s then 120 s, sent once when back"

# ---- Several authentication certificates, [s2low] certificate unset -------------------------
# A second one on the key: the rig's shared certificate (same intermediate).
q() { "$@" >/dev/null 2>&1 || fail "failed: $*"; }
q openssl pkey -in "$S2LOW_PKI/shared.key" -outform DER -out "$T/s.key.der"
q openssl x509 -in "$S2LOW_PKI/shared.pem" -outform DER -out "$T/s.der"
for w in "$T/s.key.der privkey" "$T/s.der cert"; do
	set -- $w
	q pkcs11-tool --module "$MOD" --token-label RGS-TEST --login --pin 1234 \
		--write-object "$1" --type "$2" --id 07 --label shared
done
conf "$S2LOW_URL"
expect_rc $USAGE "$SINADUR" --config "$T/c.conf" --module "$MOD" --json s2low test
out_has "Several certificates can connect"
ids=$($SDR_PY -c "
import re; m=open('$T/out').read()
print(' '.join(dict.fromkeys(re.findall(r'([0-9a-f]{32}) \(', m))))")
k=0; n=0
for i in $ids; do n=$((n + 1)); [ "$i" = "$AUTH" ] && k=$n; done
[ "$k" -gt 0 ] || fail "the authentication certificate is not offered: $ids"
note "offered: $ids; choosing $k"
printf 'choose %s\npin 1234\n' "$k" > "$T/script"
chmod 600 "$T/script"
expect_rc 0 "$SINADUR" --config "$T/c.conf" --module "$MOD" --prompt-script "$T/script" s2low test
out_has "Jean DUPONT"
note "ok: several authentication certificates: chosen through the prompt ($n offered); --json keeps the error"
echo "ok: sinadur against the S²LOW rig (sign, classification, downloads, retours, faults)"

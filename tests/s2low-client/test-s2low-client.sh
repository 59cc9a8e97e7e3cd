#!/bin/sh
# test-s2low-client.sh - `sinadur s2low test`, `send actes`, `send pes`, `status` against
# TLS servers that REQUIRE a client certificate and trust only the root CA, so the
# handshake succeeds only when sinadur sends the intermediate CA it got from
# [s2low] chain_file: `openssl s_server -Verify 2 -verify_return_error -CAfile root.pem`, then a small
# S²LOW stand-in (s2low-standin.py). The key is the SoftHSM fixture's user-auth
# (PIN 1234, given once per command through --pin-fd).
. "${SINADUR_SOURCE_ROOT:?}/tests/agent/agent-lib.sh"
. "$SRC/tests/fixtures/lib.sh"
command -v openssl >/dev/null 2>&1 || skip "openssl is missing"
fx_token
HERE="$SRC/tests/s2low-client"
export SINADUR_S2LOW_DB="$T/s2low.db" LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_CACHE_HOME="$T/cache"
cat "$PKI/server.pem" "$PKI/ca.pem" > "$T/server-chain.pem"
pids=""
stop() { for p in $pids; do kill "$p" 2>/dev/null || true; done; }
cleanup_hooks="stop"
wait_port() {
	i=0
	until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 50 ] || fail "port $1 never opened"; sleep 0.1
	done
}
conf() { # conf PORT [extra lines]
	{ printf '[signature]\ntrust_anchors=%s\n[s2low]\nurl=https://127.0.0.1:%s\nca_file=%s\n' \
		"$PKI/root.pem" "$1" "$PKI/root.pem"; shift; for l in "$@"; do echo "$l"; done; } > "$T/c.conf"
}
run() { "$SINADUR" --config "$T/c.conf" --module "$MOD" --pin-fd 3 "$@" 3<<X
1234
X
}

# ---- 1. openssl s_server -Verify 2 -CAfile root: the intermediate must be sent --------
P=$(sdr_free_port)
openssl s_server -quiet -Verify 2 -verify_return_error -CAfile "$PKI/root.pem" -cert "$PKI/server.pem" \
	-cert_chain "$PKI/ca.pem" -key "$PKI/server.key" -accept "$P" -www > "$T/s_server.log" 2>&1 &
pids="$pids $!"
wait_port "$P"
conf "$P" "chain_file=$PKI/ca.pem"
expect_rc 10 run s2low test
# The handshake went through (client certificate verified up to the root); s_server's
# status page is not an S²LOW answer.
out_has "neither OK nor KO"
grep -q "verify error" "$T/s_server.log" && fail "s_server saw a verify error: $(cat "$T/s_server.log")"
note "ok: s_server -Verify 2 -CAfile root accepted the token key with the intermediate sent"
conf "$P"
expect_rc 10 run s2low test
out_has "refused the secure connection"
note "ok: without chain_file (intermediate not sent) the same server refuses the handshake"

# ---- 2. the stand-in ------------------------------------------------------------------
P=$(sdr_free_port)
mkdir -p "$T/st"
python3 "$HERE/s2low-standin.py" "$P" "$T/server-chain.pem" "$PKI/server.key" "$PKI/root.pem" "$T/st" &
pids="$pids $!"
wait_port "$P"
conf "$P" "chain_file=$PKI/ca.pem"
expect_rc 0 run s2low test
out_has "RGS check: OK"
out_has "Jean DUPONT"

# An expired certificate is refused before any connection.
: > "$T/st/log"
conf "$P" "chain_file=$PKI/ca.pem" "certificate=$(cert_id "$PKI/user-expired.pem")"
expect_rc 9 run s2low test
out_has "has expired"
[ ! -s "$T/st/log" ] || fail "a request was made with an expired certificate"
conf "$P" "chain_file=$PKI/ca.pem" "certificate=$(cert_id "$PKI/user-rsa.pem")"
expect_rc 9 run s2low test
out_has "not an authentication certificate"
conf "$P" "chain_file=$PKI/ca.pem"

# Field checks come first: nothing reaches the server.
sdr_minimal_pdf "$T/acte.pdf"
printf 'not a pdf' > "$T/bad.pdf"
A="--nature DE --classification 1.1 --date 2026-01-15 --type-acte 99_DE"
expect_rc 2 run send actes $A --number "2026-01" --subject "Budget" "$T/acte.pdf"
out_has "Number of the act"
expect_rc 2 run send actes $A --number 2026_01 --subject "Budget" --date 2999-01-01 "$T/acte.pdf"
out_has "in the future"
expect_rc 2 run send actes --nature DE --classification 1.1 --date 2026-01-15 --number X1 --subject S "$T/acte.pdf"
out_has "type-acte"
expect_rc 8 run send actes $A --number 2026_01 --subject "Budget" "$T/bad.pdf"
expect_rc 2 run send actes $A --number 2026_01 --subject "Budget" --annexe "$T/acte.pdf" "$T/acte.pdf"
out_has "type-pj"
expect_rc 2 run send actes $A --number 2026_01 --subject "Œuvre" "$T/acte.pdf"
out_has "ISO-8859-1"
[ ! -s "$T/st/log" ] || fail "a refused act reached the server: $(cat "$T/st/log")"

# A good act: sent, ARActe status, subject arrives as ISO-8859-1.
expect_rc 0 run --json send actes $A --number 2026_01 --subject "Délibération budget" \
	--annexe "$T/acte.pdf" --type-pj 99_AI "$T/acte.pdf"
out_has '"state" : "final"'
out_has '"status" : 4'
out_has '"transaction" : "101"'
grep -q "subject Délibération budget" "$T/st/log" || fail "subject not sent as ISO-8859-1: $(cat "$T/st/log")"
grep -q "acte_attachments\[\] type_pj\[\]" "$T/st/log" || fail "annex fields missing"

# Same number again: S²LOW's duplicate signal -> to reconcile, not an error.
expect_rc 0 run send actes $A --number 2026_01 --subject "Encore" "$T/acte.pdf"
out_has "already received, to reconcile"

# Lost answer: the act is created but the connection closes; state stays `sending`;
# `status` reconciles through the listing and never posts the act twice.
touch "$T/st/drop-2026_02"
run send actes $A --number 2026_02 --subject "Perdu" "$T/acte.pdf" > "$T/out" 2>&1 || true
grep -q "being sent" "$T/out" || { cat "$T/out"; fail "lost answer: not left in sending"; }
expect_rc 0 run status
out_has "transaction 102"
n=$(grep -c "POST /modules/actes/actes_transac_create.php" "$T/st/log")
[ "$n" = 3 ] || fail "expected 3 create requests in all, got $n (act sent twice?)"
grep -q "GET /modules/actes/api/list_actes.php" "$T/st/log" || fail "no reconciliation"

# Hélios: a PES, then the same bytes again -> "doublon" = to reconcile, not resent.
cp "$SRC/tests/fuzz/corpus/pes/small-depense.xml" "$T/pes.xml"
expect_rc 0 run --json send pes "$T/pes.xml"
out_has '"state" : "polling"'
out_has '"status" : 7'
out_has "Fichier bien reçu"
expect_rc 0 run send pes "$T/pes.xml"
out_has "already received, to reconcile"
printf '<?xml version="1.0" encoding="UTF-8"?><x/>' > "$T/notpes.xml"
expect_rc 8 run send pes "$T/notpes.xml"

expect_rc 0 run --json status --offline
out_has '"sends"'
expect_rc 3 run status 999
echo "ok: s2low client"

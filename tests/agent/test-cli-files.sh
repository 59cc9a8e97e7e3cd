#!/bin/sh
# Never lose a document, check everything before the PIN (issue 9, points 3-6):
# -o naming the input is refused (plain, symlink, "..", hard link) and the input stays
# byte-identical; an existing output is never replaced (numbered default name, refused
# --output) unless --overwrite; every preflight refusal happens before any PIN is read
# (an empty --pin-fd pipe stays unread, the PIN-tries module's login count is unchanged);
# a key removed mid-batch reports each document and a count (French, --json) and a
# re-run signs only what is left.
. "$(dirname "$0")/agent-lib.sh"
fx_token
command -v openssl >/dev/null 2>&1 || skip "openssl is missing"
RSA=$(cert_id "$PKI/user-rsa.pem")
printf '[signature]\ntrust_anchors=%s\ncity=Brest\npostal_code=29200\n' "$PKI/chain.pem" > "$CONF"
W="$T/work"
mkdir -p "$W/sub"
/usr/bin/python3 "$SRC/docs/samples/make-samples.py" "$W" >/dev/null
cd "$W"
printf '1234\n' > "$T/pin"
S() { fr --config "$CONF" "$@" --module "$MOD" --cert "$RSA" --pin-fd 3 3<"$T/pin"; }
n_ok=0
ok() { n_ok=$((n_ok + 1)); }
same() { cmp -s "$1" "$2" || fail "$1 changed"; }
cp deliberation.pdf ok.pdf
cp deliberation.pdf orig.pdf

# ---- 3. -o naming the input: refused, input untouched -------------------------------------
expect_rc 2 S sign -f cades -o ok.pdf ok.pdf; out_has "document à signer"; same ok.pdf orig.pdf; ok
ln -s ok.pdf link.pdf
expect_rc 2 S sign -f cades -o link.pdf ok.pdf; same ok.pdf orig.pdf; ok
expect_rc 2 S sign -f cades -o sub/../ok.pdf ok.pdf; same ok.pdf orig.pdf; ok
ln ok.pdf hard.pdf
expect_rc 2 S sign -f pades -o hard.pdf ok.pdf; out_has "in-place"; same ok.pdf orig.pdf; ok
# A dangling-free name through ".." that resolves to the input, input given through a link.
expect_rc 2 S sign -f pades -o "$W/sub/../ok.pdf" link.pdf; same ok.pdf orig.pdf; ok
# PES / enveloped XAdES with --output-dir the input's own folder: the same file.
/usr/bin/python3 "$SRC/tests/profiles/gen-pes.py" pes.xml --bordereaux 2 --pieces 1 >/dev/null
cp pes.xml pes-orig.xml
expect_rc 2 S sign -f pes --output-dir . pes.xml; same pes.xml pes-orig.xml; ok
[ -z "$(ls -A . | grep '^\.sinadur-')" ] || fail "a temporary file was left behind"; ok

# ---- 4. existing outputs are never replaced -----------------------------------------------
expect_rc 0 S sign -f pades ok.pdf; [ -f ok-signe.pdf ] || fail "ok-signe.pdf"; ok
cp ok-signe.pdf first.pdf
# Same key, same document: the re-run says "déjà signé" and changes nothing.
expect_rc 0 S sign -f pades ok.pdf; out_has "déjà signé : ok.pdf"; same ok-signe.pdf first.pdf; ok
# A file that is not our signature under the default name: kept, the next number used.
echo "pas une signature" > ok.pdf.p7s
cp ok.pdf.p7s mine.p7s
expect_rc 0 S sign -f cades ok.pdf; out_has "ok.pdf (2).p7s"; out_has "existe déjà"
same ok.pdf.p7s mine.p7s
openssl cms -verify -binary -inform DER -in "ok.pdf (2).p7s" -content ok.pdf -CAfile "$PKI/chain.pem" \
	-purpose any -out /dev/null 2>/dev/null || fail "numbered output does not verify"; ok
# --output naming an existing file: refused; --overwrite replaces it.
echo "à garder" > keep.p7s
cp keep.p7s keep-orig.p7s
expect_rc 2 S sign -f cades -o keep.p7s ok.pdf; out_has "existe déjà"; same keep.p7s keep-orig.p7s; ok
expect_rc 0 S sign -f cades --overwrite -o keep.p7s ok.pdf
openssl cms -verify -binary -inform DER -in keep.p7s -content ok.pdf -CAfile "$PKI/chain.pem" \
	-purpose any -out /dev/null 2>/dev/null || fail "--overwrite did not replace"; ok
# --overwrite never makes the input an output.
expect_rc 2 S sign -f cades --overwrite -o ok.pdf ok.pdf; same ok.pdf orig.pdf; ok
# XAdES enveloped default name: -signe like the others.
set +e; S sign -f xades --enveloped pes-orig.xml > "$T/out" 2>&1; rc=$?; set -e
if ! grep -q "pas disponibles dans cette version" "$T/out"; then
	[ "$rc" = 0 ] || { cat "$T/out"; fail "xades enveloped: exit $rc"; }
	[ -f pes-orig-signe.xml ] || fail "XAdES enveloped default name is not -signe"; ok
fi
# --json says which name was used.
echo "x" > other.txt; echo "pas une signature" > other.txt.p7s
expect_rc 0 S --json sign -f cades other.txt
/usr/bin/python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))["results"][0]
assert r["output"]=="other.txt (2).p7s" and r["existing_kept"]=="other.txt.p7s", r' "$T/out" ||
	fail "--json output name"; ok

# ---- 5. preflight: every refusal before any PIN is read -----------------------------------
# An empty pipe on --pin-fd: reading it would fail with "Aucun code PIN" (exit 2).
pre() { # pre RC FORMAT FILE... : refused before the PIN
	want=$1; shift
	expect_rc "$want" fr --config "${PCONF:-$CONF}" sign --module "$MOD" --cert "$RSA" \
		--pin-fd 3 "$@" 3</dev/null
	out_lacks "Aucun code PIN"
	ok
}
: > vide.pdf
head -c 300 deliberation.pdf > tronque.pdf
pre 8 -f pades vide.pdf; out_has "vide.pdf"
pre 8 -f pades tronque.pdf
if command -v qpdf >/dev/null 2>&1; then
	qpdf --encrypt u o 256 -- deliberation.pdf chiffre.pdf
	pre 8 -f pades chiffre.pdf; out_has "chiffre.pdf"
fi
pre 8 -f pes deliberation.txt
cp pes-orig.xml full.xml
expect_rc 0 S sign -f pes -o full-signe.xml full.xml
pre 1 -f pes full-signe.xml; out_has "déjà signés"
mkdir ro; chmod 555 ro
if [ ! -w ro ]; then pre 12 -f cades --output-dir ro ok.pdf; out_has "ro"; fi
long=$(printf 'n%.0s' $(seq 1 248)).txt
echo x > "$long"
pre 12 -f cades "$long"; out_has "trop long"
# A timestamping server that does not answer (a closed port on loopback).
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PCONF="$T/dead-tsa.conf"
{ cat "$CONF"; printf 'tsa_url=http://127.0.0.1:%s/\n' "$PORT"; } > "$PCONF"
pre 10 -f cades --level T other.txt; out_has "ne répond pas"
PCONF=
# A batch with one bad document: said before the PIN, the good one signed.
cp deliberation.pdf bon.pdf
expect_rc 8 S sign -f pades bon.pdf vide.pdf
out_has "✘ vide.pdf"; out_has "✔ bon.pdf"
[ -f bon-signe.pdf ] || fail "the good document was not signed"
[ ! -e vide-signe.pdf ] || fail "the bad document has an output"; ok

# The PIN-tries module: its login count proves no C_Login happened.
if [ -n "${SDR_TESTP11:-}" ] && [ -e "$SDR_TESTP11" ]; then
	export SDR_TESTP11_DIR="$T/p11"
	mkdir -p "$SDR_TESTP11_DIR"
	logins() { cat "$SDR_TESTP11_DIR/logins" 2>/dev/null || echo 0; }
	P() { fr --config "$CONF" "$@" --module "$SDR_TESTP11" --cert "$RSA" --pin-fd 3 3<"$T/pin"; }
	before=$(logins)
	expect_rc 8 P sign -f pades vide.pdf
	expect_rc 1 P sign -f pes full-signe.xml
	expect_rc 2 P sign -f cades -o ok.pdf ok.pdf
	[ "$(logins)" = "$before" ] || fail "a preflight refusal logged in ($before -> $(logins))"; ok

	# ---- 6. key removed mid-batch ----------------------------------------------------
	mkdir -p lot
	for i in 1 2 3 4 5; do echo "pièce $i" > "lot/p$i.txt"; done
	echo 2 > "$SDR_TESTP11_DIR/remove_after"
	expect_rc 3 P sign -f cades lot/p1.txt lot/p2.txt lot/p3.txt lot/p4.txt lot/p5.txt
	out_has "✔ p1.txt"; out_has "✔ p2.txt"; out_has "✘ p3.txt"
	out_has "· p4.txt : non signé"; out_has "2 documents signés sur 5"
	out_has "relancez la même commande"
	[ -f lot/p1.txt.p7s ] && [ -f lot/p2.txt.p7s ] || fail "signed files missing"
	[ ! -e lot/p3.txt.p7s ] && [ ! -e lot/p4.txt.p7s ] || fail "unsigned files have outputs"
	[ -z "$(ls -A lot | grep '^\.sinadur-')" ] || fail "a temporary file was left in lot/"; ok
	# --json: per-document results plus the top-level error.
	rm -f "$SDR_TESTP11_DIR/removed"; rm -f lot/*.p7s
	echo 1 > "$SDR_TESTP11_DIR/remove_after"
	expect_rc 3 P --json sign -f cades lot/p1.txt lot/p2.txt lot/p3.txt
	/usr/bin/python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
assert r["error"]["code"]=="SDR_ERROR_CARD_REMOVED" and r["error"]["exit_code"]==3, r
assert [x["status"] for x in r["results"]]==["ok","error","not_signed"], r
assert r["signed"]==1 and r["failed"]==1 and r["not_signed"]==1 and r["skipped"]==0, r' "$T/out" ||
		{ cat "$T/out"; fail "--json of a stopped batch"; }; ok
	# Plugged back in: the re-run signs only what is left.
	rm -f "$SDR_TESTP11_DIR/removed" "$SDR_TESTP11_DIR/remove_after"
	cp lot/p1.txt.p7s "$T/p1.p7s"
	expect_rc 0 P sign -f cades lot/p1.txt lot/p2.txt lot/p3.txt lot/p4.txt lot/p5.txt
	out_has "déjà signé : p1.txt"; out_has "✔ p2.txt"; out_has "✔ p5.txt"
	same lot/p1.txt.p7s "$T/p1.p7s"
	[ ! -e "lot/p1.txt (2).p7s" ] || fail "the re-run signed p1 again"
	for i in 2 3 4 5; do
		openssl cms -verify -binary -inform DER -in "lot/p$i.txt.p7s" -content "lot/p$i.txt" \
			-CAfile "$PKI/chain.pem" -purpose any -out /dev/null 2>/dev/null ||
			fail "p$i.txt.p7s does not verify"
	done; ok
else
	note "the PIN-tries module was not built: login count and removal not tested"
fi
chmod 755 ro
echo "# $n_ok checks passed"

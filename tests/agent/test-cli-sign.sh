#!/bin/sh
# sign + verify through the CLI with the SoftHSM token and --pin-fd, in every format
# this build has; outputs checked by independent tools (openssl cms/smime, xmlsec1,
# pdfsig, qpdf) and by our own verify. The PIN never appears anywhere.
. "$(dirname "$0")/agent-lib.sh"
# the certificates name the PKI's OCSP responder: it runs, so verify can say VALID
fx_token --responder
for tool in openssl xmlsec1 pdfsig qpdf; do
	command -v $tool >/dev/null 2>&1 || skip "$tool is missing"
done
printf '[signature]\ntrust_anchors=%s\ncity=Brest\npostal_code=29200\ncountry=France\n' \
	"$PKI/chain.pem" > "$CONF"
RSA=$(cert_id "$PKI/user-rsa.pem")
EC=$(cert_id "$PKI/user-ec.pem")
W="$T/work"
mkdir -p "$W"
/usr/bin/python3 "$SRC/docs/samples/make-samples.py" "$W"
cd "$W"
printf '1234\n' > "$T/pin"
S() { fr --config "$CONF" "$@" --module "$MOD" --pin-fd 3 3<"$T/pin"; }
ALL="$T/all-output"
: > "$ALL"
keep() { cat "$T/out" >> "$ALL"; }
has_format() {
	# "not available in this build" => the format is not linked in: say so, go on.
	if grep -q "pas disponibles dans cette version" "$T/out"; then
		note "$1 not in this build: not tested"
		return 1
	fi
	return 0
}

# ---- CAdES detached (RSA), attached (EC) -------------------------------------------------
expect_rc 0 S sign -f cades --cert "$RSA" deliberation.txt; keep
out_has "deliberation.txt.p7s"
openssl cms -verify -binary -inform DER -in deliberation.txt.p7s -content deliberation.txt \
	-CAfile "$PKI/chain.pem" -purpose any -out /dev/null 2>"$T/ossl" || {
	cat "$T/ossl"; fail "openssl cms -verify (CAdES detached)"; }
expect_rc 0 fr --config "$CONF" verify deliberation.txt.p7s --content deliberation.txt; keep
out_has "VALIDE"
# Another hash: the document's digest with it comes from the same single pass.
expect_rc 0 S sign -f cades --hash sha384 --cert "$EC" -o d384.p7s deliberation.txt; keep
openssl cms -verify -binary -inform DER -in d384.p7s -content deliberation.txt \
	-CAfile "$PKI/chain.pem" -purpose any -out /dev/null 2>"$T/ossl" || {
	cat "$T/ossl"; fail "openssl cms -verify (sha384, EC)"; }
openssl cms -cmsout -print -inform DER -in d384.p7s | grep -q "sha384" || fail "not sha384"
expect_rc 0 S sign -f cades --attached --cert "$EC" --json deliberation.pdf; keep
/usr/bin/python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
assert r["signed"]==1 and r["failed"]==0
x=r["results"][0]
assert x["status"]=="ok" and x["output"].endswith("deliberation.pdf.p7m"), x
assert len(x["sha256"])==64' "$T/out" || fail "sign --json shape"
openssl cms -verify -inform DER -in deliberation.pdf.p7m -CAfile "$PKI/chain.pem" -purpose any \
	-out "$T/extracted" 2>"$T/ossl" || { cat "$T/ossl"; fail "openssl cms -verify (attached)"; }
cmp -s "$T/extracted" deliberation.pdf || fail "attached content differs"

# A changed document: INVALID, exit 6.
cp deliberation.txt changed.txt
echo "ajout frauduleux" >> changed.txt
expect_rc 6 fr --config "$CONF" verify deliberation.txt.p7s --content changed.txt; keep
out_has "INVALIDE"
expect_rc 6 fr --config "$CONF" --json verify deliberation.txt.p7s --content changed.txt
grep -q '"verdict" : "INVALID"' "$T/out" || fail "verify --json verdict"

# ---- Batch: two files, one PIN read (a second read of --pin-fd would fail) ---------------
mkdir -p batch
cp deliberation.txt batch/a.txt
cp deliberation.pdf batch/b.pdf
expect_rc 0 S sign -f cades --cert "$RSA" --output-dir out batch/a.txt batch/b.pdf; keep
[ -f out/a.txt.p7s ] && [ -f out/b.pdf.p7s ] || fail "batch outputs"
[ "$(grep -c '^✔' "$T/out")" = 2 ] || fail "one summary line per file"

# ---- XAdES detached ----------------------------------------------------------------------
set +e; S sign -f xades --cert "$RSA" deliberation.pdf > "$T/out" 2>&1; rc=$?; set -e; keep
if has_format XAdES; then
	[ "$rc" = 0 ] || { cat "$T/out"; fail "xades sign exit $rc"; }
	[ -f "deliberation.pdf - Signature 1.xml" ] || fail "XAdES output name"
	xmlsec1 --verify --id-attr:Id SignedProperties --trusted-pem "$PKI/root.pem" \
		--untrusted-pem "$PKI/ca.pem" "deliberation.pdf - Signature 1.xml" >"$T/x" 2>&1 ||
		{ cat "$T/x"; fail "xmlsec1 --verify (XAdES)"; }
	expect_rc 0 fr --config "$CONF" verify "deliberation.pdf - Signature 1.xml"; keep
	out_has "VALIDE"
	# The next signature takes the next free name.
	expect_rc 0 S sign -f xades --cert "$EC" deliberation.pdf; keep
	[ -f "deliberation.pdf - Signature 2.xml" ] || fail "XAdES second output name"
fi

# ---- PAdES, invisible and visible ---------------------------------------------------------
set +e; S sign -f pades --cert "$RSA" deliberation.pdf > "$T/out" 2>&1; rc=$?; set -e; keep
if has_format PAdES; then
	[ "$rc" = 0 ] || { cat "$T/out"; fail "pades sign exit $rc"; }
	pdfsig deliberation-signe.pdf > "$T/p" 2>&1 || true
	grep -q "Signature is Valid" "$T/p" || { cat "$T/p"; fail "pdfsig"; }
	qpdf --check deliberation-signe.pdf > /dev/null || fail "qpdf --check"
	expect_rc 0 fr --config "$CONF" verify deliberation-signe.pdf; keep
	out_has "VALIDE (PAdES"
	expect_rc 0 S sign -f pades --cert "$RSA" --visible --page 1 --rect 300,60,220,70 \
		--reason "Approbation" --location "Plougastel-Daoulas" -o visible.pdf deliberation.pdf
	keep
	pdfsig visible.pdf 2>&1 | grep -q "Signature is Valid" || fail "pdfsig (visible)"
	# --in-place: the same file, one signature more, the original bytes kept in front.
	cp deliberation.pdf inplace.pdf
	expect_rc 0 S sign -f pades --cert "$RSA" --in-place inplace.pdf; keep
	[ "$(stat -c %s inplace.pdf)" -gt "$(stat -c %s deliberation.pdf)" ] || fail "in place: not signed"
	cmp -s -n "$(stat -c %s deliberation.pdf)" inplace.pdf deliberation.pdf ||
		fail "in place: the original bytes changed"
	[ ! -e inplace-signe.pdf ] || fail "in place wrote another file"
	pdfsig inplace.pdf 2>&1 | grep -q "Signature is Valid" || fail "pdfsig (in place)"
fi

# ---- PES ----------------------------------------------------------------------------------
/usr/bin/python3 "$SRC/tests/profiles/gen-pes.py" pes.xml --bordereaux 2 --pieces 1 >/dev/null
set +e; S sign -f pes --cert "$RSA" pes.xml > "$T/out" 2>&1; rc=$?; set -e; keep
if has_format PES; then
	[ "$rc" = 0 ] || { cat "$T/out"; fail "pes sign exit $rc"; }
	[ -f pes-signe.xml ] || fail "PES output name"
	[ "$(grep -o '<ds:Signature ' pes-signe.xml | wc -l)" = 2 ] || fail "one signature per bordereau"
	xmlsec1 --verify --id-attr:Id Bordereau --trusted-pem "$PKI/root.pem" \
		--untrusted-pem "$PKI/ca.pem" pes-signe.xml >"$T/x" 2>&1 ||
		{ cat "$T/x"; fail "xmlsec1 --verify (PES)"; }
	expect_rc 0 fr --config "$CONF" verify pes-signe.xml; keep
	out_has "VALIDE (PES, 2 signatures)"
	# [signature] city/postal_code from the configuration reach the PES signatures.
	[ "$(grep -o '>Brest<' pes-signe.xml | wc -l)" = 2 ] || fail "PES SignatureProductionPlace"
	grep -q '>29200<' pes-signe.xml || fail "PES PostalCode"
fi

# ---- ACTES (PEM CMS, S2LOW's own check) ----------------------------------------------------
expect_rc 0 S sign -f actes --cert "$RSA" deliberation.pdf; keep
openssl smime -verify -inform PEM -noverify -in deliberation.pdf.sig -content deliberation.pdf \
	-out /dev/null 2>"$T/ossl" || { cat "$T/ossl"; fail "openssl smime -verify (ACTES)"; }

# ---- B-T with a local timestamping authority (tests/cades/pki-responder.py) ----------------
expect_rc 10 S sign -f cades --cert "$RSA" --level T deliberation.txt
out_has "horodatage"
RESPONDER="$SRC/tests/cades/pki-responder.py"
if [ -f "$RESPONDER" ]; then
	PORT=$(/usr/bin/python3 "$RESPONDER" --free-port)
	/usr/bin/python3 "$RESPONDER" "$PKI" "$PORT" 2>"$T/responder.log" &
	RESPONDER_PID=$!
	stop_responder() { kill "$RESPONDER_PID" 2>/dev/null; wait "$RESPONDER_PID" 2>/dev/null; }
	cleanup_hooks="$cleanup_hooks stop_responder"
	i=0
	while ! /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),1)" \
		2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
	CONF_T="$T/sinadur-t.conf"
	{ cat "$CONF"; printf 'tsa_url=http://127.0.0.1:%s/\n' "$PORT"; } > "$CONF_T"
	mkdir -p bt
	cp deliberation.txt bt/
	expect_rc 0 fr --config "$CONF_T" sign --module "$MOD" --pin-fd 3 3<"$T/pin" -f cades \
		--cert "$RSA" --level T bt/deliberation.txt; keep
	expect_rc 0 fr --config "$CONF_T" --json verify bt/deliberation.txt.p7s \
		--content bt/deliberation.txt
	/usr/bin/python3 -c '
import json,sys
s=json.load(open(sys.argv[1]))["files"][0]["signatures"][0]
assert s["level"]=="B-T" and s["timestamp_time"], s' "$T/out" || fail "B-T: level or timestamp"
	note "CAdES B-T through a local TSA: ok"
else
	note "tests/cades/pki-responder.py missing: B-T not tested"
fi

# ---- Certificate checks before anything is asked -------------------------------------------
expect_rc 9 S sign -f cades --cert "$(cert_id "$PKI/user-expired.pem")" deliberation.txt
out_has "a expiré le"
expect_rc 9 S sign -f cades --cert "$(cert_id "$PKI/user-auth.pem")" deliberation.txt
out_has "authentification"
# Several valid signature certificates and no --cert: the choices are listed.
expect_rc 2 S sign -f cades deliberation.txt
out_has "$RSA"
out_has "$EC"

# ---- Audit log: one line per signed document, hashes, never content or PIN ----------------
[ -f "$AUDIT" ] || fail "no audit log"
sha=$(sha256sum deliberation.txt | cut -c1-64)
grep -q "sha256=$sha result=ok" "$AUDIT" || { cat "$AUDIT"; fail "audit line for deliberation.txt"; }
[ "$(stat -c %a "$AUDIT")" = 600 ] || fail "audit log mode"
! grep -q "PLOUGASTEL\|conseil" "$AUDIT" || fail "content in the audit log"

# ---- The PIN never appears --------------------------------------------------------------------
cat "$AUDIT" >> "$ALL"
if grep -qw 1234 "$ALL"; then grep -nw 1234 "$ALL" >&2; fail "the PIN appears in an output"; fi
echo ok

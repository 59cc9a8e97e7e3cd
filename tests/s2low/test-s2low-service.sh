#!/bin/sh
# test-s2low-service.sh - the S²LOW test rig itself: nginx + s2low-service.py + fault proxy,
# driven with curl and file keys. Every answer is compared byte for byte where S²LOW's is known.
set -eu
. "${SINADUR_SOURCE_ROOT:?}/tests/fixtures/lib.sh"
for tool in nginx curl openssl; do
	command -v $tool >/dev/null 2>&1 || { echo "$tool missing"; exit 77; }
done
sdr_tmpdir s2low-rig
. "$SDR_SRC/tests/s2low/rig.sh"
S2LOW_STEP=1
s2low_rig_start
P=$S2LOW_PKI
U=$S2LOW_URL
A=$T/answer
C=$T/curl.err

# req CERT [curl args...]: the answer in $A, the status in $CODE, curl's exit code in $RC
req() {
	who=$1
	shift
	case $who in
	none) set -- "$@" ;;
	leaf) set -- --cert "$P/client.pem" --key "$P/client.key" "$@" ;;
	*) set -- --cert "$P/$who-chain.pem" --key "$P/$who.key" "$@" ;;
	esac
	RC=0
	rm -f "$A"
	CODE=$(curl -sS --cacert "$P/root.pem" -o "$A" -w '%{http_code}' "$@" 2>"$C") || RC=$?
}
# is EXPECTED(printf format) MSG: the answer is exactly these bytes
is() {
	[ -n "${S2LOW_DEBUG:-}" ] && { cat "$A" | od -c | tail -4; }
	printf "$1" > "$T/expected"
	if cmp -s "$A" "$T/expected"; then ok "$2"; else ko "$2: got $(od -c "$A" | head -5)"; cmp "$A" "$T/expected" || true; od -c "$A" | tail -3; fi
}
has() { if grep -q "$1" "$A"; then ok "$2"; else ko "$2: got $(head -c 400 "$A")"; fi; }
counter() { s2low_admin state | $SDR_PY -c "import json,sys; print(json.load(sys.stdin)['counts'].get('$1',0))"; }
first_id() { sed -n 2p "$A"; }

PDF=$T/acte.pdf
sdr_minimal_pdf "$PDF"
SUBJ=$(printf 'D\351lib\351ration n\260 12 : cr\351ation d\047un \253 jardin \273')
create() { # create CERT NUMBER [curl args]
	who=$1 num=$2
	shift 2
	req "$who" -F api=1 -F nature_code=1 -F classif1=1 -F classif2=1 -F "number=$num" \
		-F decision_date=2026-01-15 -F "subject=$SUBJ" -F "acte_pdf_file=@$PDF;type=application/pdf" \
		-F type_acte=99_DE "$@" "$U/modules/actes/actes_transac_create.php"
}

echo "# connection, certificates, accounts"
req client "$U/api/test-connexion.php"
is 'OK' "good client: test-connexion answers OK"
req client "$U/api/test-rgs.php"
is 'OK' "client sending its intermediate: test-rgs OK"
req leaf "$U/api/test-rgs.php"
is 'KO' "client sending only its leaf: test-rgs KO (the chain must come from the handshake)"
req leaf "$U/api/test-connexion.php"
is 'OK' "client sending only its leaf is still logged in"
req other-client "$U/api/test-connexion.php"
if [ "$RC" -ne 0 ] && [ ! -s "$A" ]; then ok "other-CA client refused by nginx (no answer, curl $RC)"; else ko "other-CA client got $CODE"; fi
req none "$U/api/test-connexion.php"
if [ "$RC" -ne 0 ] && [ ! -s "$A" ]; then ok "no client certificate: refused"; else ko "no certificate got $CODE"; fi
req stranger -D "$T/h" "$U/api/test-connexion.php?api=1"
if [ "$CODE" = 302 ] && grep -qi "^Location: https://127.0.0.1:[0-9]*/connexion-status" "$T/h"; then
	ok "certificate without account: 302 to the authentication failure page"; else ko "stranger: $CODE"; fi
req shared "$U/api/test-connexion.php?api=1"
is 'KO\nLa connexion n&#039;a pas pu ?tre ?tablie\n' "shared certificate without Basic: KO (exact bytes)"
req shared -u secretariat:wrong "$U/api/test-connexion.php?api=1"
is 'KO\nLa connexion n&#039;a pas pu ?tre ?tablie\n' "shared certificate, wrong password: KO"
req shared -u mairie2:secret-2 "$U/api/test-connexion.php?api=1"
is 'OK' "shared certificate with Basic: OK"
req shared "$U/api/test-connexion.php"
[ "$CODE" = 302 ] && ok "shared certificate without api=1: 302" || ko "shared no api: $CODE"
req client "$U/_admin/state"
[ "$CODE" = 404 ] && ok "admin calls are not reachable through nginx" || ko "admin via nginx: $CODE"

echo "# ACTES"
s2low_admin config '{"step": 3600}' >/dev/null
req client "$U/modules/actes/actes_classification_fetch.php?api=1"
has '<actes:DateClassification>2024-01-15</actes:DateClassification>' "classification fetched"
create client 2026_D001
if [ "$CODE" = 200 ] && grep -q . "$A" && [ "$(sed -n 1p "$A")" = OK ]; then
	ID1=$(first_id); is "OK\n$ID1\n\n" "create: OK, id, empty line"; else ko "create: $CODE $(cat "$A")"; ID1=0; fi
create client 2026_D001
is 'KO\nUn acte portant le m\352me num\351ro interne existe d\351j\340 dans la base de donn\351es.\nIl faut peut-\352tre ajouter un suffixe au num\351ro.\n' \
	"same number, same authority: the documented KO (ISO-8859-1)"
create shared 2026_D001 -u mairie2:secret-2
[ "$(sed -n 1p "$A")" = OK ] && ok "same number in another authority: OK" || ko "other authority: $(cat "$A")"
create leaf 2026_D002
is 'KO\nLa t\351l\351transmission n\351cessite un certificat RGS&lt;br/&gt;Erreur : unable to verify the first certificate\n' \
	"create without the intermediate in the handshake: RGS KO"
create client 2026-D3
is 'KO\nLe num\351ro n&#039;est pas correct\n' "bad number: KO, HTML-escaped"
req client -F api=1 -F nature_code=1 -F classif1=1 -F number=2026_D004 -F decision_date=2026-01-15 \
	-F "subject=x" -F "acte_pdf_file=@$PDF" "$U/modules/actes/actes_transac_create.php"
is 'KO\nErreur lors de la r\351ception du fichier acte.pdf : typologie absente\n' "type_acte missing: KO"
req client -F api=1 -F nature_code=1 -F classif1=1 -F number=2026_D005 -F decision_date=2026-01-15 \
	-F "subject=x" -F "acte_pdf_file=@$PDF" -F type_acte=99_DE -F "acte_attachments[]=@$PDF;filename=annexe.pdf" \
	"$U/modules/actes/actes_transac_create.php"
is 'KO\nErreur lors de la r\351ception du fichier annexe annexe.pdf : typologie absente\n' "type_pj missing: KO"
create client 2026_D006 -F decision_date=2099-01-01
is 'KO\nLa date de d\351cision est une date dans le futur\n' "future decision date: KO"
req client -F nature_code=1 -F classif1=1 -F number=2026-D007 -F decision_date=2026-01-15 -F subject=x \
	-F "acte_pdf_file=@$PDF" -F type_acte=99_DE "$U/modules/actes/actes_transac_create.php"
if [ "$CODE" = 302 ] && [ "$(counter actes_received)" = 2 ]; then ok "refused create without api=1: 302"; else ko "no api: $CODE"; fi
req client -F api=1 -F nature_code=1 -F classif1=1 -F classif2= -F number=2026_D008 \
	-F decision_date=2026-01-15 -F subject=x -F "acte_pdf_file=@$PDF" -F type_acte=99_DE \
	"$U/modules/actes/actes_transac_create.php"
[ "$CODE" = 500 ] && ok "an empty classifN field: 500" || ko "empty classif2: $CODE"

req client "$U/modules/actes/actes_transac_get_status.php?transaction=$ID1"
is 'OK\n1\n' "new act: status 1 (POSTE)"
s2low_admin config '{"step": 0.5}' >/dev/null
sleep 2
req client "$U/modules/actes/actes_transac_get_status.php?transaction=$ID1"
if [ "$(sed -n 1,2p "$A" | tr '\n' ' ')" = "OK 4 " ] && grep -q '<actes:ARActe' "$A"; then
	ok "status progression to 4 with the ARActe"; else ko "progression: $(cat "$A")"; fi
if grep -q "$SUBJ" "$A"; then ok "ISO-8859-1 subject round trip (ARActe, Latin-1 bytes)"; else ko "subject in ARActe"; fi
req client "$U/modules/actes/api/list_actes.php?status_id=4"
if $SDR_PY -c "
import json,sys; j=json.load(open('$A'))
t=[x for x in j['transactions'] if x['id']=='$ID1']
sys.exit(0 if t and t[0]['subject']=='Délibération n° 12 : création d\'un « jardin »' and t[0]['number']=='2026_D001' else 1)"; then
	ok "list_actes: the act, its subject decoded from ISO-8859-1"; else ko "list_actes: $(cat "$A")"; fi
req client "$U/modules/actes/actes_transac_get_ARActe.php?id=$ID1"
has 'actes:NumeroInterne="2026_D001"' "ARActe download"
req client "$U/modules/actes/actes_transac_get_ARActe.php?id=999"
[ "$CODE" = 302 ] && ok "ARActe of an unknown act: 302" || ko "ARActe unknown: $CODE"
req client "$U/modules/actes/actes_transac_get_status.php?transaction=999"
is 'KO\nNum\303\251ro de transaction invalide.' "status of an unknown act: raw UTF-8, no newline"
req shared -u secretariat:secret-1 "$U/modules/actes/actes_transac_get_status.php?transaction=$ID1"
is 'KO\nAcc\303\250s refus\303\251' "status of another user's act: Accès refusé"
req client -d api=1 -d "id=$ID1" "$U/modules/actes/actes_transac_cancel.php"
if [ "$(sed -n 1p "$A")" = OK ]; then CID=$(first_id); is "OK\n$CID\n\n" "cancel at status 4: OK, cancel id"; else ko "cancel: $(cat "$A")"; fi
req client -d api=1 -d "id=$ID1" "$U/modules/actes/actes_transac_cancel.php"
[ "$(sed -n 1p "$A")" = KO ] && ok "second cancel: KO" || ko "second cancel: $(cat "$A")"
sleep 2
req client "$U/modules/actes/actes_transac_get_status.php?transaction=$ID1"
is 'OK\n0\n' "once the cancel is acknowledged (4) the act is at 0 (ANNULE)"

echo "# Hélios"
s2low_admin config '{"step": 3600}' >/dev/null
pes() { # pes FILE CODCOL NOMFIC
	printf '<?xml version="1.0" encoding="ISO-8859-1"?>\n<PES_Aller><Enveloppe><Parametres><Version V="2"/><TypFic V="PESALR2"/><NomFic V="%s"/></Parametres></Enveloppe><EnTetePES><DteStr V="2026-01-15"/><IdPost V="123456"/><IdColl V="21290178900016"/><CodCol V="%s"/><CodBud V="01"/></EnTetePES><PES_DepenseAller/></PES_Aller>\n' "$3" "$2" > "$1"
}
pes "$T/good.xml" 001 PES_A_001
pes "$T/bad.xml" 0012 PES_A_002
sed 's/2026-01-15/2026-01-16/' "$T/good.xml" > "$T/same-name.xml"
cat > "$T/tmpl.xml" <<'X'
<?xml version="1.0" encoding="ISO-8859-1"?>
<PES_Aller Id="pes1"><Enveloppe><Parametres><Version V="2"/><TypFic V="PESALR2"/><NomFic V="PES_SIG_1"/></Parametres></Enveloppe><EnTetePES><IdColl V="21290178900016"/><CodCol V="001"/></EnTetePES><PES_DepenseAller/><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#pes1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></PES_Aller>
X
HAVE_XMLSEC=0
if command -v xmlsec1 >/dev/null 2>&1 && xmlsec1 --sign --privkey-pem "$P/user-rsa.key,$P/user-rsa.pem" \
	--id-attr:Id PES_Aller --output "$T/signed.xml" "$T/tmpl.xml" 2>"$T/xmlsec.err"; then
	HAVE_XMLSEC=1
	sed 's/NomFic V="PES_SIG_1"/NomFic V="PES_SIG_2"/' "$T/signed.xml" > "$T/tampered.xml"
fi
import_id() { # import_id FILE: import with the good client, print the id
	req client -F "enveloppe=@$1" "$U/modules/helios/api/helios_importer_fichier.php"
	sed -n 's:.*<id>\([0-9]*\)</id>.*:\1:p' "$A"
}
req client -F "enveloppe=@$T/good.xml" "$U/modules/helios/api/helios_importer_fichier.php"
HID=$(sed -n 's:.*<id>\([0-9]*\)</id>.*:\1:p' "$A")
is "<?xml version=\"1.0\"?>\n<import>\n  <id>$HID</id>\n  <resultat>OK</resultat>\n  <message>T\303\251l\303\251chargement du fichier r\303\251ussi.</message>\n</import>\n" \
	"PES import: id, OK (UTF-8 XML)"
req client -F "enveloppe=@$T/good.xml;filename=autre-nom.xml" "$U/modules/helios/api/helios_importer_fichier.php"
is '<?xml version="1.0"?>\n<import>\n  <id/>\n  <resultat>KO</resultat>\n  <message>doublon d\303\251tect\303\251. Ce fichier a d\303\251j\303\240 \303\251t\303\251 post\303\251.</message>\n</import>\n' \
	"same PES again: doublon, no id"
req shared -u mairie2:secret-2 -F "enveloppe=@$T/good.xml" "$U/modules/helios/api/helios_importer_fichier.php"
has '<resultat>KO</resultat>' "same PES from another authority: doublon too (global)"
req leaf -F "enveloppe=@$T/bad.xml" "$U/modules/helios/api/helios_importer_fichier.php"
has "^KO" "PES import without the intermediate: plain-text KO (RGS)"
req client -F "enveloppe=@$T/bad.xml" "$U/modules/helios/api/helios_importer_fichier.php"
BID=$(sed -n 's:.*<id>\([0-9]*\)</id>.*:\1:p' "$A")
[ -n "$BID" ] && ok "bad PES (CodCol of 4 characters) is accepted at import" || ko "bad import: $(cat "$A")"
SID=$(import_id "$T/same-name.xml")
if [ $HAVE_XMLSEC = 1 ]; then GID=$(import_id "$T/signed.xml"); TID=$(import_id "$T/tampered.xml"); fi
req client "$U/modules/helios/api/helios_transac_get_status.php?transaction=$HID"
has "<status>1</status>" "PES status 1 just after import"
s2low_admin config '{"step": 0.5}' >/dev/null
sleep 2
req client "$U/modules/helios/api/helios_transac_get_status.php?transaction=$BID"
if grep -q "<status>-1</status>" "$A" && grep -q "Transaction $BID : .*CodCol" "$A"; then
	ok "bad PES: status -1 after the asynchronous check, with its message"; else ko "bad PES: $(cat "$A")"; fi
req client "$U/modules/helios/api/helios_transac_get_status.php?transaction=$HID"
has "<resultat>OK</resultat>.*<status>4</status>" "good PES: status progression to 4 (acquitted)"
req client "$U/modules/helios/api/helios_transac_get_status.php?transaction=$SID"
has "ce fichier existe d.*<status>-1</status>" "same NomFic and CodCol as an earlier PES: -1"
if [ $HAVE_XMLSEC = 1 ]; then
	req client "$U/modules/helios/api/helios_transac_get_status.php?transaction=$GID"
	has "<status>4</status>" "signed PES: its XAdES signature verified, status 4"
	req client "$U/modules/helios/api/helios_transac_get_status.php?transaction=$TID"
	has "signature.*<status>-1</status>" "signed PES modified after signing: -1"
else
	echo "# xmlsec1 cannot sign here: signed-PES checks skipped ($(head -c 200 "$T/xmlsec.err"))"
fi
req client "$U/modules/helios/helios_download_acquit.php?id=$HID"
has "PES_ACQUIT" "acquit download"
req client "$U/modules/helios/helios_download_acquit.php?id=$BID"
[ "$CODE" = 302 ] && ok "acquit of a failed PES: 302" || ko "acquit bad: $CODE"
req client "$U/modules/helios/api/helios_transac_get_status.php?transaction="
has "<message>Pas de num" "status without id: KO message"

echo "# PES_Retour"
s2low_admin pes-retour "{\"authority_id\": 1, \"nom\": \"PES_Retour_\\u00e9t\\u00e9.xml\", \"content\": \"<?xml version=\\\"1.0\\\" encoding=\\\"ISO-8859-1\\\"?><PES_Retour/>\"}" >/dev/null
req client "$U/modules/helios/api/helios_get_list.php"
RID=$(sed -n 's:.*<pes_retour><id>\([0-9]*\)</id>.*:\1:p' "$A")
[ -n "$RID" ] && ok "PES_Retour listed (unread)" || ko "list: $(cat "$A")"
has "<idColl>212901789</idColl>.*<resultat></resultat>.*<nom>PES_Retour_&#xE9;t&#xE9;.xml</nom>" "PES_Retour list: empty resultat, accents as character references"
req client "$U/modules/helios/api/helios_get_retour.php?id=$RID"
has "<PES_Retour/>" "PES_Retour fetched"
req client "$U/modules/helios/api/helios_get_list.php"
has "<id>$RID</id>" "fetching does not mark it read"
[ "$(counter pes_retour_marked_read)" = 0 ] && ok "nothing marked read unless asked" || ko "marked read"
req client "$U/modules/helios/api/helios_change_status.php?id=$RID"
req client "$U/modules/helios/api/helios_get_list.php"
if ! grep -q "<pes_retour>" "$A" && [ "$(counter pes_retour_marked_read)" = 1 ]; then
	ok "marked read when asked: no longer listed, counted"; else ko "mark read: $(cat "$A")"; fi

echo "# receipts, restart, faults"
[ "$(counter actes_received)" = 2 ] && ok "receipt counter: 2 acts stored" || ko "actes_received $(counter actes_received)"
[ "$(counter helios_received)" = $((3 + 2 * HAVE_XMLSEC)) ] && ok "receipt counter: every PES stored once" || ko "helios_received $(counter helios_received)"
s2low_service_restart
req client "$U/modules/actes/actes_transac_get_status.php?transaction=$ID1"
[ "$(sed -n 2p "$A")" = 0 ] && ok "after restart: the cancelled act is status 0 (state kept)" || ko "restart status: $(cat "$A")"
create client 2026_D001
has "existe d" "after restart: number uniqueness kept"
req client -F "enveloppe=@$T/good.xml" "$U/modules/helios/api/helios_importer_fichier.php"
has "doublon" "after restart: PES duplicate kept"

head -c 3000000 /dev/urandom > "$T/big.bin"
{ cat "$PDF"; cat "$T/big.bin"; } > "$T/big.pdf"
s2low_proxy_start --drop-upload-after 400000
before=$(counter actes_received)
RC=0
curl -sS --cacert "$P/root.pem" --cert "$P/client-chain.pem" --key "$P/client.key" -o "$A" \
	-F api=1 -F nature_code=1 -F classif1=1 -F number=2026_BIG -F decision_date=2026-01-15 -F subject=x \
	-F "acte_pdf_file=@$T/big.pdf" -F type_acte=99_DE \
	"$S2LOW_PROXY_URL/modules/actes/actes_transac_create.php" 2>"$C" || RC=$?
if [ "$RC" -ne 0 ] && [ "$(counter actes_received)" = "$before" ] && grep -q '"cut": true' "$T/proxy.log"; then
	ok "fault proxy cuts the upload: curl fails ($RC), nothing stored"; else ko "cut upload: rc=$RC $(cat "$A")"; fi
s2low_proxy_start --delay 0.4
t0=$(date +%s%N)
req client "$S2LOW_PROXY_URL/api/test-connexion.php"
t1=$(date +%s%N)
if [ "$(cat "$A")" = OK ] && [ $(((t1 - t0) / 1000000)) -ge 800 ]; then
	ok "fault proxy delay: the answer still arrives, late ($(((t1 - t0) / 1000000)) ms)"; else ko "delay: $(cat "$A")"; fi
s2low_admin fault '{"lose_answer": 1}' >/dev/null
create client 2026_LOST
if [ "$RC" -ne 0 ] && [ ! -s "$A" ] && [ "$(counter actes_received)" = $((before + 1)) ]; then
	ok "answer lost after the send was stored (curl $RC)"; else ko "lost answer: rc=$RC code=$CODE"; fi
req client "$U/modules/actes/api/list_actes.php"
has '"number": "2026_LOST"' "the lost send is found again in list_actes"
create client 2026_LOST
has "existe d" "resending it is refused as a duplicate number"
sdr_summary

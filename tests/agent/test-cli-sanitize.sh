#!/bin/sh
# What the CLI prints goes through the one sanitiser: a signature whose signer
# certificate carries terminal escapes, bidi overrides and zero-width characters in
# its names, and a document whose file name does, are shown with those characters
# escaped visibly (<U+XXXX>), never raw; French text stays as it is.
. "$(dirname "$0")/agent-lib.sh"
command -v openssl >/dev/null 2>&1 || skip "openssl is missing"
W="$T/work"
mkdir -p "$W"
cd "$W"
ESC=$(printf '\033')
RLO=$(printf '\342\200\256')   # U+202E RIGHT-TO-LEFT OVERRIDE
ZW=$(printf '\342\200\213')    # U+200B ZERO WIDTH SPACE
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem \
	-out c.pem -days 30 -utf8 -subj "/O=Mairie de Plœmeur/CN=Éloïse ${ESC}[2J${RLO}fdp.exe${ZW}" \
	-addext "keyUsage=critical,nonRepudiation" >/dev/null 2>&1 || fail "openssl req"
NAME="acte${RLO}fdp.pdf"
printf 'délibération\n' > "$NAME"
expect_rc 0 fr sign -f cades --key k.pem --cert-file c.pem "$NAME"
SIG=$(ls ./*.p7s)
expect_rc 7 fr verify "$SIG"
raw() { grep -q "$1" "$T/out" && fail "raw $2 reached the terminal: $(od -c "$T/out" | head -5)"; true; }
raw "$ESC" "ESC"
raw "$RLO" "U+202E"
raw "$ZW" "U+200B"
grep -q '<U+001B>\[2J<U+202E>fdp.exe<U+200B>' "$T/out" || fail "escapes not shown visibly: $(cat "$T/out")"
grep -q 'Éloïse' "$T/out" || fail "French name changed: $(cat "$T/out")"
# The document name in the signing lines too.
expect_rc 0 fr sign -f cades --key k.pem --cert-file c.pem --overwrite -o out.p7s "$NAME"
raw "$RLO" "U+202E (sign)"
grep -q 'acte<U+202E>fdp.pdf' "$T/out" || fail "document name not shown escaped: $(cat "$T/out")"
cat "$T/out"
echo "# sanitised CLI output: ok"

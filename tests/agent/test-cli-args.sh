#!/bin/sh
# CLI argument errors: exit 2 and a clear message (French by default, English with LANG=C).
. "$(dirname "$0")/agent-lib.sh"

echo hello > "$T/doc.txt"
expect_rc 2 fr
expect_rc 2 fr frobnicate
out_has "Commande inconnue"
expect_rc 2 en frobnicate
out_has "Unknown command"
expect_rc 2 fr --no-such-option certs
expect_rc 2 fr sign
out_has "au moins un fichier"
expect_rc 2 fr certs --format cades
out_has "sinadur sign"
expect_rc 2 fr certs "$T/doc.txt"
expect_rc 2 fr verify --level B "$T/doc.txt"
expect_rc 2 fr tokens --report r.html
expect_rc 2 fr sign --detached --attached "$T/doc.txt"
expect_rc 2 fr sign --output a --output-dir b "$T/doc.txt"
expect_rc 2 fr sign --rect 1,2,3 "$T/doc.txt"
expect_rc 2 fr sign --rect 1,2,x,4 "$T/doc.txt"
expect_rc 2 fr sign --page -3 "$T/doc.txt"
expect_rc 2 fr sign --key "$T/k.pem" "$T/doc.txt"
out_has "vont ensemble"
expect_rc 2 fr sign --pin-fd 57 "$T/doc.txt"
out_has "descripteur"
expect_rc 2 fr sign --format docx "$T/doc.txt"
out_has "Format inconnu"
expect_rc 2 fr sign --in-place -f cades "$T/doc.txt"
out_has "in-place"
expect_rc 2 fr sign --level Q "$T/doc.txt"
out_has "Niveau inconnu"
expect_rc 2 fr verify
expect_rc 2 fr verify --at hier "$T/doc.txt"
expect_rc 2 fr --json frobnicate
out_has '"code" : "SDR_ERROR_BAD_REQUEST"'
out_has '"exit_code" : 2'
expect_rc 0 fr version
out_has "sinadur "
expect_rc 0 fr --help
out_has "Commandes"
expect_rc 0 en --help
out_has "Commands"
# LANG=C: the help is transliterated ("..." and straight quotes), never "?".
out_lacks "?"
out_has "COMMAND \[FILE\.\.\.\]"
out_has '"sinadur certs"'
expect_rc 0 en help
out_lacks "?"
# A missing input file: exit 3 ("not found", docs/sinadur.1) before anything else.
expect_rc 3 fr sign "$T/nothing.txt"
out_has "introuvable"
# Not a signature at all: the parse error's exit code (8), text and JSON.
expect_rc 8 fr verify "$T/doc.txt"
out_has "INDÉTERMINÉ"
expect_rc 8 fr --json verify "$T/doc.txt"
out_has '"code" : "SDR_ERROR_'
echo "ok"

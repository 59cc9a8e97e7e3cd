#!/bin/sh
# check-po.sh SRCDIR FR_PO - every translatable message of the sources has a French
# translation (the interface speaks French first), and none is fuzzy.
set -eu
src=$1 po=$2
for t in xgettext msgmerge msgattrib; do
	command -v "$t" >/dev/null || exit 77
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$src/common" "$src/pkcs11" "$src/formats" "$src/agent" "$src/gui" -name '*.c' 2>/dev/null |
	sort > "$tmp/files"
xgettext --from-code=UTF-8 -k_ -kN_ -f "$tmp/files" -o "$tmp/sinadur.pot"
msgmerge -q --no-fuzzy-matching "$po" "$tmp/sinadur.pot" -o "$tmp/merged.po"
stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$tmp/merged.po" 2>&1)
echo "$stats"
case "$stats" in
*untranslated* | *fuzzy*)
	msgattrib --untranslated --no-obsolete "$tmp/merged.po" | grep -A2 '^#:' | head -60
	msgattrib --only-fuzzy --no-obsolete "$tmp/merged.po" | grep -A2 '^#:' | head -60
	exit 1
	;;
esac

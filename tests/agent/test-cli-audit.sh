#!/bin/sh
# The audit log cannot be written (full disk, state folder unusable): signing goes
# on, and stderr (and --json's "audit_error") says the line was lost.
. "$(dirname "$0")/agent-lib.sh"
fx_token
echo "délibération" > "$T/doc.txt"
KEY="--key $PKI/user-rsa.key --cert-file $PKI/user-rsa.pem"

# 1. The state folder is a file: no root needed.
mkdir -p "$XDG_STATE_HOME"
: > "$XDG_STATE_HOME/sinadur"
# shellcheck disable=SC2086
expect_rc 0 fr sign $KEY -o "$T/a.p7s" "$T/doc.txt"
out_has "journal d’audit n’a pas pu être écrit"
[ -s "$T/a.p7s" ] || fail "no signature written"
# shellcheck disable=SC2086
expect_rc 0 fr sign --json $KEY -o "$T/b.p7s" "$T/doc.txt"
/usr/bin/python3 -c '
import json, sys
text = open(sys.argv[1]).read()
doc = json.loads(text[text.index("{"):text.rindex("}") + 1])
assert "audit_error" in doc and doc["signed"] == 1, doc' "$T/out" || fail "--json audit_error"
rm -f "$XDG_STATE_HOME/sinadur"
# A writable log: no warning.
# shellcheck disable=SC2086
expect_rc 0 fr sign $KEY -o "$T/c.p7s" "$T/doc.txt"
out_lacks "audit"
[ -s "$AUDIT" ] || fail "no audit line"
note "state folder unusable: warned; writable: silent"

# 2. A full disk (a 64 KiB tmpfs filled up, in a private mount namespace).
if ! command -v unshare >/dev/null 2>&1 ||
	! unshare --mount --propagation private sh -c \
		"mount -t tmpfs -o size=64k tmpfs '$T' 2>/dev/null && umount '$T'" 2>/dev/null; then
	note "mounting a tmpfs is not permitted here: full-disk case not run"
	echo ok
	exit 0
fi
mkdir -p "$T/full"
cat > "$T/full.sh" <<SH
set -eu
mount -t tmpfs -o size=64k tmpfs "$T/full"
mkdir -p "$T/full/sinadur"
dd if=/dev/zero of="$T/full/fill" bs=4k count=64 2>/dev/null || true
XDG_STATE_HOME="$T/full" env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE "$SINADUR" sign $KEY \
	-o "$T/d.p7s" "$T/doc.txt"
SH
expect_rc 0 unshare --mount --propagation private sh "$T/full.sh"
out_has "journal d’audit n’a pas pu être écrit"
out_has "$T/full/sinadur/audit.log"
[ -s "$T/d.p7s" ] || fail "full disk: no signature"
note "full disk: warned, signature written"
echo ok

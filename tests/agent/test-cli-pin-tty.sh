#!/bin/sh
# No PIN try can be burnt by the CLI: with the project's PKCS#11 test module (which
# counts C_Login calls) and a real pseudo-terminal (pty-drive.py), every PIN the key
# would certainly refuse is refused locally with the login count unchanged: an empty
# PIN (Enter), too short / too long (terminal and --pin-fd), an embedded NUL, the last
# try declined (or answered with the PIN), --pin-fd at the last try, a protected
# authentication path at the last try; the notice of a protected path is printed
# before C_Login; Ctrl-C at the PIN prompt leaves the terminal with its echo.
. "$(dirname "$0")/agent-lib.sh"
[ -n "${SDR_TESTP11:-}" ] && [ -e "$SDR_TESTP11" ] || skip "the PKCS#11 test module is not built"
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"
fx_token
RSA=$(cert_id "$PKI/user-rsa.pem")
DRIVE="$SRC/tests/agent/pty-drive.py"
export SDR_TESTP11_DIR="$T/p11"
mkdir -p "$SDR_TESTP11_DIR"
echo "Délibération" > "$T/doc.txt"
printf '1234\n' > "$T/pin"
passed=0

logins() { cat "$SDR_TESTP11_DIR/logins" 2>/dev/null || echo 0; }
tries() { cat "$SDR_TESTP11_DIR/tries" 2>/dev/null || echo 3; }
reset() {
	rm -f "$SDR_TESTP11_DIR"/* "$T/doc.txt.p7s"
	echo "${1:-3}" > "$SDR_TESTP11_DIR/tries"
}
ok() { passed=$((passed + 1)); }
# drive STEPS... : runs `sinadur sign` (French) on a pty; output in $T/out, status
# ("rc N"/"signal N" then "echo on|off") in $T/status.
drive() {
	printf '%s\n' "$@" > "$T/steps"
	python3 "$DRIVE" "$T/steps" "$T/out" -- env -u LANG -u LC_ALL -u LC_MESSAGES -u LANGUAGE \
		"$SINADUR" sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" > "$T/status" ||
		{ cat "$T/out" >&2; fail "pty-drive: a step timed out"; }
}
status_is() { grep -qx "$1" "$T/status" || { cat "$T/out" "$T/status" >&2; fail "status is not “$1”"; }; }
same_logins() { [ "$(logins)" = "$1" ] || { cat "$T/out" >&2; fail "$2: C_Login was called ($1 -> $(logins))"; }; }
PROMPT='Code PIN de la clé[^\n]*: '
CONFIRM='Tapez[^\n]*\[o/N\] '

# ---- Terminal: Enter, then too long, then the right PIN: one C_Login --------------------------
reset 3
echo 4 > "$SDR_TESTP11_DIR/min_len"
echo 8 > "$SDR_TESTP11_DIR/max_len"
drive "expect $PROMPT" 'send \n' "expect Aucun code PIN n’a été saisi" "expect $PROMPT" \
	'send 123456789\n' "expect trop long" "expect $PROMPT" 'send 1234\n'
status_is "rc 0"
out_has "4 à 8 caractères"
out_has "aucun essai n’a été utilisé"
out_lacks 1234
[ "$(logins)" = 1 ] || fail "terminal: $(logins) C_Login calls for one good PIN"
[ -f "$T/doc.txt.p7s" ] || fail "terminal: nothing signed after the good PIN"
ok

# ---- The users' case: last try, `o`, then Enter three times: no try used ----------------------
reset 1
drive "expect $CONFIRM" 'send o\n' "expect Réponse.*oui" "expect $PROMPT" 'send \n' \
	"expect $PROMPT" 'send \n' "expect $PROMPT" 'send \n'
status_is "rc 2"
same_logins 0 "empty PINs at the last try"
[ "$(tries)" = 1 ] || fail "a try was burnt by empty PINs"
# One confirmation for the whole login, not one per refused entry.
[ "$(grep -c "Tapez" "$T/out")" = 1 ] || fail "the last-try question was asked again"
ok

# ---- Last try declined by typing the PIN at the question: not a yes, not shown ----------------
reset 1
drive "expect $CONFIRM" 'send 1234\n' "expect Réponse.*non"
status_is "rc 4"
out_lacks 1234
out_has "non confirmé"
same_logins 0 "the PIN typed at the last-try question"
ok
reset 1
drive "expect $CONFIRM" 'send non\n' "expect Réponse.*non"
status_is "rc 4"
same_logins 0 "last try declined"
ok

# ---- Ctrl-C at the PIN prompt (after a refused short PIN): echo restored, no login ------------
reset 3
drive "expect $PROMPT" 'send 12\n' "expect trop court" "expect $PROMPT" intr
status_is "signal 2"
status_is "echo on"
same_logins 0 "Ctrl-C"
ok
# ... and at the last-try question.
reset 1
drive "expect $CONFIRM" intr
status_is "signal 2"
status_is "echo on"
same_logins 0 "Ctrl-C at the last-try question"
ok

# ---- --pin-fd: too short, too long, NUL or CR inside: refused, exit 2, no login; CR LF is fine
reset 3
echo 8 > "$SDR_TESTP11_DIR/max_len"
printf '12\n' > "$T/short"
printf '123456789\n' > "$T/long"
printf '12\0004\n' > "$T/nul"
printf '1234\r\n' > "$T/crlf"
expect_rc 2 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/short"
out_has "trop court"
out_has "aucun essai n’a été utilisé"
expect_rc 2 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/long"
out_has "trop long"
expect_rc 2 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/nul"
out_has "caractère"
printf '12\r34\n' > "$T/cr"
expect_rc 2 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/cr"
out_has "caractère"
same_logins 0 "--pin-fd with a PIN the key would refuse"
expect_rc 0 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/crlf"
[ "$(logins)" = 1 ] || fail "--pin-fd with CR LF: $(logins) logins"
ok

# ---- Protected authentication path (the key's own PIN window / PIN pad) -----------------------
# The notice comes before C_Login (the module traces its C_Login on stderr).
reset 3
printf '1234\n' > "$SDR_TESTP11_DIR/protected"
: > "$SDR_TESTP11_DIR/trace"
expect_rc 0 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/pin"
notice=$(grep -n "Tapez le code PIN dans la fenêtre" "$T/out" | head -1 | cut -d: -f1)
login=$(grep -n "sdr-test-p11: C_Login" "$T/out" | head -1 | cut -d: -f1)
[ -n "$notice" ] && [ -n "$login" ] && [ "$notice" -lt "$login" ] ||
	{ cat "$T/out" >&2; fail "protected path: no notice before C_Login"; }
[ "$(logins)" = 1 ] || fail "protected path: $(logins) logins"
ok
# At the last try: --pin-fd refuses, the terminal asks; declined = no C_Login.
reset 1
printf '1234\n' > "$SDR_TESTP11_DIR/protected"
expect_rc 4 fr sign --module "$SDR_TESTP11" --cert "$RSA" "$T/doc.txt" --pin-fd 3 3<"$T/pin"
out_has "qu’un essai"
same_logins 0 "protected path, last try, --pin-fd"
drive "expect $CONFIRM" 'send non\n' "expect Réponse.*non"
status_is "rc 4"
out_has "demandé par la clé elle-même"
same_logins 0 "protected path, last try declined"
[ "$(tries)" = 1 ] || fail "protected path: a try was burnt"
ok
# Confirmed: the notice, then the one C_Login.
: > "$SDR_TESTP11_DIR/trace"
drive "expect $CONFIRM" 'send oui\n' "expect Réponse.*oui" "expect Tapez le code PIN dans la fenêtre" \
	"expect sdr-test-p11: C_Login"
status_is "rc 0"
[ "$(logins)" = 1 ] || fail "protected path confirmed: $(logins) logins"
[ "$(tries)" = 3 ] || fail "protected path confirmed: tries not reset"
ok

echo "# $passed passed, 0 failed"

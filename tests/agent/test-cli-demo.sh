#!/bin/sh
# tests/demo/run-demo.sh (what `./quickstart demo` runs), twice: it must work on a fresh
# home with the demo SoftHSM token, sign in every format, verify, and be re-runnable.
. "$(dirname "$0")/agent-lib.sh"
command -v softhsm2-util >/dev/null 2>&1 || skip "softhsm2-util is missing"
for run in 1 2; do
	set +e
	sh "$SRC/tests/demo/run-demo.sh" "$BUILD" > "$T/demo$run" 2>&1 < /dev/null
	rc=$?
	set -e
	[ "$rc" = 0 ] || { cat "$T/demo$run"; fail "run $run: exit $rc"; }
	grep -q "Jeton de démonstration" "$T/demo$run" || fail "run $run: no demo token"
	for f in "CAdES détachée" "XAdES détachée" "PAdES visible" "PES V2" "ACTES" "Marché public"; do
		grep -q "Formats signés :.*$f" "$T/demo$run" || { cat "$T/demo$run"; fail "run $run: $f not signed"; }
	done
	! grep -q "INVALIDE\|INDÉTERMINÉ" "$T/demo$run" || { cat "$T/demo$run"; fail "run $run: a verification failed"; }
	grep -q "accepté par la vérification de S²LOW" "$T/demo$run" || fail "run $run: ACTES check"
done
[ -f "$HOME/.local/share/sinadur/demo/signatures/rapport.html" ] || fail "no HTML report"
# The token was made once: the second run reused it.
[ "$(ls "$HOME/.local/share/sinadur/demo/token/tokens" | wc -l)" -ge 1 ] || fail "token folder"
echo ok

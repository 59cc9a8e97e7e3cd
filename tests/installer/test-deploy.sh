#!/bin/sh
# test-deploy.sh SINADUR - sinadur deploy browsers --root T: valid JSON with the
# policy's origins (normalised), Firefox's policies.json merged (every other policy
# kept, twice-run idempotent), a non-JSON policies.json left untouched, bad origins
# refused, --remove takes only ours; sinadur doctor sees missing/stale/ok policies.
set -eu
sinadur=$1
t=$(mktemp -d "${TMPDIR:-/tmp}/sinadur-deploy.XXXXXX")
trap 'rm -rf "$t"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
unset SINADUR_SYSCONFDIR
export LANGUAGE=en SINADUR_TEST_NO_DISCOVERY=1
mkdir -p "$t/etc/sinadur" "$t/etc/firefox/policies"
cat >"$t/etc/sinadur/policy.conf" <<'P'
[bridge]
allowed_origins=https://Portail.Megalis.bzh;https://parapheur.exemple.fr:443;https://x.example.fr:8443;
P
cat >"$t/etc/firefox/policies/policies.json" <<'J'
{"policies": {"DisableTelemetry": true, "Certificates": {"ImportEnterpriseRoots": true},
 "SecurityDevices": {"Add": {"Vendor": "/opt/vendor/lib.so"}}}}
J
"$sinadur" deploy browsers --root "$t" >"$t/out1" || fail "deploy exited $?"
cat "$t/out1"
"$sinadur" deploy browsers --root "$t" --json >"$t/out2" || fail "second deploy exited $?"
python3 - "$t" <<'PY' || fail "deployed JSON"
import json, sys
t = sys.argv[1]
want = ["https://portail.megalis.bzh", "https://parapheur.exemple.fr", "https://x.example.fr:8443"]
for p in ("etc/chromium/policies/managed/sinadur.json", "etc/opt/chrome/policies/managed/sinadur.json"):
    c = json.load(open(f"{t}/{p}"))
    assert c == {"LocalNetworkAccessAllowedForUrls": want, "LoopbackNetworkAllowedForUrls": want}, (p, c)
f = json.load(open(f"{t}/etc/firefox/policies/policies.json"))["policies"]
assert f["DisableTelemetry"] is True and f["Certificates"] == {"ImportEnterpriseRoots": True}, f
add = f["SecurityDevices"]["Add"]
assert add["Vendor"] == "/opt/vendor/lib.so", add
assert add["sinadur"].endswith("/p11-kit-proxy.so"), add
second = json.load(open(f"{t}/out2"))["files"]
assert [e["action"] for e in second] == ["unchanged"] * 3, second
print("deployed JSON ok; second run changed nothing")
PY
# doctor: ok now; stale after the policy changes; missing after removal.
SINADUR_SYSCONFDIR=$t/etc/sinadur SINADUR_DEPLOY_ROOT=$t "$sinadur" doctor --json >"$t/doc1" || true
printf '[bridge]\nallowed_origins=https://autre.exemple.fr;\n' >"$t/etc/sinadur/policy.conf"
SINADUR_SYSCONFDIR=$t/etc/sinadur SINADUR_DEPLOY_ROOT=$t "$sinadur" doctor --json >"$t/doc2" || true
python3 - "$t" <<'PY' || fail "doctor deployment checks"
import json, sys
t = sys.argv[1]
def states(f):
    return [b["state"] for b in json.load(open(f))["deployment"]["browser_policies"]]
assert states(f"{t}/doc1") == ["ok", "ok", "ok"], states(f"{t}/doc1")
assert states(f"{t}/doc2") == ["stale", "stale", "ok"], states(f"{t}/doc2")
checks = json.load(open(f"{t}/doc2"))["checks"]
assert any(c["code"] == "browser_policy" and c["status"] == "warning" for c in checks), checks
assert any(c["code"] == "policy" and c["status"] == "ok" for c in checks), checks
print("doctor: ok, then stale after editing the policy")
PY
# A bad origin is refused and nothing is written.
printf '[bridge]\nallowed_origins=http://portail.exemple.fr;\n' >"$t/etc/sinadur/policy.conf"
before=$(cat "$t/etc/chromium/policies/managed/sinadur.json")
if "$sinadur" deploy browsers --root "$t" 2>"$t/err"; then fail "an http origin was accepted"; fi
grep -q 'not a web origin' "$t/err" || fail "no message for the bad origin: $(cat "$t/err")"
[ "$before" = "$(cat "$t/etc/chromium/policies/managed/sinadur.json")" ] || fail "bad policy changed a file"
# Firefox's file when it is not JSON: left untouched, error.
printf '[bridge]\nallowed_origins=https://a.fr;\n' >"$t/etc/sinadur/policy.conf"
cp "$t/etc/firefox/policies/policies.json" "$t/ff.good"
echo '{ broken' >"$t/etc/firefox/policies/policies.json"
if "$sinadur" deploy browsers --root "$t" >/dev/null 2>"$t/err"; then fail "broken policies.json overwritten"; fi
[ "$(cat "$t/etc/firefox/policies/policies.json")" = "{ broken" ] || fail "broken policies.json modified"
cp "$t/ff.good" "$t/etc/firefox/policies/policies.json"
# --remove: our files go, Firefox keeps everything else.
"$sinadur" deploy browsers --root "$t" --remove >/dev/null || fail "--remove exited $?"
[ ! -e "$t/etc/chromium/policies/managed/sinadur.json" ] || fail "--remove kept Chromium's file"
[ ! -e "$t/etc/opt/chrome/policies/managed/sinadur.json" ] || fail "--remove kept Chrome's file"
python3 - "$t" <<'PY' || fail "Firefox after --remove"
import json, sys
f = json.load(open(sys.argv[1] + "/etc/firefox/policies/policies.json"))["policies"]
assert f["SecurityDevices"] == {"Add": {"Vendor": "/opt/vendor/lib.so"}}, f
assert f["DisableTelemetry"] is True, f
PY
# No origins: Chromium files not written, Firefox still registered.
: >"$t/etc/sinadur/policy.conf"
"$sinadur" deploy browsers --root "$t" >/dev/null || fail "deploy without origins exited $?"
[ ! -e "$t/etc/chromium/policies/managed/sinadur.json" ] || fail "Chromium policy without origins"
grep -q p11-kit-proxy "$t/etc/firefox/policies/policies.json" || fail "Firefox not registered"
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "deploy checks passed"

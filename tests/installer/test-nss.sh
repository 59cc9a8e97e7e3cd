#!/bin/sh
# test-nss.sh SINADUR SINADUR_AGENT - per-user NSS registration for Chromium/Chrome
# (sinadur deploy nss; the agent at login when [browsers] nss_register is true),
# in a temporary HOME, checked with NSS's own modutil -list:
#   two runs register p11-kit's proxy once; a database where OpenSC is registered
#   (pkcs11-register) is left alone; $XDG_DATA_HOME/pki/nssdb is registered when it
#   exists; --remove deletes only our entry; the agent registers at start-up when
#   the key is true and not when the policy locks it false.
set -eu
sinadur=$1 agent=$2
. "$SINADUR_SOURCE_ROOT/tests/fixtures/lib.sh"
for t in modutil certutil; do
	command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed (libnss3-tools)"; exit 77; }
done
proxy=$(pkg-config --variable=proxy_module p11-kit-1 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/p11-kit-proxy.so)
[ -f "$proxy" ] || { echo "SKIP: $proxy is missing (p11-kit-modules)"; exit 77; }
sdr_tmpdir sdr-nss
export XDG_DATA_HOME="$HOME/.local/share"
# p11-kit's proxy loads the modules p11-kit knows: none of the host's here.
mkdir -p "$HOME/.config/pkcs11"
printf 'user-config: only\n' >"$HOME/.config/pkcs11/pkcs11.conf"
export SINADUR_SYSCONFDIR="$T/etc"
mkdir -p "$SINADUR_SYSCONFDIR"
db=$HOME/.pki/nssdb
count() { modutil -list -dbdir "sql:$1" 2>/dev/null | grep -c "library name: $2\$" || true; }

"$sinadur" deploy nss >"$T/run1.txt" 2>&1 || { cat "$T/run1.txt"; ko "first run"; }
"$sinadur" deploy nss >"$T/run2.txt" 2>&1 || { cat "$T/run2.txt"; ko "second run"; }
cat "$T/run1.txt" "$T/run2.txt"
[ "$(count "$db" "$proxy")" = 1 ] && ok "two runs: p11-kit's proxy registered once in ~/.pki/nssdb" ||
	ko "p11-kit's proxy registered $(count "$db" "$proxy") times"
grep -q 'already registered' "$T/run2.txt" && ok "the second run says it was there" || ko "second run: $(cat "$T/run2.txt")"
[ "$(stat -c %a "$db")" = 700 ] && ok "the database folder is private" || ko "mode $(stat -c %a "$db")"
# The database still opens for NSS (the internal module first, the key's token listed).
certutil -L -d "sql:$db" >/dev/null 2>&1 && ok "certutil opens the database" || ko "certutil -L"

# A database made by the user before (with a module of theirs) is kept and completed.
rm -rf "$db"
mkdir -p "$db"
modutil -create -dbdir "sql:$db" -force >/dev/null
"$sinadur" deploy nss --json >"$T/run3.json"
grep -q '"state" : "added"' "$T/run3.json" && ok "an existing database is completed" || ko "$(cat "$T/run3.json")"

# Newer Chrome reads $XDG_DATA_HOME/pki/nssdb: registered when it exists.
mkdir -p "$XDG_DATA_HOME/pki/nssdb"
modutil -create -dbdir "sql:$XDG_DATA_HOME/pki/nssdb" -force >/dev/null
"$sinadur" deploy nss >/dev/null
"$sinadur" deploy nss >/dev/null
[ "$(count "$XDG_DATA_HOME/pki/nssdb" "$proxy")" = 1 ] && [ "$(count "$db" "$proxy")" = 1 ] &&
	ok "\$XDG_DATA_HOME/pki/nssdb registered once too" || ko "XDG database"

# --remove deletes ours only.
"$sinadur" deploy nss --remove >/dev/null
[ "$(count "$db" "$proxy")" = 0 ] && [ "$(count "$XDG_DATA_HOME/pki/nssdb" "$proxy")" = 0 ] &&
	ok "--remove deletes the registration" || ko "--remove"
certutil -L -d "sql:$db" >/dev/null 2>&1 && ok "the database is kept" || ko "database gone"
rm -rf "$XDG_DATA_HOME/pki"

# OpenSC registered by pkcs11-register: not a second time through p11-kit.
opensc=$(ls /usr/lib/*/opensc-pkcs11.so 2>/dev/null | head -n 1 || true)
if [ -n "$opensc" ]; then
	modutil -add "OpenSC smartcard framework" -libfile "$opensc" -dbdir "sql:$db" -force >/dev/null 2>&1
	"$sinadur" deploy nss >"$T/run4.txt" 2>&1
	[ "$(count "$db" "$proxy")" = 0 ] && grep -q OpenSC "$T/run4.txt" &&
		ok "OpenSC registered: p11-kit's proxy not added (the key would show twice)" ||
		ko "with OpenSC: $(cat "$T/run4.txt")"
	modutil -delete "OpenSC smartcard framework" -dbdir "sql:$db" -force >/dev/null 2>&1
else
	echo "(no opensc-pkcs11.so: the OpenSC case is not checked)"
fi

# Failures say why and change nothing: a file where the folder should be, a
# database NSS cannot open.
rm -rf "$HOME/.pki"
echo "not a folder" >"$HOME/.pki"
if "$sinadur" deploy nss >"$T/fail1.txt" 2>&1; then ko "a file in place of ~/.pki: success?"; else
	grep -q "$HOME/.pki/nssdb" "$T/fail1.txt" && ok "a file in place of ~/.pki: refused, naming the folder" ||
		ko "message: $(cat "$T/fail1.txt")"
fi
rm -f "$HOME/.pki"
mkdir -p "$db"
echo "garbage" >"$db/cert9.db"
echo "garbage" >"$db/key4.db"
if "$sinadur" deploy nss >"$T/fail2.txt" 2>&1; then ko "a broken database: success?"; else
	grep -q "modutil could not change the NSS database" "$T/fail2.txt" &&
		ok "a database NSS cannot open: modutil's refusal reported" || ko "message: $(cat "$T/fail2.txt")"
fi
[ "$(cat "$db/cert9.db")" = garbage ] && ok "the broken database is left as it was" || ko "cert9.db changed"

# The agent at login.
start_agent() {
	port=$(sdr_free_port)
	printf '[bridge]\nport=%s\n[browsers]\nnss_register=true\n' "$port" >"$T/agent.conf"
	"$agent" --headless --config "$T/agent.conf" >"$T/agent.out" 2>"$T/agent.err" </dev/null &
	apid=$!
	sdr_kill_on_exit "$apid"
}
stop_agent() { kill "$apid" 2>/dev/null || true; wait "$apid" 2>/dev/null || true; }
rm -rf "$HOME/.pki"
start_agent
i=0
while [ "$i" -lt 60 ] && ! grep -q 'registered' "$T/agent.err" 2>/dev/null; do
	sleep 0.5
	i=$((i + 1))
done
stop_agent
[ "$(count "$db" "$proxy")" = 1 ] && ok "the agent registers the key at start-up (nss_register=true)" ||
	ko "agent at login: $(cat "$T/agent.err")"
rm -rf "$HOME/.pki"
printf '[browsers]\nnss_register=false\n' >"$SINADUR_SYSCONFDIR/policy.conf"
"$sinadur" doctor --config "$T/agent.conf" --json >"$T/doctor.json" 2>/dev/null || true
grep -A3 '"nss"' "$T/doctor.json" | tr -d ' \n' | grep -q '"nss_register":false,"locked":true' &&
	ok "doctor: nss_register false, locked by the policy" || ko "doctor: $(grep -A3 '"nss"' "$T/doctor.json")"
start_agent
i=0
while [ "$i" -lt 40 ] && ! grep -q listening "$T/agent.out" 2>/dev/null; do
	sleep 0.25
	i=$((i + 1))
done
# Time for a registration that must not happen (it takes well under a second).
sleep 2
stop_agent
[ ! -e "$db" ] && ok "the agent does not register when the policy locks nss_register=false" ||
	ko "registered despite the policy"
sdr_summary

#!/bin/sh
# test-package.sh SRCDIR BUILDDIR - the Debian package: built by make-fast-deb.sh
# (installed files of a /usr build + dpkg-deb; installer/build-deb is the full
# debhelper path), lintian without errors, the contents, the user unit valid, the
# maintainer scripts run in a private mount namespace (postinst writes the browser
# policies, purge removes only ours).
set -eu
src=$1 build=$2
for t in dpkg-deb dpkg-shlibdeps dpkg-buildflags dh_installdeb lintian python3; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "SKIP: $t is not installed (./quickstart installs it)"; exit 77; }
done
out=$build/tests/installer
mkdir -p "$out"
deb=$out/sinadur.deb
fails=0
# The maintainer scripts read the real /etc/sinadur (bind-mounted below).
unset SINADUR_SYSCONFDIR
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
sh "$src/tests/installer/make-fast-deb.sh" "$src" "$out/deb-build" "$deb"

echo "== lintian"
lintian --tag-display-limit 0 "$deb" >"$out/lintian.txt" 2>&1 || true
cat "$out/lintian.txt"
grep -q '^E:' "$out/lintian.txt" && fail "lintian reports errors"

echo "== contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' >"$out/contents.txt"
for f in ./usr/bin/sinadur ./usr/bin/sinadur-agent ./usr/libexec/sinadur/sinadur-p11-probe \
	./usr/lib/systemd/user/sinadur-agent.service \
	./etc/sinadur/policy.conf ./etc/sinadur/sinadur.conf ./etc/xdg/autostart/sinadur-agent.desktop \
	./usr/share/man/man1/sinadur.1.gz ./usr/share/man/man1/sinadur-agent.1.gz \
	./usr/share/locale/fr/LC_MESSAGES/sinadur.mo ./usr/share/bash-completion/completions/sinadur \
	./usr/share/icons/hicolor/scalable/apps/sinadur.svg ./usr/share/doc/sinadur/copyright; do
	grep -qx "$f" "$out/contents.txt" || fail "$f is not in the package"
done
grep -q '^\./usr/share/applications/.*\.desktop$' "$out/contents.txt" ||
	fail "no application .desktop file"
grep -q '^\./usr/local' "$out/contents.txt" && fail "files under /usr/local"
dpkg-deb -f "$deb" Depends | grep -q 'pcscd' || fail "Depends lacks pcscd"
dpkg-deb -f "$deb" Depends | grep -q 'p11-kit' || fail "Depends lacks p11-kit"
dpkg-deb -f "$deb" Recommends | grep -q 'opensc' || fail "Recommends lacks opensc"
[ "$(dpkg-deb -f "$deb" Version)" = "$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)" ] ||
	fail "the version is not meson.build's"

x=$(mktemp -d "${TMPDIR:-/tmp}/sinadur-x.XXXXXX")
trap 'rm -rf "$x"' EXIT INT TERM
dpkg-deb -x "$deb" "$x/root"
dpkg-deb -e "$deb" "$x/DEBIAN"
# The binaries look for their translations where the package puts them.
grep -q /usr/share/locale "$x/root/usr/bin/sinadur" || fail "sinadur does not use /usr/share/locale"
LANGUAGE=fr LANG=C.UTF-8 "$x/root/usr/bin/sinadur" deploy 2>&1 | grep -q 'Usage\|Utilisation' ||
	fail "sinadur deploy without browsers gives no usage"
# The module probe: where the binaries look for it, executable, and working.
probe=/usr/libexec/sinadur/sinadur-p11-probe
for b in sinadur sinadur-agent; do
	grep -q "$probe" "$x/root/usr/bin/$b" || fail "$b does not look for $probe"
done
[ -x "$x/root$probe" ] || fail "$probe is not executable"
"$x/root$probe" /nonexistent/module.so >"$out/probe-missing.txt" || fail "$probe failed"
grep -qx 'stage no-file' "$out/probe-missing.txt" || fail "$probe gave no report: $(cat "$out/probe-missing.txt")"
if [ -f /usr/lib/softhsm/libsofthsm2.so ]; then
	mkdir -p "$x/softhsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$x/softhsm/tokens" >"$x/softhsm/conf"
	SOFTHSM2_CONF=$x/softhsm/conf "$x/root$probe" /usr/lib/softhsm/libsofthsm2.so \
		>"$out/probe-softhsm.txt" || fail "$probe failed on SoftHSM"
	grep -qx 'stage ok' "$out/probe-softhsm.txt" || fail "$probe on SoftHSM: $(cat "$out/probe-softhsm.txt")"
fi
bash -n "$x/root/usr/share/bash-completion/completions/sinadur" || fail "bash completion syntax"
words=$(bash -c '. "$1"; COMP_WORDS=(sinadur de); COMP_CWORD=1; _sinadur; echo "${COMPREPLY[*]}"' \
	sh "$x/root/usr/share/bash-completion/completions/sinadur")
[ "$words" = deploy ] || fail "bash completion of 'sinadur de' gave '$words'"

echo "== user unit"
grep -q '^Restart=on-failure' "$x/root/usr/lib/systemd/user/sinadur-agent.service" || fail "no Restart=on-failure"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$x/units"
	sed "s|^ExecStart=/usr/bin/|ExecStart=$x/root/usr/bin/|" \
		"$x/root/usr/lib/systemd/user/sinadur-agent.service" >"$x/units/sinadur-agent.service"
	if XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$x} systemd-analyze --user --man=no verify \
		"$x/units/sinadur-agent.service" >"$out/unit-verify.txt" 2>&1; then
		echo "systemd-analyze verify: ok"
	else
		cat "$out/unit-verify.txt"
		# Only the unit's own lines count (the host's units may be incomplete here).
		grep -q 'sinadur-agent.service' "$out/unit-verify.txt" && fail "the user unit is invalid"
	fi
else
	echo "systemd-analyze is not installed: unit not verified"
fi
grep -q '^X-GNOME-HiddenUnderSystemd=true' "$x/root/etc/xdg/autostart/sinadur-agent.desktop" ||
	fail "the autostart entry is not hidden under systemd"

echo "== maintainer scripts (private mount namespace)"
if command -v unshare >/dev/null 2>&1 && unshare -m --propagation private true 2>/dev/null; then
	mkdir -p "$x/etc/sinadur" "$x/etc/chromium" "$x/etc/opt" "$x/etc/firefox/policies" \
		"$x/etc/systemd" "$x/var/lib/systemd"
	printf '[bridge]\nallowed_origins=https://portail.example.fr;\n' >"$x/etc/sinadur/policy.conf"
	echo '{"policies": {"DisableTelemetry": true}}' >"$x/etc/firefox/policies/policies.json"
	unshare -m --propagation private sh -eu -c '
		x=$1
		# debhelper'"'"'s snippets (deb-systemd-helper) write /etc/systemd/user and
		# /var/lib/systemd: private copies too.
		for d in etc/sinadur etc/chromium etc/opt etc/firefox etc/systemd var/lib/systemd; do
			mkdir -p /$d 2>/dev/null || true
			mount --bind "$x/$d" /$d
		done
		# systemctl preset (deb-systemd-helper) looks for the unit where dpkg puts it.
		mkdir -p "$x/user-units"
		cp -a /usr/lib/systemd/user/. "$x/user-units/" 2>/dev/null || true
		cp "$x/root/usr/lib/systemd/user/sinadur-agent.service" "$x/user-units/"
		mount --bind "$x/user-units" /usr/lib/systemd/user
		# Fake loginctl and systemctl (first on PATH) record their arguments: the
		# restart of running agents (agnes has a user manager, bruno none);
		# systemctl calls without --machine (deb-systemd-helper'"'"'s preset) go to the
		# real one. /run/user is a private copy.
		mkdir -p "$x/fakebin" "$x/run-user/1000/systemd" "$x/run-user/1001"
		real=$(command -v systemctl || echo /bin/false)
		cat >"$x/fakebin/loginctl" <<-EOF
			#!/bin/sh
			echo "loginctl \$*" >>"$x/calls.txt"
			[ "\${FAKE_LOGINCTL_RC:-0}" = 0 ] || { echo "Failed to connect to bus" >&2; exit 1; }
			printf "%6s %s\\n" 1000 agnes 1001 bruno
		EOF
		cat >"$x/fakebin/systemctl" <<-EOF
			#!/bin/sh
			case "\$*" in
			*--machine=*) echo "systemctl \$*" >>"$x/calls.txt"; exit "\${FAKE_SYSTEMCTL_RC:-0}" ;;
			esac
			exec "$real" "\$@"
		EOF
		chmod +x "$x/fakebin/loginctl" "$x/fakebin/systemctl"
		[ -d /run/user ] || mkdir -p /run/user
		mount --bind "$x/run-user" /run/user
		calls() { cat "$x/calls.txt" 2>/dev/null || true; }
		# As dpkg calls them (deb-systemd-helper insists).
		ms() { DPKG_MAINTSCRIPT_PACKAGE=sinadur DPKG_MAINTSCRIPT_NAME=$1 \
			PATH=$x/fakebin:$x/root/usr/bin:$PATH sh "$x/DEBIAN/$@"; }
		ms postinst configure
		wants=/etc/systemd/user/graphical-session.target.wants/sinadur-agent.service
		[ -L "$wants" ] || { echo "postinst did not enable the user unit ($wants)"; exit 1; }
		if calls | grep -q try-restart; then echo "a first installation restarted agents: $(calls)"; exit 1; fi
		# Upgrade from 0.0.9: the agent of the user with a manager, only.
		rm -f "$x/calls.txt"
		ms postinst configure 0.0.9 >"$x/upgrade.out" 2>&1 || { cat "$x/upgrade.out"; echo "postinst upgrade failed"; exit 1; }
		[ "$(calls | grep "^systemctl ")" = "systemctl --user --machine=agnes@ daemon-reload
systemctl --user --machine=agnes@ --no-block try-restart sinadur-agent.service" ] ||
			{ echo "upgrade: not daemon-reload then try-restart for agnes only: $(calls)"; exit 1; }
		grep -q "agent of agnes restarted" "$x/upgrade.out" || { cat "$x/upgrade.out"; echo "no restart message"; exit 1; }
		# systemctl fails: the installation goes on, and says so.
		rm -f "$x/calls.txt"
		FAKE_SYSTEMCTL_RC=1 ms postinst configure 0.0.9 >"$x/upgrade-fail.out" 2>&1 ||
			{ cat "$x/upgrade-fail.out"; echo "postinst failed when systemctl failed"; exit 1; }
		calls | grep -q "try-restart" || { echo "the failing systemctl was not called: $(calls)"; exit 1; }
		grep -q "agent of agnes was not restarted" "$x/upgrade-fail.out" ||
			{ cat "$x/upgrade-fail.out"; echo "no message when the restart failed"; exit 1; }
		# No logind (loginctl fails): nothing called, the installation goes on.
		rm -f "$x/calls.txt"
		FAKE_LOGINCTL_RC=1 ms postinst configure 0.0.9 >"$x/upgrade-nologind.out" 2>&1 ||
			{ cat "$x/upgrade-nologind.out"; echo "postinst failed without logind"; exit 1; }
		if calls | grep -q "^systemctl "; then echo "systemctl called without logind: $(calls)"; exit 1; fi
		echo "postinst upgrade: try-restart for agnes only, install unaffected by failing systemctl/loginctl"
		rm -f "$x/calls.txt"
		cp /etc/chromium/policies/managed/sinadur.json "$x/after-install-chromium.json"
		cp /etc/firefox/policies/policies.json "$x/after-install-firefox.json"
		FAKE_SYSTEMCTL_RC=1 ms prerm remove
		calls | grep -qx "systemctl --user --machine=agnes@ --no-block stop sinadur-agent.service" ||
			{ echo "prerm remove did not stop agnes'"'"'s agent: $(calls)"; exit 1; }
		ms postrm remove
		[ -f /etc/chromium/policies/managed/sinadur.json ] || { echo "remove lost the policies"; exit 1; }
		ms postrm purge
		[ ! -e /etc/chromium/policies/managed/sinadur.json ] || { echo "purge kept sinadur.json"; exit 1; }
		[ ! -e /etc/opt/chrome/policies/managed/sinadur.json ] || { echo "purge kept Chrome policy"; exit 1; }
		[ ! -e "$wants" ] && [ ! -L "$wants" ] || { echo "purge kept the user unit enabled"; exit 1; }
		cp /etc/firefox/policies/policies.json "$x/after-purge-firefox.json"
		[ -f /etc/sinadur/policy.conf ] || { echo "purge removed the admin policy (dpkg does that)"; exit 1; }
		# The installed sinadur finds its probe at its absolute libexec path.
		if [ -f /usr/lib/softhsm/libsofthsm2.so ]; then
			mount --bind "$x/root/usr/libexec" /usr/libexec
			env -u SINADUR_P11_PROBE SOFTHSM2_CONF=$x/softhsm/conf LANG=C.UTF-8 \
				"$x/root/usr/bin/sinadur" doctor --module /usr/lib/softhsm/libsofthsm2.so \
				>"$x/doctor.txt" 2>&1 || true
			grep -q "Module /usr/lib/softhsm/libsofthsm2.so loaded" "$x/doctor.txt" ||
				{ cat "$x/doctor.txt"; echo "the installed sinadur did not probe SoftHSM"; exit 1; }
			echo "the installed sinadur probed SoftHSM with $x/root/usr/libexec mounted on /usr/libexec"
		fi
	' sh "$x" || fail "maintainer scripts"
	python3 - "$x" <<'PY' || fail "browser policies after postinst/purge"
import json, sys
x = sys.argv[1]
c = json.load(open(x + "/after-install-chromium.json"))
assert c["LocalNetworkAccessAllowedForUrls"] == ["https://portail.example.fr"], c
assert c["LoopbackNetworkAllowedForUrls"] == ["https://portail.example.fr"], c
f = json.load(open(x + "/after-install-firefox.json"))["policies"]
assert f["DisableTelemetry"] is True, f
assert f["SecurityDevices"]["Add"]["sinadur"].endswith("p11-kit-proxy.so"), f
p = json.load(open(x + "/after-purge-firefox.json"))
assert p == {"policies": {"DisableTelemetry": True}}, p
print("postinst wrote the policies; purge removed only ours")
PY
else
	echo "unshare -m is not permitted here: maintainer scripts not run (the deploy test covers the logic)"
fi
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "package checks passed"

#!/bin/sh
# test-chroot.sh SRCDIR BUILDDIR - the package in a clean Debian 12 root, as IT
# installs it: debootstrap (minbase, plus systemd for systemd-analyze) from the apt
# source this machine is configured with, then inside the root, unattended:
#   install   the admin's policy.conf put first, then apt-get install -y of the
#             .deb (Depends only), --force-confold; sinadur --version, sinadur
#             doctor as a user (policy read and valid, browser policies in
#             place), systemd-analyze --user verify of the unit, the unit enabled
#             for every user, the browser policy files valid JSON with the
#             policy's origins;
#   upgrade   to a newer build: the user's settings (~/.config/sinadur) and queued
#             sends ($XDG_STATE_HOME/sinadur/s2low.db, made by the real sinadur
#             against an unreachable S2LOW) unchanged, the admin's policy kept;
#   purge     apt-get purge sinadur, then the packages the installation brought:
#             the root's file list is the one before the installation, but for
#             what the user made and apt's and dpkg's own records.
# The debootstrap root is cached as a tarball in $SINADUR_TEST_CACHE (default
# /var/cache/sinadur-tests), keyed by the Date of the apt lists and the sources:
# a cold run debootstraps (about a minute here), later runs unpack it (seconds).
# Downloaded .debs are kept there too (hard links). SINADUR_CHROOT_NEXT_DEB=FILE
# upgrades to FILE (e.g. installer/build-deb's package) instead of the second fast
# build; SINADUR_CHROOT_RECOMMENDS=1 installs the Recommends too;
# SINADUR_KEEP_CHROOT=1 keeps the work folder. Needs root, debootstrap,
# unshare and a bookworm host (the .deb's library versions are the host's).
set -eu
src=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }

# ---- inside the private mount namespace (re-executed below) -------------------
if [ "${3:-}" = --inner ]; then
	work=$4 tarball=$5 mirror=$6
	root=$work/root
	fails=0
	fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
	inroot() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"; }
	asuser() { inroot runuser -u agnes -- /usr/bin/env HOME=/home/agnes \
		XDG_RUNTIME_DIR=/tmp/agnes-run "$@"; }
	if [ -f "$tarball" ]; then
		t0=$(date +%s)
		mkdir "$root"
		tar -C "$root" --zstd -xf "$tarball"
		echo "== cached Debian 12 root $(basename "$tarball") unpacked in $(($(date +%s) - t0)) s"
	else
		t0=$(date +%s)
		echo "== debootstrap --variant=minbase bookworm from $mirror (no cached root)"
		if ! debootstrap --variant=minbase --include=systemd bookworm "$root" "$mirror" \
			>"$work/debootstrap.log" 2>&1; then
			tail -n 20 "$work/debootstrap.log"
			echo "FAIL: debootstrap from $mirror (log above)"
			exit 1
		fi
		# The host's Debian sources (updates and security too: the .deb's shlibs
		# come from the host's libraries).
		cp "$work/sources.list" "$root/etc/apt/sources.list"
		# Nothing is started by maintainer scripts inside the root.
		printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
		chmod 0755 "$root/usr/sbin/policy-rc.d"
		mount -t proc proc "$root/proc"
		inroot apt-get update -qq >"$work/apt-update.log" 2>&1 ||
			{ cat "$work/apt-update.log"; echo "FAIL: apt-get update in the root"; exit 1; }
		umount "$root/proc"
		inroot apt-get clean
		tar -C "$root" --zstd -cf "$tarball.$$" . && mv "$tarball.$$" "$tarball"
		echo "   debootstrap, apt-get update and the cache: $(($(date +%s) - t0)) s," \
			"$(du -m "$tarball" | cut -f1) MiB"
	fi
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	mount -t proc proc "$root/proc"
	# apt's terminal log wants a pty.
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null || true
	mkdir -p "$root/tmp/sinadur-test"
	cp "$work/sinadur_prev.deb" "$work/sinadur_next.deb" "$work/policy.conf" "$root/tmp/sinadur-test/"

	echo "== a user with settings and a queued send"
	inroot useradd -m -u 1500 -s /bin/sh agnes
	mkdir -p "$root/home/agnes/.config/sinadur"
	printf '[signature]\ncity=Brest\n[s2low]\nurl=https://127.0.0.1:1\n' \
		>"$root/home/agnes/.config/sinadur/sinadur.conf"
	printf '%%PDF-1.4\n%%%%EOF\n' >"$root/home/agnes/deliberation.pdf"
	# The real sinadur (this build) queues an ACTES send; S2LOW cannot be reached,
	# so it stays queued. /home is the root's, so the paths in the queue are the
	# user's own.
	mount --bind "$root/home" /home
	. "$work/fx/env"
	echo 1234 >"$work/pin"
	HOME=/home/agnes XDG_CONFIG_HOME= XDG_STATE_HOME= SINADUR_SYSCONFDIR=$work/no-etc \
		"$build/agent/sinadur" send actes /home/agnes/deliberation.pdf --nature DE \
		--classification 1.1 --number 2026_042 --date 2026-03-02 --subject "Test" \
		--type-acte 99_DE --module /usr/lib/softhsm/libsofthsm2.so --pin-fd 3 \
		3<"$work/pin" </dev/null >"$work/send.txt" 2>&1 && rc=0 || rc=$?
	# S²LOW unreachable: the send stays queued, exit 10 (sinadur(1), since issue 13's send).
	[ "$rc" = 10 ] && grep -q 'waiting to be sent\|en attente' "$work/send.txt" ||
		{ cat "$work/send.txt"; fail "queueing a send (exit $rc)"; }
	umount /home
	[ -f "$root/home/agnes/.local/state/sinadur/s2low.db" ] || fail "no queue in ~/.local/state/sinadur"
	chown -R 1500:1500 "$root/home/agnes"

	# Everything but what the user makes, the package managers' own records and
	# /run (a tmpfs on a real system: adduser's and dbus's runtime folders).
	snapshot() {
		(cd "$root" && find . -xdev \( -path ./proc -o -path ./home/agnes -o -path ./tmp -o -path ./run \
			-o -path ./var/cache/apt -o -path ./var/lib/apt -o -path ./var/log \
			-o -path ./var/lib/dpkg -o -path ./var/cache/debconf -o -path ./etc/ld.so.cache \
			-o -path ./var/cache/ldconfig \) -prune -o -print | LC_ALL=C sort) >"$1"
	}
	snapshot "$work/files-before.txt"
	inroot dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/packages-before.txt"

	echo "== install (policy first, then apt-get install -y, Depends only)"
	mkdir -p "$root/etc/sinadur"
	cp "$work/policy.conf" "$root/etc/sinadur/policy.conf"
	mkdir -p "$root/var/cache/apt/archives"
	for d in "$work/archives"/*.deb; do
		[ -f "$d" ] && { ln "$d" "$root/var/cache/apt/archives/" 2>/dev/null || cp "$d" "$root/var/cache/apt/archives/"; }
	done
	t0=$(date +%s)
	# SINADUR_CHROOT_RECOMMENDS=1 measures the installation with the Recommends.
	norec=--no-install-recommends
	[ -z "${SINADUR_CHROOT_RECOMMENDS:-}" ] || norec=
	if inroot apt-get install -y -q $norec -o Dpkg::Options::=--force-confold \
		/tmp/sinadur-test/sinadur_prev.deb >"$work/install.log" 2>&1; then
		echo "   installed in $(($(date +%s) - t0)) s:" \
			"$(grep -c '^Setting up' "$work/install.log") packages set up"
	else
		tail -n 30 "$work/install.log"
		fail "apt-get install of the package"
	fi
	for d in "$root/var/cache/apt/archives"/*.deb; do
		[ -f "$d" ] && [ ! -f "$work/archives/$(basename "$d")" ] &&
			{ ln "$d" "$work/archives/" 2>/dev/null || cp "$d" "$work/archives/"; }
	done
	grep -i 'warning\|error' "$work/install.log" | grep -v '^Get:\|^Selecting\|^Preparing\|^Unpacking' || true
	cmp -s "$work/policy.conf" "$root/etc/sinadur/policy.conf" || fail "the admin's policy.conf was replaced"
	snapshot "$work/files-installed.txt"
	added=$(LC_ALL=C comm -13 "$work/files-before.txt" "$work/files-installed.txt" | wc -l)
	echo "   $added paths added (the package and its dependencies)"

	echo "== installed: sinadur --version, doctor, the unit, the browser policies"
	v=$(inroot sinadur --version 2>&1) || fail "sinadur --version: $v"
	echo "   $v"
	echo "$v" | grep -qF "$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)" ||
		fail "sinadur --version does not give meson.build's version"
	# No key here: doctor may report problems, but it must run and read the policy.
	rc=0
	asuser sinadur doctor --json >"$work/doctor.json" 2>"$work/doctor.err" || rc=$?
	# 13: problems found (no key, no pcscd running in the root).
	[ "$rc" -eq 0 ] || [ "$rc" -eq 13 ] || { cat "$work/doctor.err"; fail "sinadur doctor exit $rc"; }
	asuser sinadur doctor >"$work/doctor.txt" 2>&1 || true
	grep -q 'policy.conf read and valid' "$work/doctor.txt" ||
		{ cat "$work/doctor.txt"; fail "doctor does not report the policy read and valid"; }
	unit=/usr/lib/systemd/user/sinadur-agent.service
	mkdir -p "$root/tmp/agnes-run"
	chown 1500 "$root/tmp/agnes-run"
	if asuser systemd-analyze --user --man=no verify "$unit" >"$work/verify.txt" 2>&1; then
		echo "   systemd-analyze --user verify: ok"
	else
		cat "$work/verify.txt"
		grep -q 'sinadur-agent' "$work/verify.txt" && fail "systemd-analyze --user verify of the unit"
	fi
	[ -L "$root/etc/systemd/user/graphical-session.target.wants/sinadur-agent.service" ] ||
		fail "the user unit is not enabled for every user"
	python3 - "$root" "$work/doctor.json" <<'PY' || fail "browser policies or doctor's view"
import json, sys
root, doctor = sys.argv[1:3]
want = ["https://portail.example.fr", "https://parapheur.example.fr:8443"]
for p in ("/etc/chromium/policies/managed/sinadur.json",
          "/etc/opt/chrome/policies/managed/sinadur.json"):
    c = json.load(open(root + p))
    assert c["LocalNetworkAccessAllowedForUrls"] == want, (p, c)
    assert c["LoopbackNetworkAllowedForUrls"] == want, (p, c)
f = json.load(open(root + "/etc/firefox/policies/policies.json"))["policies"]
assert f["SecurityDevices"]["Add"]["sinadur"].endswith("/p11-kit-proxy.so"), f
d = json.load(open(doctor))
states = {b["browser"]: b["state"] for b in d["deployment"]["browser_policies"]}
assert set(states.values()) == {"ok"}, states
assert d["deployment"]["policy_present"] is True, d["deployment"]
print("   browser policies: valid JSON with the policy's origins; doctor: %s" % states)
PY
	asuser sinadur status --offline --json >"$work/queue-before.json" 2>&1 ||
		{ cat "$work/queue-before.json"; fail "sinadur status --offline"; }
	grep -q '"state" : "queued"' "$work/queue-before.json" || fail "the send is not queued"
	(cd "$root/home/agnes" && find .config .local -type f | LC_ALL=C sort | xargs sha256sum) \
		>"$work/user-before.txt"

	echo "== upgrade to the next build"
	t0=$(date +%s)
	inroot apt-get install -y -q $norec -o Dpkg::Options::=--force-confold \
		/tmp/sinadur-test/sinadur_next.deb >"$work/upgrade.log" 2>&1 ||
		{ tail -n 30 "$work/upgrade.log"; fail "apt-get install of the next build"; }
	grep -q 'Unpacking sinadur .* over ' "$work/upgrade.log" || fail "not an upgrade"
	echo "   upgraded in $(($(date +%s) - t0)) s: $(inroot dpkg-query -W -f '${Version}' sinadur)"
	(cd "$root/home/agnes" && find .config .local -type f | LC_ALL=C sort | xargs sha256sum) \
		>"$work/user-after.txt"
	cmp -s "$work/user-before.txt" "$work/user-after.txt" ||
		{ diff "$work/user-before.txt" "$work/user-after.txt"; fail "the upgrade changed the user's files"; }
	asuser sinadur status --offline --json >"$work/queue-after.json" 2>&1 || true
	cmp -s "$work/queue-before.json" "$work/queue-after.json" ||
		{ diff "$work/queue-before.json" "$work/queue-after.json"; fail "the queue changed"; }
	cmp -s "$work/policy.conf" "$root/etc/sinadur/policy.conf" || fail "the upgrade replaced policy.conf"
	[ -f "$root/etc/chromium/policies/managed/sinadur.json" ] || fail "the upgrade lost the browser policy"
	echo "   settings, queued send and policy kept"

	echo "== purge"
	inroot dpkg-query -W -f '${Package}\n' | LC_ALL=C sort >"$work/packages-installed.txt"
	inroot apt-get purge -y -q sinadur >"$work/purge.log" 2>&1 ||
		{ tail -n 30 "$work/purge.log"; fail "apt-get purge sinadur"; }
	grep -i 'warning\|sinadur:' "$work/purge.log" || true
	[ -z "$(inroot dpkg-query -W -f '${Status}' sinadur 2>/dev/null)" ] ||
		fail "dpkg still knows sinadur after the purge: $(inroot dpkg-query -W -f '${Status}' sinadur)"
	# Then what the installation brought (its dependencies), so that the root can
	# be compared with the one before: what is left is what sinadur left.
	deps=$(LC_ALL=C comm -13 "$work/packages-before.txt" "$work/packages-installed.txt" | grep -vx sinadur || true)
	# shellcheck disable=SC2086
	inroot apt-get purge -y -q --autoremove $deps >>"$work/purge.log" 2>&1 ||
		{ tail -n 30 "$work/purge.log"; fail "apt-get purge of the dependencies"; }
	snapshot "$work/files-after.txt"
	if cmp -s "$work/files-before.txt" "$work/files-after.txt"; then
		echo "   the root's files are those before the installation" \
			"($(wc -l <"$work/files-before.txt") paths compared, the $added added all gone)"
	else
		diff "$work/files-before.txt" "$work/files-after.txt" | head -n 40
		fail "the purge left files behind (or removed some)"
	fi
	(cd "$root/home/agnes" && find .config .local -type f | LC_ALL=C sort | xargs sha256sum) |
		cmp -s - "$work/user-before.txt" || fail "the purge touched the user's files"
	umount "$root/dev/pts" 2>/dev/null || true
	umount "$root/proc"
	[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
	echo "clean-root checks passed"
	exit 0
fi

# ---- outside: can this machine do it? ----------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mount namespace)"
for t in debootstrap chroot unshare zstd dpkg-deb python3 curl flock softhsm2-util; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (./quickstart installs it)"
done
unshare -m --propagation private true 2>/dev/null || skip "unshare -m is not permitted here"
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] ||
	skip "the host is ${VERSION_CODENAME:-unknown}, not bookworm: the .deb's library versions would not match Debian 12"
[ -x "$build/agent/sinadur" ] || skip "$build/agent/sinadur is not built"
# The host's Debian sources, as apt sees them (sources.list and .sources alike).
sources=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	'Identifier: Packages' 2>/dev/null | awk '$2 ~ /^bookworm/ { print "deb " $0 }' | LC_ALL=C sort -u)
mirror=$(echo "$sources" | awk '$3 == "bookworm" { print $2; exit }')
[ -n "$mirror" ] || skip "no bookworm apt source is configured (/etc/apt/sources.list*)"
if ! curl -sS -o /dev/null --max-time 30 -f "${mirror%/}/dists/bookworm/Release" 2>"${TMPDIR:-/tmp}/sdr-curl.$$"; then
	why=$(cat "${TMPDIR:-/tmp}/sdr-curl.$$")
	rm -f "${TMPDIR:-/tmp}/sdr-curl.$$"
	skip "the configured apt source $mirror cannot be reached ($why): no clean Debian root can be made"
fi
rm -f "${TMPDIR:-/tmp}/sdr-curl.$$"
cache=${SINADUR_TEST_CACHE:-/var/cache/sinadur-tests}
mkdir -p "$cache/archives"
# Key: the Date of the host's bookworm lists, and the sources (mirror change).
lists=$(ls /var/lib/apt/lists/*_dists_bookworm_InRelease /var/lib/apt/lists/*_dists_bookworm_Release 2>/dev/null | head -n 1)
[ -n "$lists" ] || skip "no apt lists for bookworm (run apt-get update)"
date=$(date -u -d "$(sed -n 's/^Date: //p' "$lists" | head -n 1)" +%Y%m%dT%H%M%SZ)
key=$date-$(echo "$sources" | sha256sum | cut -c1-8)
tarball=$cache/bookworm-minbase-$key.tar.zst

out=$build/tests/installer
mkdir -p "$out"
work=$(mktemp -d "$out/chroot.XXXXXX")
# Removed from outside the namespace: its mounts are gone (or invisible) by then.
[ -n "${SINADUR_KEEP_CHROOT:-}" ] || trap 'rm -rf --one-file-system "$work"' EXIT INT TERM
echo "$sources" >"$work/sources.list"
ln -s "$cache/archives" "$work/archives"

echo "== two builds of the package (an older version, then this one)"
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)
sh "$here/make-fast-deb.sh" "$src" "$out/deb-build" "$work/sinadur_prev.deb" "$version~prev1"
if [ -n "${SINADUR_CHROOT_NEXT_DEB:-}" ]; then
	# The upgrade to a given package (installer/build-deb's, say) instead.
	cp "$SINADUR_CHROOT_NEXT_DEB" "$work/sinadur_next.deb"
else
	sh "$here/make-fast-deb.sh" "$src" "$out/deb-build" "$work/sinadur_next.deb" "$version"
fi
cat >"$work/policy.conf" <<'EOF'
# The test's administrator policy.
[bridge]
allowed_origins=https://portail.example.fr;https://parapheur.example.fr:8443;
[signature]
city=Quimper
[support]
text=Assistance : 02 98 00 00 00
EOF
sh "$src/tests/fixtures/softhsm-fixture.sh" "$work/fx" >/dev/null

# One run at a time builds the cached root (another worktree may be at it).
rc=0
flock "$cache/lock" unshare -m --propagation private sh "$0" "$src" "$build" --inner "$work" \
	"$tarball" "$mirror" || rc=$?
# Older cached roots are not needed any more.
for f in "$cache"/bookworm-minbase-*.tar.zst; do
	[ "$f" = "$tarball" ] || rm -f "$f"
done
exit "$rc"

#!/bin/sh
# make-fast-deb.sh SRCDIR BUILDDIR OUT.deb [VERSION] - the package without a full
# rebuild, for the tests: a build folder of its own (prefix /usr, the distribution's
# flags, gui disabled, kept between runs so later runs are incremental) compiles only
# what is installed; "meson install --destdir" fills a staging tree; the debhelper
# steps that matter for the contents are done by hand (strip, gzip of the man pages,
# copyright and changelog, md5sums, shlibs Depends from dpkg-shlibdeps); the
# maintainer scripts and conffiles are debhelper's own (dh_installsystemduser and
# dh_installdeb run on the staging tree, so #DEBHELPER# holds the real snippets);
# dpkg-deb --build makes the .deb. installer/build-deb remains the full debhelper
# path. VERSION (default: meson.build's) is the package version only (the
# upgrade test builds an older one); the binaries report meson.build's.
set -eu
src=$1 bdir=$2 deb=$3
version=${4:-$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n 1)}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
if [ ! -f "$bdir/build.ninja" ]; then
	CFLAGS=$(dpkg-buildflags --get CFLAGS) CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS) \
		LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
		meson setup --prefix=/usr --buildtype=plain -Dwerror=false -Dgui=disabled \
		-Dslow_tests=false "$bdir" "$src" >"$bdir.setup.log" 2>&1 ||
		{ cat "$bdir.setup.log" >&2; exit 1; }
fi
# A kept build folder may predate a new target: let ninja regenerate it first
# (meson compile resolves target names from the old introspection data).
nice ninja -C "$bdir" build.ninja >"$bdir.regen.log" 2>&1 ||
	{ tail -n 40 "$bdir.regen.log" >&2; exit 1; }
nice meson compile -C "$bdir" sinadur sinadur-agent sinadur-p11-probe fr.mo >"$bdir.compile.log" 2>&1 ||
	{ tail -n 40 "$bdir.compile.log" >&2; exit 1; }
# The staging tree is debian/sinadur of a debhelper work folder.
work=$(mktemp -d "${TMPDIR:-/tmp}/sinadur-stage.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
stage=$work/debian/sinadur
mkdir -p "$stage"
meson install -C "$bdir" --no-rebuild --quiet --destdir "$stage" >/dev/null
for b in "$stage"/usr/bin/* "$stage"/usr/libexec/sinadur/*; do
	[ -L "$b" ] || ! file -b "$b" | grep -q ELF ||
		strip --remove-section=.comment --remove-section=.note --strip-unneeded "$b"
done
find "$stage/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
doc=$stage/usr/share/doc/sinadur
mkdir -p "$doc"
cp "$src/installer/debian/copyright" "$doc/copyright"
"$src/installer/make-changelog" "$version" | gzip -9n >"$doc/changelog.gz"
chmod -R u+rwX,go+rX,go-w "$stage"
mkdir -p "$stage/DEBIAN"
for f in control postinst prerm postrm; do cp "$src/installer/debian/$f" "$work/debian/$f"; done
"$src/installer/make-changelog" "$version" >"$work/debian/changelog"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e"$stage/usr/bin/sinadur" \
	-e"$stage/usr/bin/sinadur-agent" -e"$stage/usr/libexec/sinadur/sinadur-p11-probe" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
python3 - "$src/installer/debian/control" "$version" "$(dpkg --print-architecture)" "$size" \
	"$shlibs" >"$stage/DEBIAN/control" <<'PY'
import re, sys
path, version, arch, size, shlibs = sys.argv[1:6]
src, binary = open(path, encoding="utf-8").read().split("\n\n", 1)
maint = re.search(r"^Maintainer: (.*)$", src, re.M).group(1)
section = re.search(r"^Section: (.*)$", src, re.M).group(1)
priority = re.search(r"^Priority: (.*)$", src, re.M).group(1)
fields, order = {}, []
for m in re.finditer(r"^([A-Za-z-]+):(.*(?:\n[ \t].*)*)", binary, re.M):
    fields[m.group(1)] = m.group(2)
    order.append(m.group(1))
out = []
for k in order:
    v = fields[k]
    if k == "Architecture":
        out += ["Version: " + version, "Maintainer: " + maint, "Architecture: " + arch,
                "Installed-Size: " + size, "Section: " + section, "Priority: " + priority]
        continue
    if k in ("Depends", "Recommends", "Suggests"):
        items = [i.strip() for i in v.replace("\n", " ").split(",") if i.strip()]
        items = [shlibs if i == "${shlibs:Depends}" else i for i in items if i != "${misc:Depends}"]
        v = " " + ", ".join(i for i in items if i)
    out.append(k + ":" + v)
print("\n".join(out))
PY
# The user unit enabled for every user, the maintainer scripts with their
# snippets, the conffiles (every file under /etc): as dh does.
(cd "$work" && dh_installsystemduser -psinadur && dh_installdeb -psinadur) >/dev/null
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
	sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null

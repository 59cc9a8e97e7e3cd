#!/bin/sh
# run-gui-test.sh SCRIPT [ARGS] - runs a GUI test under a private X server (Xvfb)
# and a private session bus, where SCRIPT starts the AT-SPI bus and registry
# before the application (screen SDR_GUI_SCREEN, default 1280x1024x24). Skips (77)
# only when a tool is missing.
set -eu
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for tool in xvfb-run xauth dbus-run-session "$PY" import xdotool convert; do
	command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool" >&2; exit 77; }
done
for f in /usr/libexec/at-spi-bus-launcher /usr/libexec/at-spi2-registryd; do
	[ -x "$f" ] || { echo "missing $f (at-spi2-core)" >&2; exit 77; }
done
"$PY" -c 'import pyatspi' 2>/dev/null || { echo "missing python3-pyatspi" >&2; exit 77; }
unset DBUS_SESSION_BUS_ADDRESS NO_AT_BRIDGE WAYLAND_DISPLAY
exec xvfb-run -a -s "-screen 0 ${SDR_GUI_SCREEN:-1280x1024x24}" dbus-run-session -- "$PY" "$@"

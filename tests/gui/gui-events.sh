#!/bin/sh
# gui-events.sh - the program tests/pcsc/pcsc-rig.sh runs for the GUI's event test.
exec "$(dirname "$0")/run-gui-test.sh" "$(dirname "$0")/gui-events.py"

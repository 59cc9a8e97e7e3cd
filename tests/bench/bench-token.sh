#!/bin/sh
# bench-token.sh BENCH_BINARY - builds a SoftHSM fixture in a temporary folder,
# runs bench-token (in process vs pkcs11-tool) on it, cleans up.
set -eu
BIN=${1:?usage: bench-token.sh BENCH_BINARY}
ROOT=${SINADUR_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
mkdir -p "$HOME"
sh "$ROOT/tests/fixtures/softhsm-fixture.sh" "$T/fx" >/dev/null
# shellcheck disable=SC1091
. "$T/fx/env"
"$BIN" "$T/fx" "${BENCH_TOKEN_COUNT:-100}"

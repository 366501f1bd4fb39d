#!/usr/bin/env bash
# Quick start, command 2: install what is missing (test servers included), build, and run
# every test except the benchmarks (label "bench": run them with `ctest -L bench`).
# The end-to-end test starts its own Postfix and Dovecot on loopback and needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MT_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh" --test
"$root/scripts/build.sh"
cd "$build"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -LE bench -j"$(nproc)" "$@"

#!/usr/bin/env bash
# Configures and builds MailTriage into build/ (Release with debug info). Used by the two
# quick-start scripts; run it alone after changing code.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MT_BUILD_DIR:-$root/build}
# MAILTRIAGE_PUBLIC_DATA (environment): where the public test corpus lies (default
# ../shared/data/public next to the clone); .ci/run sets it. Passed on every run so that an
# existing build folder follows it too.
corpus=()
if [[ -n "${MAILTRIAGE_PUBLIC_DATA:-}" ]]; then
  corpus=(-DMAILTRIAGE_PUBLIC_DATA="$MAILTRIAGE_PUBLIC_DATA")
fi
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${corpus[@]}"
elif [[ ${#corpus[@]} -gt 0 ]]; then
  cmake -S "$root" -B "$build" "${corpus[@]}"
fi
cmake --build "$build" -j"$(nproc)"

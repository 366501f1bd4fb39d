#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and open the bundled demo case.
# With a display: the GUI on the demo case. Without one: the headless equivalent, which
# imports the demo data and prints the case summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MT_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"

demo="$root/resources/demo"
case_file="$build/demo.mtcase"
logs=("$demo"/*.log.gz)
# Rebuild the demo case from the bundled data each time, so it matches this build.
rm -f "$case_file" "$case_file-wal" "$case_file-shm" "$case_file.truth.json"
"$build/app/mailtriage-cli" import --case "$case_file" --org "$demo/org.csv" "${logs[@]}"
# The demo is a drill: its answer sits beside the case (Drill > Show truth in the GUI).
gzip -dc "$demo/truth.json.gz" > "$case_file.truth.json"

if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec "$build/app/mailtriage" --case "$case_file"
fi
echo
echo "No display: headless run. Summary of $case_file:"
"$build/app/mailtriage-cli" summary --case "$case_file"
echo
echo "First messages:"
"$build/app/mailtriage-cli" messages --case "$case_file" | head -n 6 | cut -c1-200
